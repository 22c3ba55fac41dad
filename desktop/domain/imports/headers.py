"""Finding a roster's header row and which column holds which field; the data rows under it.

Officers' rosters put title rows (「令和7年度 ○○町内会 会員名簿」) above the header, spread
the header over two rows (「連絡先」 merged over 「電話」「メール」), and end with blank rows
and a 合計 row. :func:`find_header` scores the first :data:`HEADER_SCAN_ROWS` rows, alone and
in consecutive pairs, by how many columns their titles name (:data:`SYNONYMS`, matched after
NFKC, lower-casing and dropping spaces and punctuation; a longer title such as
「電話番号（自宅）」 matches by containing a synonym). :func:`data_rows` returns the rows under
the header with the mapped values, trimmed but otherwise as read. No Qt here.
"""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from desktop.domain.errors import KairanError
from desktop.domain.imports.model import Field, HeaderLayout, RawRow, SheetData
from desktop.i18n import _

__all__ = [
    "HEADER_SCAN_ROWS",
    "SYNONYMS",
    "WEAK_SYNONYMS",
    "HeaderNotFound",
    "data_columns",
    "data_rows",
    "describe_columns",
    "field_for_title",
    "find_header",
    "header_key",
    "layout_for_rows",
    "remap",
]

HEADER_SCAN_ROWS = 20
"""How many rows from the top may hold the header."""

# What officers title each column; the first entry is the usual Japanese title. Extend here
# (the table is compiled once at import): entries are compared after header_key(), so width,
# case, spaces and punctuation do not matter; a longer title matches by containing an entry,
# except one-character entries (班, 組, 〒), which must be the whole title, and English
# words, which must stand as words.
SYNONYMS: dict[Field, tuple[str, ...]] = {
    Field.NUMBER: ("世帯番号", "番号", "No", "No.", "世帯No", "会員番号", "整理番号", "Number"),
    Field.GROUP: ("班", "組", "班名", "組名", "所属班", "班・組", "Group"),
    Field.NAME: ("氏名", "名前", "世帯主", "世帯主名", "世帯主氏名", "お名前", "名前（漢字）",
                 "氏名（漢字）", "Name"),
    Field.FURIGANA: ("フリガナ", "ふりがな", "カナ", "よみ", "読み", "よみがな", "氏名カナ",
                     "Furigana", "Kana"),
    Field.RELATION: ("続柄", "Relation", "Relationship"),
    Field.ADDRESS: ("住所", "所在地", "Address"),
    Field.POSTAL_CODE: ("郵便番号", "〒", "郵便", "Zip", "Postal code", "Postcode"),
    Field.PHONE: ("電話", "電話番号", "TEL", "携帯", "携帯電話", "Phone", "Telephone", "Mobile"),
    Field.EMAIL: ("メール", "メールアドレス", "E-mail", "Email", "mail", "Mail address"),
    Field.NOTES: ("備考", "メモ", "特記事項", "Notes", "Remarks"),
    Field.CHANNEL: ("配布方法", "回覧", "配布", "受取方法", "連絡方法"),
    Field.JOINED_ON: ("入会日", "加入日"),
    Field.EXEMPT_HAN_LEADER: ("班長免除", "班長除外"),
}

# Titles that name a field only when no column names it better: 「連絡先」 is the phone
# column unless the sheet also has 「電話」; 「地区」 is the 班 unless a column says 班 (a
# 連合自治会's roster, and Kairan's export, have both: the 地区 above the 班).
WEAK_SYNONYMS: dict[Field, tuple[str, ...]] = {
    Field.PHONE: ("連絡先",),
    Field.GROUP: ("地区",),
}

# When a long title contains synonyms of several fields, the more specific field wins:
# 「世帯主との続柄」 is the relation, 「名前カナ」 the furigana, 「電話番号」 not the number.
_SPECIFICITY: tuple[Field, ...] = (
    Field.EXEMPT_HAN_LEADER, Field.FURIGANA, Field.RELATION, Field.POSTAL_CODE, Field.EMAIL,
    Field.PHONE, Field.JOINED_ON, Field.CHANNEL, Field.NOTES, Field.ADDRESS, Field.GROUP,
    Field.NUMBER, Field.NAME,
)

_EXACT, _CONTAINED, _WEAK = 3, 2, 1

_NOISE = re.compile(
    "[\\s・/()\\[\\]【】「」『』〈〉《》<>{}.,，、。:;\\-‐_*※#'\"!?~〜◎○●☆★]+"
)
_ASCII_WORD = re.compile("[a-z]+")
_TOTALS = re.compile("^(?:合計|総計|小計|total|subtotal|grandtotal|計(?![^0-9=]))")
_SUBTOTAL = re.compile("^(?:小計|subtotal)")
_MAYBE_TOTAL = re.compile("計|[tTｔＴ][oOｏＯ][tTｔＴ]")
_NUMERIC_TEXT = re.compile("[-+]?[0-9][0-9,]*(?:\\.[0-9]+)?")

_PAIR_JOIN = "／"
# Titles of the head of household's name, which lose to 「氏名」 in a row-per-member sheet.
_HEAD_KEYS = frozenset({"世帯主", "世帯主名", "世帯主氏名"})
# Words in a reading's title that say whose reading it is, in a row-per-member sheet.
_HEAD_WORD = "世帯主"
_MEMBER_WORDS = ("氏名", "名前")


class HeaderNotFound(KairanError):
    """No row near the top of a sheet looks like a roster's header."""


def header_key(text: str) -> str:
    """A header title as compared with the synonyms: NFKC, lower case, no spaces or
    punctuation (「Ｅ－ｍａｉｌ」 → "email", 「電話番号（自宅）」 → "電話番号自宅")."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())


@dataclass(frozen=True, slots=True)
class _Synonym:
    key: str
    field: Field
    strength: int  # _CONTAINED or _WEAK when found inside a longer title
    pattern: re.Pattern[str] | None  # ASCII words must stand alone (no "no" in "notes")


def _build_table() -> tuple[dict[str, tuple[Field, int]], list[_Synonym]]:
    exact: dict[str, tuple[Field, int]] = {}
    contained: list[_Synonym] = []
    for table, strength in ((SYNONYMS, _CONTAINED), (WEAK_SYNONYMS, _WEAK)):
        for which, words in table.items():
            for word in words:
                key = header_key(word)
                if exact.get(key, (which, 0))[0] != which:
                    raise ValueError(f"header synonym {word!r} names two fields")
                exact[key] = (which, _EXACT if strength == _CONTAINED else _WEAK)
                if len(key) > 1:
                    pattern = (re.compile(f"(?<![a-z]){re.escape(key)}(?![a-z])")
                               if _ASCII_WORD.fullmatch(key) else None)
                    contained.append(_Synonym(key, which, strength, pattern))
    return exact, contained


_EXACT_KEYS, _CONTAINED_KEYS = _build_table()


@functools.lru_cache(maxsize=4096)
def _match(title: str) -> tuple[Field, int] | None:
    """The field a title names and how strongly (exact, contained or weak), or None."""
    spaced = _NOISE.sub(" ", unicodedata.normalize("NFKC", title).lower())
    key = spaced.replace(" ", "")
    if not key:
        return None
    found = _EXACT_KEYS.get(key)
    if found is not None:
        return found
    best: tuple[int, int, Field] | None = None  # (strength, -specificity rank, field)
    for synonym in _CONTAINED_KEYS:
        if synonym.key not in key:
            continue
        # An English word counts only as a word of its own: 「Phone No.」, not "notes".
        if synonym.pattern is not None and synonym.pattern.search(spaced) is None:
            continue
        rank = (synonym.strength, -_SPECIFICITY.index(synonym.field), synonym.field)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return None if best is None else (best[2], best[0])


def field_for_title(title: str) -> Field | None:
    """The field a column titled ``title`` holds, as :func:`find_header` would guess it."""
    found = _match(title)
    return None if found is None else found[0]


def _title(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _row(sheet: SheetData, number: int) -> tuple[object, ...]:
    return sheet.rows[number - 1] if 0 < number <= len(sheet.rows) else ()


def _trimmed(titles: list[str]) -> tuple[str, ...]:
    while titles and not titles[-1]:
        titles.pop()
    return tuple(titles)


def _titles(sheet: SheetData, header_rows: Sequence[int]) -> tuple[str, ...]:
    """Each column's title; for two rows the top title (carried right over the empty top
    cells of a merged title) and the bottom one joined: 「連絡先／電話」."""
    if len(header_rows) == 1:
        return _trimmed([_title(value) for value in _row(sheet, header_rows[0])])
    top = [_title(value) for value in _row(sheet, header_rows[0])]
    bottom = [_title(value) for value in _row(sheet, header_rows[1])]
    width = max(len(top), len(bottom))
    top += [""] * (width - len(top))
    bottom += [""] * (width - len(bottom))
    titles: list[str] = []
    carried = ""
    for own, lower in zip(top, bottom, strict=True):
        upper = own
        if own:
            # A top title over sub-titles is a merged group title; one with nothing below it
            # is a cell merged downwards and spans only its own column.
            carried = own if lower else ""
        elif lower:
            upper = carried
        else:
            carried = ""
        if upper and lower and upper != lower:
            titles.append(f"{upper}{_PAIR_JOIN}{lower}")
        else:
            titles.append(upper or lower)
    return _trimmed(titles)


@dataclass(frozen=True, slots=True)
class _Guess:
    columns: dict[Field, int]
    strength: int  # the sum of the winning columns' match strengths


def _match_pair(title: str) -> tuple[Field, int] | None:
    """A title joined from two header rows: the lower title refines the upper one
    (「連絡先／電話」 is the phone, 「住所／〒」 the postal code); only when the lower title
    names nothing does the whole count (「氏名／漢字」 is the name). Never an exact match, so a
    single header row naming as much wins over a pair."""
    upper, join, lower = title.partition(_PAIR_JOIN)
    found = (_match(lower) or _match(title)) if join else _match(upper)
    return None if found is None else (found[0], min(found[1], _CONTAINED))


def _strongest(claims: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The strongest claim, the leftmost of equals."""
    return max(claims, key=lambda claim: (claim[1], -claim[0]))


def _guess(titles: Sequence[str], *, pair: bool = False) -> _Guess:
    """The first column with the strongest match wins each field; one column per field.

    One exception: a sheet with a 続柄 column lists a member per row, and there a plain
    「氏名」 column holds the member's name and wins over a 「世帯主」 column, wherever it
    stands; the 世帯主 column (when there is one) is then the household's name, as in
    Kairan's own export (:func:`_household_columns`).
    """
    claims: dict[Field, list[tuple[int, int]]] = {}  # field → [(column, strength)]
    for column, title in enumerate(titles):
        found = _match_pair(title) if pair else _match(title)
        if found is not None:
            claims.setdefault(found[0], []).append((column, found[1]))
    best = {which: _strongest(found) for which, found in claims.items()}
    if Field.RELATION in best and Field.NAME in best:
        members = [claim for claim in claims[Field.NAME]
                   if header_key(titles[claim[0]]) not in _HEAD_KEYS]
        heads = [claim for claim in claims[Field.NAME]
                 if header_key(titles[claim[0]]) in _HEAD_KEYS]
        if members and heads:
            best[Field.NAME] = _strongest(members)
            _household_columns(best, _strongest(heads), claims.get(Field.FURIGANA, []), titles)
    return _Guess({which: column for which, (column, _s) in best.items()},
                  sum(strength for _c, strength in best.values()))


def _household_columns(best: dict[Field, tuple[int, int]], head: tuple[int, int],
                       readings: Sequence[tuple[int, int]], titles: Sequence[str]) -> None:
    """A row-per-member sheet with both 世帯主 and 氏名: 世帯主 is the household's name, and
    of its readings the one titled for the 世帯主 (「フリガナ（世帯主）」), else the one
    nearest the 世帯主 column that is not titled for the 氏名 (「氏名フリガナ」), is the
    household's; the reading left over (the strongest) is the member's. A single reading is
    the member's unless titled for the 世帯主."""
    best[Field.HOUSEHOLD_NAME] = head
    if not readings:
        return
    keys = {claim: header_key(titles[claim[0]]) for claim in readings}
    own = [claim for claim in readings if _HEAD_WORD in keys[claim]]
    plain = [claim for claim in readings
             if not any(word in keys[claim] for word in _MEMBER_WORDS)]
    household: tuple[int, int] | None = None
    if own:
        household = _strongest(own)
    elif len(readings) > 1 and plain:
        household = min(plain, key=lambda claim: (abs(claim[0] - head[0]), -claim[0]))
    rest = [claim for claim in readings if claim != household]
    if household is not None:
        best[Field.HOUSEHOLD_FURIGANA] = household
    if rest:
        best[Field.FURIGANA] = _strongest(rest)
    else:
        del best[Field.FURIGANA]


# A candidate header: its score, rows, titles and guessed mapping.
_Scored = tuple[tuple[int, int, int], tuple[int, ...], tuple[str, ...], _Guess]


def _layout(header_rows: tuple[int, ...], titles: tuple[str, ...],
            columns: Mapping[Field, int]) -> HeaderLayout:
    taken = set(columns.values())
    unmapped = tuple(index for index, title in enumerate(titles)
                     if title and index not in taken)
    ordered = dict(sorted(columns.items(), key=lambda item: item[1]))
    return HeaderLayout(header_rows, ordered, titles, unmapped)


def _where(sheet: SheetData) -> str:
    if sheet.name:
        return _("“{file}”, sheet “{sheet}”").format(file=sheet.file, sheet=sheet.name)
    return _("“{file}”").format(file=sheet.file)


def _refines(sheet: SheetData, number: int) -> bool:
    """Whether row ``number`` can be the second row of a header: text only, naming a field."""
    values = [value for value in _row(sheet, number) if value is not None]
    return (bool(values) and all(isinstance(value, str) for value in values)
            and any(_match(value) is not None for value in values if isinstance(value, str)))


def _candidates(sheet: SheetData) -> list[tuple[int, ...]]:
    last = min(len(sheet.rows), HEADER_SCAN_ROWS)
    found: list[tuple[int, ...]] = []
    for number in range(1, last + 1):
        if not any(value is not None for value in _row(sheet, number)):
            continue
        found.append((number,))
        if number < last and _refines(sheet, number + 1):
            found.append((number, number + 1))
    return found


def find_header(
    sheet: SheetData, *, remembered: Mapping[str, Mapping[Field, int]] | None = None
) -> HeaderLayout:
    """Find the header row (or two rows) of ``sheet`` and map its columns to fields.

    When the titles of a candidate header match a mapping the officer confirmed before
    (``remembered``: :meth:`HeaderLayout.signature` → field → column), that mapping is used
    as it is. Otherwise the row (or pair of rows) naming the most fields wins, with at least
    two fields one of which is the name. Raises :class:`HeaderNotFound` naming the file and
    sheet and saying what to add.
    """
    where = _where(sheet)
    if not sheet.rows:
        raise HeaderNotFound(_("{where} is empty: there is nothing to import.").format(
            where=where))
    candidates = _candidates(sheet)
    if remembered:
        for header_rows in candidates:
            titles = _titles(sheet, header_rows)
            columns = remembered.get(HeaderLayout(header_rows, {}, titles).signature())
            if columns is not None and any(titles):
                return _layout(header_rows, titles,
                               {which: column for which, column in columns.items()
                                if column >= 0})
    # The most fields, then the strongest matches, then one row rather than two, then the
    # topmost; a header must name at least two fields, one of them the name.
    best: _Scored | None = None
    nameless: _Scored | None = None
    for header_rows in candidates:
        titles = _titles(sheet, header_rows)
        guess = _guess(titles, pair=len(header_rows) == 2)
        if len(guess.columns) < 2:
            continue
        score = (len(guess.columns), guess.strength, -len(header_rows))
        if Field.NAME not in guess.columns:
            if nameless is None or score > nameless[0]:
                nameless = (score, header_rows, titles, guess)
        elif best is None or score > best[0]:
            best = (score, header_rows, titles, guess)
    if best is not None:
        _score, header_rows, titles, guess = best
        return _layout(header_rows, titles, guess.columns)
    if nameless is not None:
        _score, header_rows, titles, guess = nameless
        found = "、".join(titles[column] for column in sorted(guess.columns.values()))
        raise HeaderNotFound(_(
            "In {where}, row {row} looks like the header ({found}), but no column holds the "
            "names. Title the column of names 氏名 (or 名前, 世帯主) and try again."
        ).format(where=where, row=header_rows[-1], found=found))
    raise HeaderNotFound(_(
        "No header row was found in {where}. Kairan looks in the first {rows} rows for a row "
        "of column titles such as 氏名, 世帯番号, 班, 住所, 電話, メール, and needs 氏名 and at "
        "least one other. Add such a row above the data (or correct the titles) and try again."
    ).format(where=where, rows=HEADER_SCAN_ROWS))


def layout_for_rows(
    sheet: SheetData,
    header_rows: tuple[int, ...],
    *,
    remembered: Mapping[str, Mapping[Field, int]] | None = None,
) -> HeaderLayout:
    """The layout when the officer says which row (or two rows, 1-based) is the header.

    The mapping is the remembered one for these titles, else the guess (which may map
    nothing: the officer then maps the columns by hand).
    """
    if not 1 <= len(header_rows) <= 2 or not all(
            0 < number <= len(sheet.rows) for number in header_rows):
        raise ValueError(f"header rows out of range: {header_rows!r}")
    titles = _titles(sheet, header_rows)
    columns = (remembered or {}).get(HeaderLayout(header_rows, {}, titles).signature())
    if columns is None:
        columns = _guess(titles, pair=len(header_rows) == 2).columns
    return _layout(header_rows, titles, columns)


def remap(layout: HeaderLayout, columns: Mapping[Field, int]) -> HeaderLayout:
    """``layout`` with the officer's own mapping (``unmapped`` recomputed)."""
    if len(set(columns.values())) != len(columns):
        raise ValueError("one column cannot hold two fields")
    return _layout(layout.header_rows, layout.titles, columns)


def describe_columns(layout: HeaderLayout) -> list[tuple[int, str, Field | None]]:
    """Every column of the header: its 0-based index, title and the field it is mapped to."""
    field_of = {column: which for which, column in layout.columns.items()}
    width = max([len(layout.titles), *(column + 1 for column in field_of)])
    return [(column, layout.titles[column] if column < len(layout.titles) else "",
             field_of.get(column)) for column in range(width)]


def _totals_label(row: tuple[object, ...]) -> str:
    """The row's first text when it reads as a total (合計, 計 12, Total…), else ""."""
    for value in row:
        if isinstance(value, str) and value.strip():
            # Most rows are names and addresses: look closer only when a total is possible.
            if _MAYBE_TOTAL.search(value) is None:
                return ""
            key = header_key(value)
            return key if _TOTALS.match(key) else ""
    return ""


def _is_number(value: object) -> bool:
    if isinstance(value, str):  # CSV cells are text
        return _NUMERIC_TEXT.fullmatch(unicodedata.normalize("NFKC", value).strip()) is not None
    return isinstance(value, int | float) and not isinstance(value, bool)


def data_rows(sheet: SheetData, layout: HeaderLayout) -> list[RawRow]:
    """The rows under the header, with the values of the mapped columns.

    Blank rows (and rows with nothing in a mapped column) are skipped, and so is a row
    repeating the header. A 合計/計/総計/Total row ends the data (what follows it is notes);
    a 小計 row is skipped. A last row with no name and only numbers (a total without a label)
    is left out too. Text values are trimmed (U+3000 included) and "" becomes None;
    nothing else is changed.
    """
    numbers, columns = data_columns(sheet, layout)
    fields = tuple(layout.columns)
    name = sheet.name
    return [RawRow(name, number, dict(zip(fields, values, strict=True)))
            for number, values in zip(numbers, zip(*columns, strict=True), strict=True)]


def data_columns(sheet: SheetData,
                 layout: HeaderLayout) -> tuple[list[int], list[list[object]]]:
    """The rows :func:`data_rows` returns, column by column: their 1-based row numbers, and
    a list of values for each column of ``layout.columns``, in its order (the import of a
    big roster goes this way: no dictionary per row)."""
    fields = tuple(layout.columns)
    positions = tuple(layout.columns.values())
    if not positions:
        return [], []
    width = max(positions) + 1
    start = max(layout.header_rows, default=0)
    rows = _merged_down(sheet, start)
    # The data ends at a 合計 row; 小計 rows inside it are left out.
    indexes: list[int] = []
    first = start
    for index in range(start, len(rows)):
        label = _totals_label(rows[index])
        if label:
            indexes += range(first, index)
            first = index + 1
            if not _SUBTOTAL.match(label):
                break
    else:
        indexes += range(first, len(rows))
    body = [rows[index] for index in indexes]
    if any(len(row) < width for row in body):
        padding = (None,) * width
        body = [row if len(row) >= width else (row + padding)[:width] for row in body]
    pick = operator.itemgetter(*positions)
    picked = map(pick, body) if len(positions) > 1 else ((value,) for value in map(pick, body))
    # Trim text, "" → None, row by row (the values of a row lie together in memory).
    cells = [tuple([(value.strip() or None) if isinstance(value, str) else value
                    for value in values]) for values in picked]
    headers = {_cells(_row(sheet, number), positions) for number in layout.header_rows}
    blank = (None,) * len(positions)
    kept = [at for at, values in enumerate(cells) if values != blank and values not in headers]
    if len(kept) < len(indexes):
        indexes = [indexes[at] for at in kept]
        cells = [cells[at] for at in kept]
    columns = ([list(column) for column in zip(*cells, strict=True)] if cells
               else [[] for _field in fields])
    names = [fields.index(which) for which in (Field.NAME, Field.HOUSEHOLD_NAME)
             if which in fields]
    if indexes and names and all(columns[at][-1] is None for at in names):
        last = [value for value in rows[indexes[-1]]
                if value is not None and not (isinstance(value, str) and not value.strip())]
        if all(_is_number(value) for value in last):
            indexes.pop()
            for column in columns:
                column.pop()
    return [index + 1 for index in indexes], columns


def _merged_down(sheet: SheetData, start: int) -> list[tuple[object, ...]]:
    """The sheet's rows with each cell merged down over data rows given the merged value.

    A 班 (or 世帯番号) merged down over the households below it means that value for every
    row it covers; the file stores it in the top cell only. Only the range's first column
    takes the value: a cell merged sideways over another column says nothing about that
    column. Merges in the header rows are the header's own business.
    """
    downward = [merge for merge in sheet.merges if merge[0] >= start and merge[2] > merge[0]]
    if not downward:
        return sheet.rows
    rows = list(sheet.rows)
    for first_row, column, last_row, _last_column in downward:
        top = rows[first_row] if first_row < len(rows) else ()
        value = top[column] if column < len(top) else None
        for index in range(first_row + 1, min(last_row, len(rows) - 1) + 1):
            row = rows[index]
            if len(row) <= column:
                row = row + (None,) * (column + 1 - len(row))
            rows[index] = (*row[:column], value, *row[column + 1:])
    return rows


def _cells(row: tuple[object, ...], positions: Sequence[int]) -> tuple[object, ...]:
    """The values of a row at ``positions``, trimmed as :func:`data_columns` trims them."""
    return tuple([(value.strip() or None) if isinstance(value, str) else value
                  for value in (row[at] if at < len(row) else None for at in positions)])
