"""The history of changes (変更履歴): who changed what and when, old → new, newest first.

For the whole association or one household (「この世帯の履歴」); a search box that folds
like the roster's; a button that checks the whole trail for tampering and says plainly what
it found; export to .xlsx or .csv. Checking, searching and exporting run off the UI thread.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QStandardPaths,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import audit
from desktop.domain.audit_chain import ChainReport
from desktop.domain.audit_history import (
    AuditEntry,
    action_label,
    actor_label,
    field_label,
    id_names,
    local_time,
    value_text,
    what_text,
)
from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from desktop.ui.tasks import Task, TaskCancelled, TaskContext, TaskRunner

PAGE = 500  # records shown at first; "Show older" adds as many again
SEARCH_DELAY_MS = 400
WHEN, WHO, CHANGE, WHAT, DETAILS = range(5)
WHAT_WIDTH = 16  # in full-width characters: 「世帯 0012 山田 太郎」 on one line
_GOOD, _BAD = QColor("#1b5e20"), QColor("#b71c1c")

_Index = QModelIndex | QPersistentModelIndex


class HistoryModel(QAbstractTableModel):
    """The records shown, one row each; the details column lists every field old → new."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[AuditEntry] = []
        self.names: dict[str, str] = {}
        self._headers = [_("When"), _("Who"), _("Change"), _("What"), _("Old → new")]

    def set_entries(self, entries: Sequence[AuditEntry], names: dict[str, str]) -> None:
        """Show ``entries`` (newest first)."""
        self.beginResetModel()
        self.entries = list(entries)
        self.names = names
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(entry, index.column())
        if role == Qt.ItemDataRole.ToolTipRole and entry.redacted:
            return _("The values were removed when this withdrawn household was purged; who "
                     "changed what and when is kept.")
        return None

    def text(self, entry: AuditEntry, column: int) -> str:
        """What a cell shows."""
        if column == WHEN:
            return f"{local_time(entry.at):%Y-%m-%d %H:%M}"
        if column == WHO:
            return actor_label(entry.actor)
        if column == CHANGE:
            return action_label(entry.action)
        if column == WHAT:
            return what_text(entry)
        return "\n".join(self._detail(change.field, change.old, change.new)
                         for change in entry.field_changes())

    def _detail(self, field: str, old: object, new: object) -> str:
        before = value_text(old, self.names, field=field)
        after = value_text(new, self.names, field=field)
        if old is None:
            return f"{field_label(field)}: {after}"
        if new is None:
            return f"{field_label(field)}: {before} → " + _("(removed)")
        return f"{field_label(field)}: {before} → {after}"


class HistoryView(QDialog):
    """The history, for everyone or one household (``household_id``)."""

    def __init__(self, parent: QWidget | None, association_file: AssociationFile,
                 tasks: TaskRunner, *, household_id: uuid.UUID | None = None,
                 household_name: str = "") -> None:
        super().__init__(parent)
        self.file = association_file
        self.tasks = tasks
        self.household_id = household_id
        self.limit = PAGE
        self.generation = 0  # a search superseded by a newer one is dropped
        self.searching: Task[tuple[list[AuditEntry], dict[str, str]]] | None = None
        self.verifying = False
        self.exporting = False
        self.last_report: ChainReport | None = None
        self.export_path: Path | None = None
        self.folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation)
        self.setWindowTitle(_("History of changes"))
        self._build_top()
        self._build_table()
        self._build_buttons()
        layout = QVBoxLayout(self)
        layout.addLayout(self._row(self.scope, self.show_all))
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addLayout(self._row(self.count, self.older))
        layout.addWidget(self.verdict)
        layout.addLayout(self._row(self.verify_button, None, self.export_button,
                                   self.close_button))
        self.resize(980, 640)
        self._show_scope(household_name)
        self.reload()

    def _build_top(self) -> None:
        self.scope = QLabel()
        self.scope.setWordWrap(True)
        self.show_all = QPushButton(_("Show &every household"))
        self.show_all.clicked.connect(self.show_everyone)
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Search: a name, a number, a word…"))
        self.search.setClearButtonEnabled(True)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _text: self.timer.start())
        self.search.returnPressed.connect(self.reload)

    def _build_table(self) -> None:
        self.model = HistoryModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(DETAILS, QHeaderView.ResizeMode.Stretch)
        for column in (WHEN, WHO, CHANGE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(WHAT, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(WHAT, self.fontMetrics().horizontalAdvance("あ") * WHAT_WIDTH)
        self.count = QLabel()
        self.older = QPushButton(_("Show &older changes"))
        self.older.clicked.connect(self.show_older)

    def _build_buttons(self) -> None:
        self.verify_button = QPushButton(_("&Check the history for tampering"))
        self.verify_button.clicked.connect(self.verify)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton(_("&Export…"))
        self.export_button.clicked.connect(self.export)
        self.close_button = QPushButton(_("Close"))
        self.close_button.clicked.connect(self.close)

    @staticmethod
    def _row(*widgets: QWidget | None) -> QHBoxLayout:
        """Widgets side by side; None is the stretch between the left and the right ones."""
        row = QHBoxLayout()
        for widget in widgets:
            if widget is None:
                row.addStretch(1)
            else:
                row.addWidget(widget, 1 if isinstance(widget, QLabel) else 0)
        return row

    # ------------------------------------------------------------ what is shown

    def _show_scope(self, household_name: str) -> None:
        if self.household_id is None:
            self.scope.setText(_("Every change to the association's records, newest first."))
        else:
            self.scope.setText(_("The changes to household {name}, newest first.").format(
                name=household_name or "?"))
        self.show_all.setVisible(self.household_id is not None)

    def show_everyone(self) -> None:
        """Leave the household: show every change."""
        self.household_id = None
        self._show_scope("")
        self.reload()

    def show_older(self) -> None:
        """Show as many older records again."""
        self.limit += PAGE
        self.reload()

    def reload(self) -> None:
        """Read the records again with the search typed (in the background when searching:
        a search may read the whole trail)."""
        self.timer.stop()
        self.generation += 1
        generation, text = self.generation, self.search.text()
        household_id, limit, association_file = self.household_id, self.limit, self.file

        def work(context: TaskContext) -> tuple[list[AuditEntry], dict[str, str]]:
            with association_file.read() as session:
                entries = audit.history(session, household_id=household_id, text=text,
                                        limit=limit + 1, cancelled=context.cancelled)
                return entries, id_names(session)

        if not text.strip():  # newest first up to the limit: quick, no need to wait
            self._show(generation, work(TaskContext(lambda _done, _total: None)))
            return
        if self.searching is not None:
            self.searching.context.cancel()
        self.count.setText(_("Searching…"))
        self.searching = self.tasks.run(
            work, parent=self, title=_("Searching the history…"),
            on_success=lambda found: self._show(generation, found),
            on_failure=self._search_failed)

    def _show(self, generation: int, found: tuple[list[AuditEntry], dict[str, str]]) -> None:
        if generation != self.generation:
            return
        self.searching = None
        entries, names = found
        more = len(entries) > self.limit
        self.model.set_entries(entries[:self.limit], names)
        self.table.resizeRowsToContents()
        self.older.setEnabled(more)
        shown = min(len(entries), self.limit)
        self.count.setText(
            _("No changes found.") if not shown else
            _("The newest {count} changes are shown.").format(count=shown) if more else
            _("{count} changes.").format(count=shown))

    def _search_failed(self, error: BaseException) -> None:
        self.searching = None
        if isinstance(error, TaskCancelled):
            return
        if isinstance(error, KairanError):
            messages.warn(self, error.message)
            return
        raise error

    # ------------------------------------------------------------ checking

    def verify(self) -> None:
        """Check the whole trail in the background and say what was found."""
        if self.verifying:
            return
        association_file = self.file

        def work(_context: TaskContext) -> ChainReport:
            with association_file.read() as session:
                return audit.verify_chain(session)

        def done(report: ChainReport) -> None:
            self.verifying = False
            self.verify_button.setEnabled(True)
            self.last_report = report
            self.verdict.setText(report.message())
            color = _GOOD if report.ok else _BAD
            self.verdict.setStyleSheet(f"color: {color.name()}; font-weight: bold;")
            if not report.ok:
                messages.warn(self, report.message(), title=_("The history was tampered with"))

        def failed(error: BaseException) -> None:
            self.verifying = False
            self.verify_button.setEnabled(True)
            if isinstance(error, KairanError):
                messages.warn(self, error.message)
            elif not isinstance(error, TaskCancelled):
                raise error

        self.verifying = True
        self.verify_button.setEnabled(False)
        self.verdict.setStyleSheet("")
        self.verdict.setText(_("Checking every record…"))
        self.tasks.run(work, parent=self, title=_("Checking the history…"), on_success=done,
                       on_failure=failed, cancellable=False)

    # ------------------------------------------------------------ export

    def _ask_path(self) -> Path | None:
        start = str(Path(self.folder) / _("history.xlsx"))
        name, chosen = QFileDialog.getSaveFileName(
            self, _("Export the history to"), start,
            ";;".join((_("Excel workbook (*.xlsx)"), _("CSV file (*.csv)"))))
        if not name:
            return None
        path = Path(name)
        if path.suffix.lower() not in (".xlsx", ".csv"):
            path = path.with_name(path.name + (".csv" if "csv" in chosen else ".xlsx"))
        return path

    def export(self) -> None:
        """Ask where, then write the records of this view (search and household as shown,
        every one of them, not only the page) in the background."""
        if self.exporting:
            return
        path = self._ask_path()
        if path is None:
            return
        self.folder = str(path.parent)
        self.export_path = path
        household_id, text, association_file = self.household_id, self.search.text(), self.file

        def work(context: TaskContext) -> int:
            with association_file.read() as session:
                entries = audit.history(session, household_id=household_id, text=text,
                                        cancelled=context.cancelled)
                names = id_names(session)
            context.check()
            audit.export_history(entries, path, names=names, progress=context.progress)
            return len(entries)

        def done(count: int) -> None:
            self.exporting = False
            self.export_button.setEnabled(True)
            messages.inform(self, _("Wrote {count} changes to {file}.").format(count=count,
                                                                              file=path))

        def failed(error: BaseException) -> None:
            self.exporting = False
            self.export_button.setEnabled(True)
            if isinstance(error, TaskCancelled):
                messages.inform(self, _("The export was cancelled: no file was written."))
            elif isinstance(error, KairanError):
                messages.warn(self, error.message)
            else:
                raise error

        self.exporting = True
        self.export_button.setEnabled(False)
        self.tasks.run(work, parent=self, title=_("Exporting the history…"), on_success=done,
                       on_failure=failed)
