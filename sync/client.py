"""The office PC's HTTPS client of the relay (wire protocol v1, :mod:`sync.protocol`).

TLS is always verified: against certifi's CA list, plus the CA file configured for a
self-hosted relay. Every request has explicit timeouts. Failures come out sorted for the
engine: :class:`RelayUnavailable` passes (network, timeouts, 429, 5xx: try again later, no
sooner than ``retry_after``); :class:`RelayRefused` does not (the relay said no: a bad
request, a revoked token); :class:`EpochChanged` says the relay's database was restored.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import certifi
import httpx

from desktop.domain.errors import KairanError
from desktop.i18n import _
from sync.backoff import parse_retry_after
from sync.protocol import (
    AFTER_FIELD,
    BATCH_FIELD,
    LOG_PATH,
    OPS_PATH,
    PAIR_PATH,
    RECOVERY_DEVICE_ID,
    RELEASE_PATH,
    REPLICA_CHUNK_PATH,
    REPLICA_COMPLETE_PATH,
    REPLICA_DEVICES_PATH,
    REPLICA_GRANTS_PATH,
    REPLICA_KEYS_PATH,
    REPLICA_PUBLIC_KEYS_PATH,
    REPLICA_REENCRYPT_PATH,
    REPLICA_REVOKE_PATH,
    REPLICA_SNAPSHOT_PATH,
    REPLICA_SNAPSHOTS_PATH,
    REPLICA_STATUS_PATH,
    REPLICA_TRANSFER_PATH,
    REPLICA_TRANSFERS_PATH,
    DeviceInfo,
    ErrorCode,
    Grant,
    LogPage,
    Op,
    OpResult,
    PairRequest,
    PairResponse,
    ReencryptItem,
    ReleaseInfo,
    ReplicaStatus,
    SnapshotMeta,
    Transfer,
    replica_path,
)

CONNECT_SECONDS = 10.0
READ_SECONDS = 30.0
WRITE_SECONDS = 30.0
POOL_SECONDS = 10.0
REACHABLE_SECONDS = 3.0
_JSON_HEADERS = {"Content-Type": "application/json"}


class RelayError(KairanError):
    """The relay could not be used for this request."""


class RelayUnavailable(RelayError):
    """A passing failure: the relay or the network is down or busy; try again later.

    ``offline`` when the relay could not be reached at all (the network may come back);
    ``retry_after`` in seconds when the relay said how long to wait.
    """

    def __init__(self, message: str, *, offline: bool, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.offline = offline
        self.retry_after = retry_after
        self.status = status


class RelayRefused(RelayError):
    """The relay refused the request itself (4xx): trying it again as it is will not help."""

    def __init__(self, message: str, *, status: int, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class StaleKey(RelayRefused):
    """409 ``stale_key``: the association's key generation is ``key_gen``, not the one this
    PC used (0: the association has no key yet). Fetch the new key, then try again."""

    def __init__(self, message: str, *, key_gen: int) -> None:
        super().__init__(message, status=409, code=ErrorCode.STALE_KEY.value)
        self.key_gen = key_gen


class EpochChanged(RelayError):
    """The relay's database is not the one this PC synced with (restored or replaced)."""

    def __init__(self, epoch: str) -> None:
        super().__init__(_("The relay was restored or replaced; everything is read again."))
        self.epoch = epoch


def normalise_relay_url(text: str) -> str:
    """``https://relay.example.jp`` from what the officer typed; :class:`KairanError` when it
    is not an https address (the token must never travel unencrypted)."""
    url = text.strip().rstrip("/")
    if url and "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise KairanError(
            _("「{address}」 is not a relay address. Type the address the relay's administrator "
              "gave you, starting with https://.").format(address=text.strip()))
    return url


def tls_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """A verifying TLS context: certifi's CAs, plus ``ca_file`` for a self-hosted relay."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file:
        path = Path(ca_file)
        try:
            context.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as error:
            raise KairanError(
                _("The CA certificate file {file} could not be read ({error}). Choose the "
                  "certificate file (.pem) the relay's administrator gave you.").format(
                    file=path, error=error)) from error
    return context


def _is_certificate_problem(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class RelayClient:
    """Talks to one relay; ``token`` is the device token (None only for pairing)."""

    def __init__(
        self,
        relay_url: str,
        *,
        token: str | None = None,
        ca_file: str | Path | None = None,
        tls: ssl.SSLContext | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self.relay_url = normalise_relay_url(relay_url)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.relay_url,
            headers=headers,
            verify=tls if tls is not None else tls_context(ca_file),
            timeout=timeout or httpx.Timeout(connect=CONNECT_SECONDS, read=READ_SECONDS,
                                             write=WRITE_SECONDS, pool=POOL_SECONDS),
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> RelayClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ requests

    @contextmanager
    def _transport_errors(self) -> Iterator[None]:
        try:
            yield
        except httpx.TransportError as error:
            if _is_certificate_problem(error):
                raise RelayUnavailable(
                    _("The relay's certificate could not be verified, so nothing was sent to "
                      "{relay}. If the relay is your association's own, choose its CA "
                      "certificate file when connecting; otherwise ask its administrator.")
                    .format(relay=self.relay_url), offline=False) from error
            if isinstance(error, httpx.TimeoutException):
                text = _("The relay {relay} did not answer in time. Kairan tries again "
                         "later by itself.")
            else:
                text = _("The relay {relay} cannot be reached (is this PC offline?). Kairan "
                         "tries again by itself when the network is back.")
            raise RelayUnavailable(text.format(relay=self.relay_url), offline=True) from error

    def _request(self, method: str, path: str, *, json: Any = None,
                 params: Mapping[str, str | int] | None = None,
                 content: bytes | None = None) -> Any:
        headers = _JSON_HEADERS if content is not None else None
        with self._transport_errors():
            response = self._http.request(method, path, json=json, params=params,
                                          content=content, headers=headers)
            content = response.content  # read inside: a dropped body is a passing failure
        status = response.status_code
        if status == 200:
            try:
                return response.json()
            except ValueError as error:
                raise RelayUnavailable(
                    _("The relay {relay} sent an answer that is not JSON. Kairan tries again "
                      "later.").format(relay=self.relay_url), offline=False, status=status
                ) from error
        data = _json_or_empty(content)
        if status == 409 and "epoch" in data:
            raise EpochChanged(str(data["epoch"]))
        if status == 409 and data.get("error") == ErrorCode.STALE_KEY.value:
            raise StaleKey(_refusal(status, data, self.relay_url),
                           key_gen=_int_or_zero(data.get("key_gen")))
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429 or status >= 500:
            text = (_("The relay {relay} is busy and asked to wait. Kairan tries again by "
                      "itself.") if status == 429 else
                    _("The relay {relay} has a problem (HTTP {status}). Kairan tries again "
                      "later by itself."))
            raise RelayUnavailable(text.format(relay=self.relay_url, status=status),
                                   offline=False, retry_after=retry_after, status=status)
        raise RelayRefused(_refusal(status, data, self.relay_url), status=status,
                           code=str(data.get("error", "")))

    def pair(self, *, code: str, device_name: str) -> PairResponse:
        """Exchange a one-time pairing code for this PC's device token."""
        data = self._request("POST", PAIR_PATH,
                             json=PairRequest(code=code, device_name=device_name).to_json())
        return PairResponse.from_json(data)

    def push(self, ops: Sequence[Op]) -> list[OpResult]:
        """Send operations; the relay's result for each, in the same order."""
        data = self._request("POST", OPS_PATH, json={"ops": [op.to_json() for op in ops]})
        return [OpResult.from_json(item) for item in data["results"]]

    def chained_push(self, ops: Sequence[str], *, batch: str, after: str | None
                     ) -> list[OpResult]:
        """Send operations, each as the JSON text of its object (``{"id":…,"kind":…,
        "body":…}``), as batch ``batch`` (a UUID), to be applied only after the batch
        ``after`` this PC sent before (None: the first of a chain). The engine keeps several
        chained batches in flight, from several threads over this client's connection pool.
        The relay answers 409 ``out_of_order`` (a :class:`RelayRefused`) and applies nothing
        when ``after`` is unknown to it or was refused."""
        chain = f',"{BATCH_FIELD}":"{batch}"'
        if after is not None:
            chain += f',"{AFTER_FIELD}":"{after}"'
        body = f'{{"ops":[{",".join(ops)}]{chain}}}'.encode()
        data = self._request("POST", OPS_PATH, content=body)
        return [OpResult.from_json(item) for item in data["results"]]

    def pull(self, *, after: int, limit: int, epoch: str) -> LogPage:
        """The log items after ``after``; :class:`EpochChanged` when ``epoch`` is stale."""
        params: dict[str, str | int] = {"after": after, "limit": limit}
        if epoch:
            params["epoch"] = epoch
        return LogPage.from_json(self._request("GET", LOG_PATH, params=params))

    def latest_release(self) -> ReleaseInfo | None:
        """The newest Kairan release the relay's operator recorded, or None when it records
        none (or is older than release announcements: 404). Only the device token is sent."""
        try:
            data = self._request("GET", RELEASE_PATH)
        except RelayRefused as refused:
            if refused.status == 404:
                return None
            raise
        return ReleaseInfo.from_json(data)

    # ------------------------------------------------------------ replication between PCs

    def replica_status(self, pending: int, schema: int,
                       public_key: str | None = None) -> ReplicaStatus:
        """Report this PC's unsent changes, its program's schema and (once) its public key;
        the relay's clock, the association's key generation, schema and latest snapshot."""
        body: dict[str, Any] = {"pending": pending, "schema": schema}
        if public_key is not None:
            body["public_key"] = public_key
        return ReplicaStatus.from_json(self._request("POST", REPLICA_STATUS_PATH, json=body))

    def devices(self) -> list[DeviceInfo]:
        """The association's office PCs, oldest first (revoked ones too)."""
        data = self._request("GET", REPLICA_DEVICES_PATH)
        return [DeviceInfo.from_json(item) for item in data["devices"]]

    def revoke_device(self, device_id: str) -> None:
        """Withdraw another PC's access at once (its token stops working)."""
        self._request("POST", replica_path(REPLICA_REVOKE_PATH, device_id=device_id))

    def publish_keys(self, key_gen: int, grants: Sequence[Grant]) -> None:
        """Make ``key_gen`` (the current generation + 1) the association's key, with the
        grants for each PC and the recovery sheet; :class:`StaleKey` when another PC was
        first."""
        if any(grant.key_gen not in (0, key_gen) for grant in grants):
            raise ValueError("every grant must be of the generation being published")
        self._request("POST", REPLICA_KEYS_PATH, json={
            "key_gen": key_gen,
            "grants": [{"device_id": g.device_id, "wrapped": g.wrapped} for g in grants]})

    def add_grants(self, grants: Sequence[Grant]) -> None:
        """Add or replace grants of existing key generations."""
        self._request("POST", REPLICA_GRANTS_PATH,
                      json={"grants": [grant.to_json() for grant in grants]})

    def grants(self, recovery: bool = False) -> list[Grant]:
        """This PC's grants, or the recovery sheet's, oldest generation first."""
        params = {"device": RECOVERY_DEVICE_ID} if recovery else None
        data = self._request("GET", REPLICA_GRANTS_PATH, params=params)
        return [Grant.from_json(item) for item in data["grants"]]

    def public_keys(self) -> dict[str, str]:
        """Device id → public key of the association's live PCs that registered one."""
        data = self._request("GET", REPLICA_PUBLIC_KEYS_PATH)
        return {str(d["device_id"]): str(d["public_key"]) for d in data["devices"]}

    def post_transfer(self, blob: str) -> str:
        """Leave a key ring sealed with a transfer code for a new PC; its transfer id."""
        data = self._request("POST", REPLICA_TRANSFERS_PATH, json={"blob": blob})
        return str(data["transfer_id"])

    def transfers(self) -> list[Transfer]:
        """The association's live key transfers, newest first."""
        data = self._request("GET", REPLICA_TRANSFERS_PATH)
        return [Transfer.from_json(item) for item in data["transfers"]]

    def delete_transfer(self, transfer_id: str) -> None:
        """Remove a key transfer (nothing happens when it is gone already)."""
        self._request("DELETE", replica_path(REPLICA_TRANSFER_PATH, transfer_id=transfer_id))

    def begin_snapshot(self, meta: SnapshotMeta) -> None:
        """Start uploading a snapshot made with the current key generation."""
        body = meta.to_json()
        del body["created_at"]
        self._request("POST", REPLICA_SNAPSHOTS_PATH, json=body)

    def put_chunk(self, snapshot_id: str, idx: int, data: str) -> None:
        """Store one chunk of a snapshot being uploaded."""
        self._request("PUT", replica_path(REPLICA_CHUNK_PATH, snapshot_id=snapshot_id, idx=idx),
                      json={"data": data})

    def complete_snapshot(self, snapshot_id: str) -> None:
        """Mark a snapshot complete once all its chunks are stored."""
        self._request("POST", replica_path(REPLICA_COMPLETE_PATH, snapshot_id=snapshot_id))

    def latest_snapshot(self) -> SnapshotMeta | None:
        """The association's newest complete snapshot, or None when it has none."""
        try:
            data = self._request("GET", REPLICA_SNAPSHOT_PATH)
        except RelayRefused as refused:
            if refused.status == 404:
                return None
            raise
        return SnapshotMeta.from_json(data)

    def get_chunk(self, snapshot_id: str, idx: int) -> str:
        """One chunk of a snapshot."""
        data = self._request("GET", replica_path(REPLICA_CHUNK_PATH, snapshot_id=snapshot_id,
                                                 idx=idx))
        return str(data["data"])

    def reencrypt(self, items: Sequence[ReencryptItem]) -> int:
        """Replace stored replica items with ones encrypted with the current key generation;
        how many the relay replaced."""
        data = self._request("POST", REPLICA_REENCRYPT_PATH,
                             json={"items": [item.to_json() for item in items]})
        return int(data["replaced"])


def _json_or_empty(content: bytes) -> dict[str, Any]:
    import json

    try:
        data = json.loads(content) if content else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _int_or_zero(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _refusal(status: int, data: Mapping[str, Any], relay: str) -> str:
    if status == 401:
        return _("The relay {relay} no longer accepts this PC (its access was withdrawn). "
                 "Connect to the relay again with a new pairing code from its administrator."
                 ).format(relay=relay)
    if status == 403:
        return _("The relay {relay} refused: this access key is not an office PC's. Connect "
                 "again with an office pairing code.").format(relay=relay)
    if data.get("error") == "pairing_code":
        return _("The pairing code was not accepted: it is mistyped, already used or expired. "
                 "Ask the relay's administrator for a new code.")
    if status == 413:
        return _("The relay {relay} refused the data as too large.").format(relay=relay)
    detail = str(data.get("message") or data.get("error") or "")
    return _("The relay {relay} refused the request (HTTP {status}). {detail}").format(
        relay=relay, status=status, detail=detail).strip()


def reachable(relay_url: str, *, timeout: float = REACHABLE_SECONDS) -> bool:
    """Whether a TCP connection to the relay opens (a cheap check that the network is back;
    nothing is sent)."""
    import socket

    parts = urlsplit(relay_url)
    host, port = parts.hostname, parts.port or 443
    if not host:
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
