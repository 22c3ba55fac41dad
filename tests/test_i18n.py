"""Every visible string has a Japanese translation, and translations keep their placeholders."""

from __future__ import annotations

import string

import pytest

from desktop.i18n import _, current_language, parse_po, set_language
from tests.i18n_catalogue import catalogue, translatable_strings


def _fields(text: str) -> set[str]:
    return {field for _lit, field, _spec, _conv in string.Formatter().parse(text) if field}


def test_every_marked_string_has_a_japanese_translation() -> None:
    known = catalogue("ja")
    missing = [f"{where}: {text!r}" for text, where in translatable_strings().items()
               if not known.get(text)]
    assert not missing, "untranslated (run python -m tests.i18n_catalogue):\n" + "\n".join(
        missing)


def test_translations_keep_the_same_placeholders() -> None:
    wrong = [source for source, translated in catalogue("ja").items()
             if _fields(source) != _fields(translated)]
    assert not wrong


def test_no_stale_translations() -> None:
    used = set(translatable_strings())
    stale = [source for source in catalogue("ja") if source not in used]
    assert not stale, f"translations of strings no longer used: {stale[:10]}"


def test_japanese_is_the_default_and_english_the_second() -> None:
    set_language("ja")
    assert current_language() == "ja"
    assert _("Roster") != "Roster"
    set_language("en")
    assert _("Roster") == "Roster"
    with pytest.raises(ValueError, match="unknown language"):
        set_language("fr")


def test_po_parser_reads_multiline_entries_and_escapes() -> None:
    text = 'msgid ""\nmsgstr "header"\n\nmsgid "a \\"b\\""\nmsgstr ""\n"line 1\\n"\n"line 2"\n'
    assert parse_po(text) == {'a "b"': "line 1\nline 2"}
