"""The README.md written into every bundle: the format, in Japanese and in English.

It is a document about the files beside it, not a message of the program, so both languages
are always written, whatever language Kairan runs in.
"""

from __future__ import annotations

from collections.abc import Sequence

from desktop.domain.bundle.format import (
    ATTACHMENTS_DIR,
    DATA_DIR,
    EXCLUDED_TABLES,
    FORMAT_VERSION,
    MANIFEST,
    PDF_DIR,
    XLSX_DIR,
)

_JAPANESE = """\
# {association} 全データ（Kairan 書き出し）

このフォルダには、自治会の名簿・役員・回覧・回答・総会・引継ぎ・変更履歴など、Kairan に記録された
すべての情報が、特定のソフトに頼らずに読める形式で入っています。{created}に Kairan {version}
（スキーマ {revision}、形式 {format_version}）で書き出しました。

## 中身

| 場所 | 内容 |
| --- | --- |
| `{manifest}` | 形式とバージョン、表ごとの列と型、件数、全ファイルの SHA-256 |
| `{data}/<表>.json` | 表ごとの全データ（再取り込みの元になる正本） |
| `{xlsx}/<表>.xlsx` | 同じ表を Excel で見るためのもの |
| `{attachments}/` | 回覧に添付された画像・PDF（回覧の id ごと） |
| `{pdf}/` | 回覧、班別名簿・役員名簿、総会の議決結果の PDF |

変更履歴（監査記録）は `{data}/audit_record.json` と `{xlsx}/audit_record.xlsx` です。各記録は
直前の記録のハッシュを含む鎖になっており、書き換え・削除・並べ替えを検出できます。

## JSON の書き方

各ファイルは `{{"table": 表名, "columns": [列名…], "rows": [{{列名: 値…}}…]}}` です。値の型は
`{manifest}` の各列の `type` のとおりです：`uuid`（ハイフン付き）、`text`、`enum`（`values`
のいずれか）、`integer`、`boolean`、`date`（2026-04-01）、`datetime`（UTC、ISO 8601、
例 2026-04-01T09:30:00+00:00）、`json`、`bytes`（base64）。空の値は `null` です。

Excel の表では日時を UTC で示し、32,000 文字を超える文字列は短くし、添付のデータは
`{attachments}/` を指す説明に置き換えています。正確な値は JSON を見てください。

## 含まれないもの

同期の表（{excluded}）は含みません。中継サーバーとのペアリングはパソコンごとのもので、
取り込んだファイルは未接続の状態で始まります。必要なら改めて接続してください。

## 確かめ方と取り込み

`{manifest}` の `files` に全ファイルの SHA-256 があります。Kairan はこの値を確かめ、
一つでも違えば取り込みません。取り込みは `kairan import-all <このフォルダまたは zip>
--db <新しいファイル>.kairan`、または画面の「ファイル」メニューから行います。新しい
Kairan で書き出したもの（形式やスキーマが新しいもの）は、古い Kairan では取り込めません。

このフォルダには個人情報が含まれます。自治会の個人情報の取扱いに従って保管してください。
"""

_ENGLISH = """\
# {association}: everything, exported by Kairan

This folder holds everything Kairan recorded for the association — roster, officers,
circulars, answers, general meetings, handovers and the change history — in formats any
program can read. Written on {created} by Kairan {version} (schema {revision}, bundle format
{format_version}).

## Contents

| Where | What |
| --- | --- |
| `{manifest}` | format, versions, each table's columns, types and rows, SHA-256 of every file |
| `{data}/<table>.json` | every table in full: the source of truth for re-import |
| `{xlsx}/<table>.xlsx` | the same tables to read in Excel |
| `{attachments}/` | the pictures and PDFs attached to circulars (per circular id) |
| `{pdf}/` | circulars, 班 lists and the officers' list, general meeting results |

The change history (audit trail) is `{data}/audit_record.json` and
`{xlsx}/audit_record.xlsx`. Each record carries the hash of the one before, so an edited,
deleted or reordered record is detected.

## How the JSON is written

Each file is `{{"table": name, "columns": [names…], "rows": [{{name: value…}}…]}}`. Each
column's `type` in `{manifest}` says how its values are written: `uuid` (with hyphens),
`text`, `enum` (one of its `values`), `integer`, `boolean`, `date` (2026-04-01), `datetime`
(UTC, ISO 8601, e.g. 2026-04-01T09:30:00+00:00), `json`, `bytes` (base64). Empty is `null`.

The Excel tables show times in UTC, shorten text longer than 32,000 characters, and replace
attached data by a note pointing into `{attachments}/`. The JSON has the exact values.

## Not included

The sync tables ({excluded}) are left out: pairing with a relay belongs to one PC, so a file
made from this bundle starts unconnected. Connect it again if needed.

## Checking and importing

`files` in `{manifest}` lists the SHA-256 of every file. Kairan checks them and refuses the
bundle if any differs. Import with `kairan import-all <this folder or zip> --db
<new file>.kairan`, or from the File menu of the window. A bundle written by a newer Kairan
(newer format or schema) is refused by an older one.

This folder contains personal data: keep it as the association's privacy rules say.
"""


def readme_text(*, association: str, created: str, version: str, revision: str,
                skipped: Sequence[str] = ()) -> str:
    """The README of a bundle, Japanese first."""
    values = {"association": association, "created": created, "version": version,
              "revision": revision, "format_version": FORMAT_VERSION, "manifest": MANIFEST,
              "data": DATA_DIR, "xlsx": XLSX_DIR, "attachments": ATTACHMENTS_DIR,
              "pdf": PDF_DIR, "excluded": ", ".join(sorted(EXCLUDED_TABLES))}
    text = _JAPANESE.format(**values) + "\n---\n\n" + _ENGLISH.format(**values)
    if skipped:
        text += ("\n## 作れなかった PDF / PDFs that could not be made\n\n"
                 + "".join(f"- {line}\n" for line in skipped))
    return text
