"""The shared vocabulary of an import: the fields a roster column can hold, and the tables
passed from one step to the next."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Field(enum.StrEnum):
    """What a column of an officer's spreadsheet holds."""

    NUMBER = "number"  # 世帯番号 / No. / 番号
    GROUP = "group"  # 班 / 組 / 地区
    NAME = "name"  # 氏名 / 名前 / 世帯主 / 世帯主名
    FURIGANA = "furigana"  # フリガナ / ふりがな / カナ / よみ
    RELATION = "relation"  # 続柄
    ADDRESS = "address"  # 住所 / 所在地
    POSTAL_CODE = "postal_code"  # 郵便番号 / 〒
    PHONE = "phone"  # 電話 / TEL / 携帯
    EMAIL = "email"  # メール / E-mail
    NOTES = "notes"  # 備考
    CHANNEL = "channel"  # 配布方法 / 回覧 (paper or app)
    JOINED_ON = "joined_on"  # 入会日
    EXEMPT_HAN_LEADER = "exempt_han_leader"  # 班長免除 (○ or empty)
    # A row per member with the household's own columns beside the member's (as Kairan
    # exports it): 世帯主 and its フリガナ, while NAME and FURIGANA are the member's 氏名.
    HOUSEHOLD_NAME = "household_name"  # 世帯主 beside 氏名 and 続柄
    HOUSEHOLD_FURIGANA = "household_furigana"  # the reading of that 世帯主 column


@dataclass(frozen=True, slots=True)
class SheetData:
    """One sheet (or a whole CSV file) as read: cell values, row by row.

    ``rows[i]`` is the sheet's row ``i + 1`` as the officer sees it in Excel; values are str,
    int, float, bool, datetime/date or None (empty). Merged cells carry their value in the
    top-left cell only, as the file stores it; ``merges`` lists the merged ranges as
    0-based (first row, first column, last row, last column).
    """

    file: str  # the file's name, for messages
    name: str  # the sheet's name ("" for CSV)
    rows: list[tuple[object, ...]]
    merges: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class RawRow:
    """A data row under the header: its row number in the sheet and its mapped values."""

    sheet: str
    row: int  # 1-based, as Excel shows it
    values: dict[Field, object]


@dataclass(frozen=True, slots=True)
class RowColumns:
    """Data rows (of one sheet or several) column by column, as :class:`RawRow` holds them
    row by row: a big roster needs no dictionary per row. ``values[field][i]`` is the value
    of row ``i``, which is row ``rows[i]`` of sheet ``sheets[i]``."""

    sheets: list[str]
    rows: list[int]
    values: dict[Field, list[object]]


@dataclass(slots=True)
class HeaderLayout:
    """Where a sheet's header is and which column holds which field."""

    header_rows: tuple[int, ...]  # 1-based rows forming the header (one or two)
    columns: dict[Field, int]  # field → 0-based column index
    titles: tuple[str, ...]  # the header text of every column, as read (joined for two rows)
    unmapped: tuple[int, ...] = field(default_factory=tuple)  # columns no field claimed

    def signature(self) -> str:
        """A key for remembering the officer's mapping for files with the same headers."""
        return "\x1f".join(self.titles)
