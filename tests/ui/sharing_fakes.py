"""A stand-in for :mod:`sync.replica.service` (and the recovery sheet's PDF) for the sharing
dialogs' tests: the service's functions with answers the test chooses (its own dataclasses),
and a record of every call. Installed over the real module, so the UI is tested on its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from desktop.domain.errors import KairanError
from reports.pdf.fonts import GOTHIC
from reports.pdf.page import new_canvas
from sync.replica.service import DeviceRow, JoinRequest, ReviewItem, SharingInfo

WORDS = ["abandon", "ability", "able", "about", "above", "absent",
         "absorb", "abstract", "absurd", "abuse", "access", "accident"]
NEW_WORDS = ["zoo", "zone", "zero", "youth", "young", "yellow",
             "year", "wrong", "write", "wrist", "wreck", "wrap"]


def off() -> SharingInfo:
    """A file that is not shared."""
    return SharingInfo(False, "", 0, "", "", "", "", 0)


def on(**changes: Any) -> SharingInfo:
    """A shared file (with ``changes``)."""
    values: dict[str, Any] = {
        "enabled": True, "device_id": "dev-1", "key_gen": 1, "device_name": "会長宅のPC",
        "association_name": "桜町自治会", "clock_warning": "", "update_needed": "",
        "review_count": 0}
    values.update(changes)
    return SharingInfo(**values)


def devices() -> list[DeviceRow]:
    """Three PCs: this one, the treasurer's with 2 unsent changes, and a lost laptop."""
    seen = datetime(2026, 6, 1, 5, 30, tzinfo=UTC)
    return [
        DeviceRow("dev-1", "会長宅のPC", seen, 0, False, True, 1),
        DeviceRow("dev-2", "会計のPC", None, 2, False, False, 1),
        DeviceRow("dev-3", "なくしたノートPC", seen, 0, True, False, 1),
    ]


def reviews() -> list[ReviewItem]:
    """An overwritten phone number and a role given twice."""
    return [
        ReviewItem(uuid.UUID(int=1), "overwritten", "household", "0001 服部 修", "電話",
                   "090-1111-2222", "03-3333-4444", "会計のPC", 10),
        ReviewItem(uuid.UUID(int=2), "role_twice", "role", "会長", "", "服部 修",
                   "田中 一郎", "会計のPC", 11),
    ]


@dataclass
class FakeService:
    """The service's answers, and the calls made to it."""

    info: SharingInfo = field(default_factory=off)
    words: list[str] = field(default_factory=lambda: list(WORDS))
    codes: list[str] = field(default_factory=lambda: ["ABCDE-FGH12", "KLMNP-QRS34"])
    devices: list[DeviceRow] = field(default_factory=devices)
    reviews: list[ReviewItem] = field(default_factory=reviews)
    joined_path: Path = Path("joined.kairan")
    error: KairanError | None = None  # raised by the next call that can fail
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def _fail(self) -> None:
        error, self.error = self.error, None
        if error is not None:
            raise error

    def sharing_info(self, store: object) -> SharingInfo:
        self.calls.append(("sharing_info", store))
        return self.info

    def enable_sharing(self, store: object, *, progress: Callable[[int, int], None],
                       cancelled: Callable[[], bool]) -> list[str]:
        self.calls.append(("enable_sharing", store))
        progress(0, 2)
        self._fail()
        progress(2, 2)
        self.info = on()
        return list(self.words)

    def offer_key(self, store: object) -> str:
        self.calls.append(("offer_key", store))
        self._fail()
        return self.codes.pop(0)

    def join_association(self, request: JoinRequest, *, progress: Callable[[int, int], None],
                         cancelled: Callable[[], bool]) -> Path:
        self.calls.append(("join_association", request))
        progress(1, 3)
        self._fail()
        return request.folder / self.joined_path

    def list_devices(self, store: object) -> list[DeviceRow]:
        self.calls.append(("list_devices", store))
        self._fail()
        return list(self.devices)

    def revoke_device(self, store: object, *, device_id: str,
                      progress: Callable[[int, int], None],
                      cancelled: Callable[[], bool]) -> None:
        self.calls.append(("revoke_device", device_id))
        progress(1, 2)
        self._fail()
        self.devices = [DeviceRow(d.device_id, d.name, d.last_seen_at, d.pending,
                                  d.revoked or d.device_id == device_id, d.is_this_pc,
                                  d.app_schema) for d in self.devices]

    def new_recovery_sheet(self, store: object) -> list[str]:
        self.calls.append(("new_recovery_sheet", store))
        self._fail()
        return list(NEW_WORDS)

    def review_items(self, session: object) -> list[ReviewItem]:
        self.calls.append(("review_items", session))
        return list(self.reviews)

    def decide_review(self, session: object, *, review_id: uuid.UUID, choice: str) -> None:
        self.calls.append(("decide_review", (review_id, choice)))
        self._fail()
        self.reviews = [item for item in self.reviews if item.id != review_id]
        self.info = on(review_count=len(self.reviews))

    def called(self, name: str) -> list[Any]:
        """The arguments recorded for ``name``, in order."""
        return [argument for called, argument in self.calls if called == name]


SERVICE_FUNCTIONS = ("sharing_info", "enable_sharing", "offer_key", "join_association",
                     "list_devices", "revoke_device", "new_recovery_sheet", "review_items",
                     "decide_review")


def install(monkeypatch: pytest.MonkeyPatch, fake: FakeService) -> None:
    """Put ``fake``'s functions where the dialogs call them (``service.<name>``)."""
    from sync.replica import service

    for name in SERVICE_FUNCTIONS:
        monkeypatch.setattr(service, name, getattr(fake, name))


@dataclass
class SheetRecorder:
    """Stands in for ``recovery_sheet_pdf``: writes a one-page PDF and records the call."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, path: Path, *, association_name: str, words: Sequence[str],
                 relay_url: str, made_on: date) -> None:
        self.calls.append({"path": path, "association_name": association_name,
                           "words": list(words), "relay_url": relay_url, "made_on": made_on})
        canvas = new_canvas(str(path), title="復旧シート", author="test")
        canvas.setFont(GOTHIC, 20)
        canvas.drawString(80, 700, "復旧シート")
        canvas.showPage()
        canvas.save()

