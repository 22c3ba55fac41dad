"""Translation of visible strings, shared by the window, the command line and the domain.

Source strings are English; Japanese is the default language. Catalogues are gettext ``.po``
files in ``resources/translations`` (editable with Poedit or any text editor) and are read at
start-up without a compile step. No Qt here: domain errors are translated the same way as labels.
"""

from __future__ import annotations

import ast
from importlib import resources

LANGUAGES: tuple[str, ...] = ("ja", "en")
DEFAULT_LANGUAGE = "ja"

_catalogues: dict[str, dict[str, str]] = {}
_language = DEFAULT_LANGUAGE
_active: dict[str, str] = {}


def parse_po(text: str) -> dict[str, str]:
    """Read the msgid → msgstr pairs of a ``.po`` file (no plurals or contexts are used here)."""
    entries: dict[str, str] = {}
    current: dict[str, list[str]] = {}
    key: str | None = None

    def flush() -> None:
        msgid = "".join(current.get("msgid", []))
        msgstr = "".join(current.get("msgstr", []))
        if msgid and msgstr:
            entries[msgid] = msgstr

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("msgid ", "msgstr ")):
            key, _, literal = line.partition(" ")
            if key == "msgid" and current:
                flush()
                current = {}
            current[key] = [ast.literal_eval(literal)]
        elif line.startswith('"') and key is not None:
            current[key].append(ast.literal_eval(line))
    if current:
        flush()
    return entries


def _catalogue(language: str) -> dict[str, str]:
    if language not in _catalogues:
        if language == "en":
            _catalogues[language] = {}
        else:
            source = resources.files("resources") / "translations" / f"{language}.po"
            _catalogues[language] = parse_po(source.read_text(encoding="utf-8"))
    return _catalogues[language]


def set_language(language: str) -> None:
    """Switch every later translation to ``language`` (one of :data:`LANGUAGES`)."""
    global _language, _active
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)}")
    _active = _catalogue(language)
    _language = language


def current_language() -> str:
    """The language visible strings are shown in now."""
    return _language


def _(text: str) -> str:
    """Translate ``text`` into the current language (English source text when untranslated)."""
    if not _active and _language != "en":
        set_language(_language)
    return _active.get(text, text)


def N_(text: str) -> str:
    """Mark ``text`` for translation where it is defined; :func:`_` translates it when shown."""
    return text
