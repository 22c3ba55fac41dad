"""The association's tables: the one place the schema is written down.

Alembic migrations (``desktop/store/migrations``) are generated from these classes; the app
never builds tables from these classes directly. Ids are UUIDv7 made on the device.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Enum,
    Index,
    LargeBinary,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from desktop.domain.ids import uuid7
from desktop.domain.meeting.tally import EntryKind, Source

# Stable constraint names, so batch migrations can find and alter them on SQLite.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MAX_HOUSEHOLD_EMAILS = 4
MAX_APP_MEMBERS = 4


class NoticeChannel(enum.StrEnum):
    """How a household receives the association's notices."""

    APP = "app"
    EMAIL = "email"
    PAPER = "paper"


class GroupKind(enum.StrEnum):
    """地区 (a district of several 班) or 班/組 (the households that share a 回覧板)."""

    DISTRICT = "district"
    HAN = "han"


class RoleScope(enum.StrEnum):
    """A role held for the whole association (会長) or for each 班 (班長)."""

    ASSOCIATION = "association"
    GROUP = "group"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


_EMPTY = {"server_default": text("''")}  # a text column added to a table with rows


def _stored_by_value(enum_class: type[enum.StrEnum]) -> Enum:
    """Store an enum as its lower-case value in a plain text column (no CHECK to migrate)."""
    return Enum(
        enum_class,
        values_callable=lambda members: [member.value for member in members],
        native_enum=False,
        length=20,
    )


class Association(SQLModel, table=True):
    """The association this file belongs to (exactly one row)."""

    __tablename__ = "association"
    __table_args__ = (
        CheckConstraint(
            "fiscal_year_start_month BETWEEN 1 AND 12", name="fiscal_year_start_month"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    name: str
    fiscal_year_start_month: int = 4
    created_at: datetime = Field(default_factory=_now)
    # Why the association keeps personal data (個人情報の利用目的): resident page and forms.
    purpose_statement: str = Field(default="", sa_column_kwargs={"server_default": text("''")})
    retention_months: int | None = None  # withdrawn households are purged after; None = kept


class RosterGroup(SQLModel, table=True):
    """A 地区 or a 班, as a tree (a single level of 班 is the common case)."""

    __tablename__ = "roster_group"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="roster_group.id", index=True)
    name: str
    kind: GroupKind = Field(default=GroupKind.HAN, sa_type=_stored_by_value(GroupKind))
    position: int = 0


class Household(SQLModel, table=True):
    """A 世帯: the unit that receives notices, pays dues and usually votes."""

    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("number"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    number: str  # 世帯番号 as the association writes it
    display_name: str
    furigana: str = ""
    furigana_key: str = Field(default="", index=True)  # 50音順 sort key (derived)
    postal_code: str = ""
    address: str = ""
    phone: str = ""
    channel: NoticeChannel = Field(
        default=NoticeChannel.PAPER, sa_type=_stored_by_value(NoticeChannel)
    )
    emails: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    group_id: uuid.UUID | None = Field(default=None, foreign_key="roster_group.id", index=True)
    circulation_order: int = 0  # position on the 班's 回覧板 route
    joined_on: date | None = None
    left_on: date | None = None  # set when the household withdrew (退会)
    exempt_han_leader: bool = False  # 班長免除 (高齢など)
    exempt_duties: bool = False  # 役員免除
    notes: str = ""
    search_text: str = ""  # folded text of the household and its members (derived)
    member_count: int = 0  # derived, so the 50,000-row roster loads without counting
    updated_at: datetime = Field(default_factory=_now)


class Member(SQLModel, table=True):
    """A person in a household."""

    __tablename__ = "member"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    household_id: uuid.UUID = Field(foreign_key="household.id", index=True, ondelete="CASCADE")
    name: str
    furigana: str = ""
    relation: str = ""  # 続柄
    is_head: bool = False
    phone: str = ""
    email: str = ""
    app_access: bool = False  # the household wants app access for this member (intent only)
    position: int = 0
    notes: str = ""


class Role(SQLModel, table=True):
    """An office such as 会長 or 班長; the list is the association's own."""

    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("name"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    name: str
    scope: RoleScope = Field(
        default=RoleScope.ASSOCIATION, sa_type=_stored_by_value(RoleScope)
    )
    max_holders: int | None = 1  # per association (or per 班 for group roles); None = any
    position: int = 0
    # The bylaws require it filled: a vacancy is warned about at the handover.
    required: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


class RoleAssignment(SQLModel, table=True):
    """Who holds a role in one association year (年度), and for which 班 if per 班."""

    __tablename__ = "role_assignment"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    role_id: uuid.UUID = Field(foreign_key="role.id", index=True)
    year: int = Field(index=True)  # 年度, named by the western year it starts in
    member_id: uuid.UUID = Field(foreign_key="member.id", index=True)
    group_id: uuid.UUID | None = Field(default=None, foreign_key="roster_group.id")
    created_at: datetime = Field(default_factory=_now)


class ImportMapping(SQLModel, table=True):
    """The column mapping an officer confirmed for a spreadsheet layout, reused next time."""

    __tablename__ = "import_mapping"

    signature: str = Field(primary_key=True)  # the header titles of the file, joined
    columns: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=_now)


# ---------------------------------------------------------------- circulars (回覧・お知らせ)


class Ask(enum.StrEnum):
    """What a circular asks of the reader."""

    NOTHING = "nothing"
    READ = "read"  # 確認: the reader confirms having read it
    ATTENDANCE = "attendance"  # 出席/欠席
    SURVEY = "survey"  # up to ten short questions


class TargetKind(enum.StrEnum):
    """Who a circular is for: everyone, chosen 班 (or 地区), or the holders of a role."""

    ALL = "all"
    GROUPS = "groups"
    ROLE = "role"


class CircularStatus(enum.StrEnum):
    """A draft can still change; a sent circular is fixed, with its recipients frozen."""

    DRAFT = "draft"
    SENT = "sent"


class ReplyChannel(enum.StrEnum):
    """How an answer reached the association."""

    PAPER = "paper"
    APP = "app"
    EMAIL = "email"
    PHONE = "phone"
    IN_PERSON = "in_person"


class AttachmentKind(enum.StrEnum):
    """An attached picture, PDF document, or a map printed with the circular."""

    IMAGE = "image"
    PDF = "pdf"
    MAP = "map"


class Circular(SQLModel, table=True):
    """A 回覧 or お知らせ, written once and sent to its households by their own channels."""

    __tablename__ = "circular"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    title: str
    body: str = ""  # light markup: "# " headings, "- " bullets, "1. " numbered, blank lines
    issued_on: date = Field(index=True)
    issuer: str = ""  # as printed, e.g. 会長 山田 太郎
    map_url: str = ""
    target_kind: TargetKind = Field(
        default=TargetKind.ALL, sa_type=_stored_by_value(TargetKind)
    )
    # Hex ids of the chosen 班/地区; a list, not a link table: it only matters until sending.
    target_group_ids: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # A draft aimed at a role that is later deleted just loses its target.
    target_role_id: uuid.UUID | None = Field(
        default=None, foreign_key="role.id", ondelete="SET NULL"
    )
    ask: Ask = Field(default=Ask.NOTHING, sa_type=_stored_by_value(Ask))
    # [{"text": ..., "kind": "choice" | "text", "choices": [...]}] for surveys.
    questions: list[dict[str, object]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    deadline: date | None = None
    status: CircularStatus = Field(
        default=CircularStatus.DRAFT, sa_type=_stored_by_value(CircularStatus)
    )
    sent_at: datetime | None = None
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


class CircularAttachment(SQLModel, table=True):
    """An image, map or PDF printed with a circular (stored in the file: it travels with it)."""

    __tablename__ = "circular_attachment"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    circular_id: uuid.UUID = Field(
        foreign_key="circular.id", index=True, ondelete="CASCADE"
    )
    kind: AttachmentKind = Field(sa_type=_stored_by_value(AttachmentKind))
    file_name: str
    media_type: str  # image/jpeg, image/png or application/pdf
    data: bytes = Field(sa_type=LargeBinary)
    page_count: int = 1
    position: int = 0
    created_at: datetime = Field(default_factory=_now)


class CircularRecipient(SQLModel, table=True):
    """A household a sent circular went to, frozen at sending with its 班 and route place.

    Later moves or renames do not change who received what, or the 回覧板 route printed.
    """

    __tablename__ = "circular_recipient"

    circular_id: uuid.UUID = Field(
        foreign_key="circular.id", primary_key=True, ondelete="CASCADE"
    )
    household_id: uuid.UUID = Field(
        foreign_key="household.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    # No foreign key: an emptied 班 may be deleted later; its name stays on record here.
    group_id: uuid.UUID | None = None
    group_name: str = ""
    group_order: int = 0  # the 班's place in the group tree at sending
    circulation_order: int = 0
    channel: NoticeChannel = Field(
        default=NoticeChannel.PAPER, sa_type=_stored_by_value(NoticeChannel)
    )


class Reply(SQLModel, table=True):
    """A household's answer to a circular, whichever way it came (paper, app, e-mail…).

    One current answer per household and circular; a correction replaces it.
    """

    __tablename__ = "reply"
    __table_args__ = (UniqueConstraint("circular_id", "household_id"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    circular_id: uuid.UUID = Field(foreign_key="circular.id", ondelete="CASCADE")
    household_id: uuid.UUID = Field(
        foreign_key="household.id", index=True, ondelete="CASCADE"
    )
    answers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    channel: ReplyChannel = Field(sa_type=_stored_by_value(ReplyChannel))
    received_at: datetime
    updated_at: datetime = Field(default_factory=_now)


# ---------------------------------------------------------------- the general meeting (総会)


class MeetingRules(SQLModel, table=True):
    """The association's rules for its general meetings (one row, id 1), as
    ``Rules.as_dict()`` writes them; a new meeting starts with a copy."""

    __tablename__ = "meeting_rules"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(default=1, primary_key=True)
    rules: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=_now)


class Meeting(SQLModel, table=True):
    """A general meeting (総会): its date and place, the record date of its voter list, and
    its own copy of the rules (changing the association's rules later leaves it alone)."""

    __tablename__ = "meeting"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    title: str
    held_on: date = Field(index=True)
    place: str = ""
    record_date: date  # the voter list is the roster of this day (基準日)
    rules: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    chair_key: str | None = None  # the voter chairing (議長), a key of its voter list
    forms_printed_at: datetime | None = None  # the first printing of the forms
    created_at: datetime = Field(default_factory=_now)
    # Residents may send attendance, proxy and written vote on the relay's page (issue 6);
    # the server default gives meetings made before this column their paper-only past.
    online_forms: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


class MeetingItem(SQLModel, table=True):
    """One agenda item (議案); ``position`` is its index on the agenda, from 0, which is also
    its place in every written vote's answers."""

    __tablename__ = "meeting_item"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    meeting_id: uuid.UUID = Field(foreign_key="meeting.id", index=True, ondelete="CASCADE")
    position: int
    title: str
    majority: dict[str, object] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    added_after_forms: bool = False  # not on the written-vote forms already printed
    created_at: datetime = Field(default_factory=_now)


class MeetingVoter(SQLModel, table=True):
    """One vote on a meeting's voter list: the roster of the record date, frozen.

    ``key`` is the household's id (one vote per household) or the member's id (one per
    member), as 32 hex digits. No foreign keys: the list is a record, and a household purged
    later stays on it with its number and name.
    """

    __tablename__ = "meeting_voter"
    # The tally reads a whole list in order: a range of this index, no sort.
    __table_args__ = (Index("ix_meeting_voter_position", "meeting_id", "position"),)

    meeting_id: uuid.UUID = Field(foreign_key="meeting.id", primary_key=True, ondelete="CASCADE")
    key: str = Field(primary_key=True)
    household_id: uuid.UUID
    member_id: uuid.UUID | None = None
    number: str = Field(index=True)  # 世帯番号
    name: str
    group_name: str = ""
    group_position: int = 0  # the 班's place in the group tree (0: in no 班)
    circulation_order: int = 0
    position: int = 0  # the voter's place on the list: 班 order, route, member order


class MeetingEntry(SQLModel, table=True):
    """One entry typed for one voter. Append-only: a correction is a later entry and a
    mistake is voided by a ``cancel`` entry naming its ``sequence``; rows never change."""

    __tablename__ = "meeting_entry"
    __table_args__ = (UniqueConstraint("meeting_id", "sequence"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    meeting_id: uuid.UUID = Field(foreign_key="meeting.id", ondelete="CASCADE")
    sequence: int  # the entry's number in its meeting, increasing as typed
    voter_key: str = Field(index=True)
    kind: EntryKind = Field(sa_type=_stored_by_value(EntryKind))
    holder_key: str | None = None  # a proxy's holder; None: blank proxy (白紙委任)
    votes: list[int | None] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: Source = Field(default=Source.FORM, sa_type=_stored_by_value(Source))
    cancels: int | None = None  # the sequence a cancel voids
    entered_at: datetime
    entered_by: str = ""


class MeetingFloorVote(SQLModel, table=True):
    """A show of hands (挙手) on one item, counted on the day; a recount is a new row."""

    __tablename__ = "meeting_floor_vote"
    __table_args__ = (UniqueConstraint("meeting_id", "sequence"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    meeting_id: uuid.UUID = Field(foreign_key="meeting.id", ondelete="CASCADE")
    item_index: int
    for_: int
    against: int = 0
    abstain: int = 0
    sequence: int
    entered_at: datetime
    entered_by: str = ""


# ---------------------------------------------------------------- sync with the relay (同期)


class OutboxState(enum.StrEnum):
    """A queued change still to be sent, or one the relay refused (listed in 同期の問題)."""

    PENDING = "pending"
    REJECTED = "rejected"
    SENT = "sent"  # a shared roster change the relay took, kept until it comes back in the log


class OutboxOp(SQLModel, table=True):
    """A change waiting to reach the relay, written in the same transaction as the change.

    ``id`` is the operation's idempotency key on the relay. ``position`` keeps the order the
    changes were made in: UUIDv7 made within one millisecond are not ordered, and a
    household must reach the relay before the circular that names it.
    """

    __tablename__ = "outbox_op"
    __table_args__ = (
        UniqueConstraint("position"),
        Index("ix_outbox_op_state_position", "state", "position"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    position: int
    kind: str
    body: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=_now)
    state: OutboxState = Field(
        default=OutboxState.PENDING, sa_type=_stored_by_value(OutboxState)
    )
    attempts: int = 0  # sending attempts that failed for a passing reason (network, 5xx, 429)
    next_attempt_at: datetime | None = None
    error_code: str = ""
    error_message: str = ""


class SyncState(SQLModel, table=True):
    """This file's pairing with the relay (one row, id 1); no row: not paired, nothing queued.

    The device token is not here: it lives in the OS keyring only.
    """

    __tablename__ = "sync_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(default=1, primary_key=True)
    relay_url: str
    association_id: str
    association_name: str = ""
    device_name: str = ""
    epoch: str = ""  # the relay database's identity; a change means it was restored
    cursor: int = 0  # the last log sequence number applied here
    ca_file: str = ""  # a CA certificate file for a self-hosted relay ("" = the usual CAs)
    paired_at: datetime = Field(default_factory=_now)
    last_push_at: datetime | None = None
    last_pull_at: datetime | None = None
    last_error: str = ""
    # Sharing the roster with the association's other office PCs (end-to-end encrypted).
    device_id: str = Field(default="", sa_column_kwargs=_EMPTY)  # this PC's id on the relay
    # The replication triggers record changes (sharing is on).
    replica_capture: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    # The newest generation of the association key this PC holds.
    key_gen: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # New key generations are wrapped for the recovery sheet too.
    recovery_public_key: str = Field(default="", sa_column_kwargs=_EMPTY)
    clock_skew_seconds: int | None = None  # this PC's clock minus the relay's, last sync
    # Shared changes up to here came with the snapshot this PC started from (not applied
    # again when the log is pulled from its start for the residents' answers).
    snapshot_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Set when another PC shares with a newer Kairan: what to tell the officer.
    update_needed: str = Field(default="", sa_column_kwargs=_EMPTY)


class CircularRead(SQLModel, table=True):
    """A household has read a circular (on the resident page): the first time counts."""

    __tablename__ = "circular_read"

    circular_id: uuid.UUID = Field(
        foreign_key="circular.id", primary_key=True, ondelete="CASCADE"
    )
    household_id: uuid.UUID = Field(
        foreign_key="household.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    read_at: datetime
    channel: ReplyChannel = Field(default=ReplyChannel.APP, sa_type=_stored_by_value(ReplyChannel))


class MailEvent(enum.StrEnum):
    """What became of a mail to one address, as the relay reports it (``mail`` log items)."""

    SENT = "sent"  # the SMTP server took it
    FAILED = "failed"  # given up after retries (temporary trouble that did not pass)
    BOUNCED = "bounced"  # refused for good: the relay does not mail the address again
    UNSUBSCRIBED = "unsubscribed"  # the household pressed the stop link
    OPENED = "opened"  # the personal link in the mail was opened


class MailProblemKind(enum.StrEnum):
    """Why an address of a household gets no more mail until the officer acts."""

    BOUNCED = "bounced"
    UNSUBSCRIBED = "unsubscribed"


class MailDelivery(SQLModel, table=True):
    """The latest thing the relay reported about the mail of one circular to one address of
    a household (``circular_id`` None: not about a circular — a safety check, a stop).

    Not shared between office PCs: each pulls the same log from the relay and fills its own.
    ``address`` is "" for what concerns the household rather than one address (its personal
    link opened, every address stopped). Looked up by (circular, household, address); no
    unique constraint, since SQLite lets NULL circulars repeat anyway: :mod:`sync.apply`
    updates the row it finds.
    """

    __tablename__ = "mail_delivery"
    __table_args__ = (
        Index("ix_mail_delivery_key", "circular_id", "household_id", "address"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    circular_id: uuid.UUID | None = Field(
        default=None, foreign_key="circular.id", ondelete="CASCADE"
    )
    household_id: uuid.UUID = Field(
        foreign_key="household.id", index=True, ondelete="CASCADE"
    )
    address: str = ""
    event: MailEvent = Field(sa_type=_stored_by_value(MailEvent))
    detail: str = ""  # the SMTP server's answer or the reason, as the relay wrote it
    at: datetime


class MailProblem(SQLModel, table=True):
    """An address of a household that the relay no longer mails (bounced, or the household
    stopped the mails), shown in the household editor until the officer switches the
    household to another way or changes the address (which removes the row). Not shared
    between office PCs, like :class:`MailDelivery`."""

    __tablename__ = "mail_problem"

    household_id: uuid.UUID = Field(
        foreign_key="household.id", primary_key=True, ondelete="CASCADE"
    )
    address: str = Field(primary_key=True)
    problem: MailProblemKind = Field(sa_type=_stored_by_value(MailProblemKind))
    detail: str = ""
    at: datetime


class SafetyStatus(enum.StrEnum):
    """A household's answer to the safety check (安否確認)."""

    OK = "ok"  # 問題なし
    CONTACT = "contact"  # 連絡要
    URGENT = "urgent"  # 至急支援要


class DisasterEvent(SQLModel, table=True):
    """One time disaster mode (災害モード) was switched on; ``ended_at`` once switched off.

    Events are never deleted: switching back keeps the record.
    """

    __tablename__ = "disaster_event"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    message: str = ""
    started_at: datetime = Field(index=True)
    ended_at: datetime | None = None
    started_by: str = ""


class SafetyAnswer(SQLModel, table=True):
    """One safety answer of a household: from the resident page, or entered by an officer who
    phoned or called at the door. The newest answer of a household is its state."""

    __tablename__ = "safety_answer"
    # The board reads the newest answer of each household since the event started.
    __table_args__ = (Index("ix_safety_answer_household_at", "household_id", "at"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)  # the relay's answer_id
    household_id: uuid.UUID = Field(foreign_key="household.id", ondelete="CASCADE")
    status: SafetyStatus = Field(sa_type=_stored_by_value(SafetyStatus))
    note: str = ""
    needs_help: bool = False  # someone at home needs help (to move, medical care…)
    channel: ReplyChannel = Field(sa_type=_stored_by_value(ReplyChannel))
    at: datetime = Field(index=True)
    entered_by: str = ""


# ---------------------------------------------------------------- handover, profiles, audit


class RoleConflict(SQLModel, table=True):
    """Two roles one person should not hold in the same year (e.g. 会長 and 会計), stored
    once per pair with ``role_id`` < ``other_role_id``."""

    __tablename__ = "role_conflict"
    __table_args__ = (CheckConstraint("role_id < other_role_id", name="ordered_pair"),)

    role_id: uuid.UUID = Field(foreign_key="role.id", primary_key=True, ondelete="CASCADE")
    other_role_id: uuid.UUID = Field(
        foreign_key="role.id", primary_key=True, ondelete="CASCADE"
    )


class Handover(SQLModel, table=True):
    """The annual officer handover (役員交代) into ``year``: done once per year."""

    __tablename__ = "handover"

    year: int = Field(primary_key=True)  # the new 年度
    from_year: int
    starts_on: date
    ends_on: date
    done_at: datetime = Field(default_factory=_now)
    done_by: str = ""  # the officer profile's name


class HandoverMemo(SQLModel, table=True):
    """A note for the successor (引継ぎメモ), per role or for the whole office."""

    __tablename__ = "handover_memo"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    year: int = Field(index=True)  # the year whose successor reads it (the new 年度)
    role_id: uuid.UUID | None = Field(default=None, foreign_key="role.id", ondelete="SET NULL")
    text: str
    written_by: str = ""
    written_at: datetime = Field(default_factory=_now)


class OfficerProfile(SQLModel, table=True):
    """Whoever uses the PC says who they are; changes are recorded under this name."""

    __tablename__ = "officer_profile"

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    name: str
    pin_hash: str = ""  # scrypt of the optional PIN ("" = no PIN), "salt$hash" in hex
    active: bool = True  # retired profiles stay, so old audit records keep their name
    created_at: datetime = Field(default_factory=_now)


class AuditRecord(SQLModel, table=True):
    """One recorded change: append-only and hash-chained (``hash`` covers the record and the
    previous record's hash), so an edited, deleted or reordered record is detected."""

    __tablename__ = "audit_record"

    seq: int = Field(primary_key=True)  # 1, 2, 3 … in the order the changes were made
    at: datetime  # no index: the history reads by seq; an import writes 50,000 at once
    actor: str = ""  # the profile's name at the time
    profile_id: uuid.UUID | None = None  # no foreign key: the record outlives the profile
    action: str  # insert / update / delete
    entity: str  # the table: household, member, role_assignment, circular …
    entity_id: str
    household_id: uuid.UUID | None = Field(default=None, index=True)  # for the household view
    summary: str = ""  # what the history list shows (e.g. 世帯 12 山田)
    changes: dict[str, object] = Field(default_factory=dict,
                                       sa_column=Column(JSON, nullable=False))  # field: [old, new]
    # The chain covers the digest of ``changes``, not the values themselves, so the purge of a
    # withdrawn household can blank its personal values (``redacted_at``) without breaking it.
    changes_digest: str
    redacted_at: datetime | None = None
    prev_hash: str
    hash: str


class ReplicaChange(SQLModel, table=True):
    """A row change recorded by the replication triggers (only while sharing is on), turned
    into a shared operation in the outbox before its transaction commits. Values are kept as
    SQLite stores them (JSON objects of the columns)."""

    __tablename__ = "replica_change"

    seq: int | None = Field(default=None, primary_key=True)
    tbl: str
    pk: str  # JSON array of the row's primary key as stored
    op: str  # "i" insert, "u" update, "d" delete
    old: str | None = None
    new: str | None = None


class ReplicaShadow(SQLModel, table=True):
    """A value another PC set that this PC holds back because its own change of the same
    field is still on the way (it comes later in the relay's order, so it wins)."""

    __tablename__ = "replica_shadow"

    tbl: str = Field(primary_key=True)
    pk: str = Field(primary_key=True)
    field: str = Field(primary_key=True)
    value: str  # JSON of the stored value
    seq: int
    device_id: str = ""


class ReplicaTombstone(SQLModel, table=True):
    """A shared row that was deleted: a later change of it is listed for review, never
    applied, so a deleted row does not come back by itself."""

    __tablename__ = "replica_tombstone"

    tbl: str = Field(primary_key=True)
    pk: str = Field(primary_key=True)
    seq: int = 0
    device_id: str = ""
    row: str = "{}"  # the row as it was (JSON), for 「元に戻す」


class ReplicaReview(SQLModel, table=True):
    """A change of another PC the officer should look at (変更の確認): an overwritten value,
    a delete racing an edit, a role given twice, a duplicate number. Made the same way on
    every PC from the relay's order."""

    __tablename__ = "replica_review"

    id: uuid.UUID = Field(primary_key=True)  # uuid5 of ``key``: the same on every PC
    key: str = Field(unique=True)
    kind: str
    tbl: str
    pk: str
    field: str = ""
    kept: str = "null"  # JSON of the value that stays
    lost: str = "null"  # JSON of the value (or row) that was overwritten or deleted
    by_device: str = ""
    seq: int = 0
    created_at: datetime = Field(default_factory=_now)
    decided_at: datetime | None = None
    decision: str = ""
