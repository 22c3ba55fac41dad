"""The association's tables: the one place the schema is written down.

Alembic migrations (``desktop/store/migrations``) are generated from these classes; the app
never builds tables from these classes directly. Ids are UUIDv7 made on the device.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import JSON, CheckConstraint, Column, Enum, UniqueConstraint
from sqlmodel import Field, SQLModel

from desktop.domain.ids import uuid7

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
