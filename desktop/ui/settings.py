"""The officer's preferences, declared once with types and defaults, kept in an INI file.

Secrets never go here (they belong in the OS keyring). The file lives in ``paths.data_dir()``
so tests, which redirect that folder, never touch the real settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

from desktop import paths
from desktop.i18n import DEFAULT_LANGUAGE, LANGUAGES

T = TypeVar("T", str, int, bool, bytes)

TEXT_SIZES: tuple[int, ...] = (100, 125, 150, 175, 200)  # percent of the system font


@dataclass(frozen=True, slots=True)
class Setting(Generic[T]):
    """One preference: its key in the file, its type and its default."""

    key: str
    default: T
    doc: str


LANGUAGE = Setting("ui/language", DEFAULT_LANGUAGE, "language of the window, one of LANGUAGES")
TEXT_SIZE = Setting("ui/text_size", 100, "text size in percent, one of TEXT_SIZES")
LAST_FILE = Setting("file/last", "", "the association file opened last")
BACKUP_KEEP = Setting("backup/keep", 10, "how many automatic backups to keep")
BACKUP_EVERY_HOURS = Setting("backup/every_hours", 24, "hours between automatic backups")
WINDOW_GEOMETRY = Setting("window/geometry", b"", "the main window's size and place")
WINDOW_STATE = Setting("window/state", b"", "the main window's docks and toolbars")
UPDATE_CHECKED_AT = Setting("update/checked_at", "",
                            "when the relay last told of the newest Kairan (ISO 8601, UTC)")
UPDATE_LATEST_VERSION = Setting("update/latest_version", "",
                                "the newest Kairan the relay told of then (\"\": none)")
UPDATE_LATEST_URL = Setting("update/latest_url", "", "its download page, as the relay gave it")
UPDATE_LATEST_NOTES = Setting("update/latest_notes", "", "its notes, as the relay gave them")
UPDATE_DISMISSED = Setting("update/dismissed_version", "",
                           "a version the officer chose not to hear about again")


class Settings:
    """Typed access to the settings file."""

    def __init__(self) -> None:
        self._store = QSettings(str(paths.settings_path()), QSettings.Format.IniFormat)

    def get(self, setting: Setting[T]) -> T:
        """The stored value, or the default when missing or unreadable."""
        raw = self._store.value(setting.key, None)
        if raw is None:
            return setting.default
        default = setting.default
        try:
            if isinstance(default, bool):
                value: object = raw if isinstance(raw, bool) else str(raw).lower() == "true"
            elif isinstance(default, int):
                value = int(raw)  # type: ignore[call-overload]
            elif isinstance(default, bytes):
                value = bytes(raw.data()) if isinstance(raw, QByteArray) else str(raw).encode()
            else:
                value = str(raw)
        except (TypeError, ValueError):
            return setting.default
        return value  # type: ignore[return-value]

    def set(self, setting: Setting[T], value: T) -> None:
        """Store a value (written to disk at once, so a crash keeps it)."""
        self._store.setValue(setting.key, QByteArray(value) if isinstance(value, bytes) else value)
        self._store.sync()

    def language(self) -> str:
        """The UI language, falling back to Japanese for an unknown value."""
        language = self.get(LANGUAGE)
        return language if language in LANGUAGES else DEFAULT_LANGUAGE

    def text_size(self) -> int:
        """The text size in percent, snapped to one of :data:`TEXT_SIZES`."""
        size = self.get(TEXT_SIZE)
        return min(TEXT_SIZES, key=lambda choice: abs(choice - size))
