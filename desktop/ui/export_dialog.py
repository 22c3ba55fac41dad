"""The export dialog: the roster to an Excel workbook, with only the columns the officer picks.

An export for a 班長 need not carry phone numbers or e-mail addresses: one button unticks
them. The file is written in the background with progress and Cancel (a cancelled export
leaves no file behind); a message names the file when it is done.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.association import get_association
from desktop.domain.errors import KairanError
from desktop.domain.groups import group_tree
from desktop.domain.models import GroupKind
from desktop.i18n import N_, _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from desktop.ui.tasks import TaskCancelled, TaskContext, TaskRunner
from reports.roster_xlsx import EXPORT_COLUMNS, MEMBER_KEYS, choose_columns, export_roster

# How each column of the file is named in the dialog; Japanese shows the file's own title.
COLUMN_LABELS: dict[str, str] = {
    "number": N_("Household number (世帯番号)"),
    "district": N_("District (地区)"),
    "group": N_("Group (班)"),
    "name": N_("Head of household (世帯主)"),
    "furigana": N_("Furigana (フリガナ)"),
    "member_name": N_("Member's name (氏名)"),
    "relation": N_("Relation (続柄)"),
    "member_furigana": N_("Member's furigana (氏名フリガナ)"),
    "postal_code": N_("Postal code (郵便番号)"),
    "address": N_("Address (住所)"),
    "phone": N_("Phone (電話)"),
    "email": N_("E-mail (メール)"),
    "channel": N_("Notices by (配布方法)"),
    "members": N_("Number of members (人数)"),
    "joined_on": N_("Joined on (入会日)"),
    "exempt_han_leader": N_("Exempt from 班長 (班長免除)"),
    "notes": N_("Notes (備考)"),
    "withdrawn": N_("Status (状態)"),
}
CONTACT_KEYS = ("phone", "email")  # what an export for a 班長 usually leaves out
_UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|]')


class ExportDialog(QDialog):
    """Choose the columns and the layout, then the file; the export runs in the background."""

    def __init__(
        self,
        parent: QWidget | None,
        association_file: AssociationFile,
        tasks: TaskRunner,
        *,
        today: Callable[[], date] = date.today,
        folder: str = "",
    ) -> None:
        super().__init__(parent)
        self.association_file = association_file
        self.tasks = tasks
        self.folder = folder or QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation)
        self.path: Path | None = None  # the file written (or being written)
        self.running = False
        self._today = today
        with association_file.read() as session:
            self._association = get_association(session).name
            self._districts = any(node.kind == GroupKind.DISTRICT
                                  for node in group_tree(session))
        self.setWindowTitle(_("Export the roster"))

        self.checks: dict[str, QCheckBox] = {}
        columns = self._columns_box()
        self.all_columns = QPushButton(_("&All columns"))
        self.all_columns.clicked.connect(self.tick_all)
        self.no_contacts = QPushButton(_("Without &phone and e-mail (for a 班長)"))
        self.no_contacts.clicked.connect(self.untick_contacts)

        self.per_group = QCheckBox(_("&One sheet per 班 (in circulation order)"))
        self.per_member = QCheckBox(_("One row per &member"))
        self.per_member.toggled.connect(self._members_toggled)
        self.withdrawn = QCheckBox(_("Include &withdrawn households"))
        self.withdrawn.toggled.connect(self._withdrawn_toggled)
        self.status = QLabel()
        self.status.setWordWrap(True)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton(_("&Export…"),
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.buttons.accepted.connect(self.export)
        self.buttons.rejected.connect(self.reject)

        quick = QHBoxLayout()
        quick.addWidget(self.all_columns)
        quick.addWidget(self.no_contacts)
        quick.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(columns)
        layout.addLayout(quick)
        layout.addWidget(self.per_group)
        layout.addWidget(self.per_member)
        layout.addWidget(self.withdrawn)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._members_toggled(False)
        self._withdrawn_toggled(False)
        self.export_button.setFocus()

    def _columns_box(self) -> QGroupBox:
        """A check box per column, in file order, ticked as the command line's default."""
        defaults = set(choose_columns(None, members=False, districts=self._districts,
                                      withdrawn=False))
        box = QGroupBox(_("Columns"))
        grid = QGridLayout(box)
        keys = [key for key, _title in EXPORT_COLUMNS if key != "district" or self._districts]
        per_column = (len(keys) + 2) // 3
        for index, key in enumerate(keys):
            check = QCheckBox(_(COLUMN_LABELS[key]))
            check.setChecked(key in defaults)
            self.checks[key] = check
            grid.addWidget(check, index % per_column, index // per_column)
        return box

    # ------------------------------------------------------------ choices

    def tick_all(self) -> None:
        """Tick every column that the layout chosen allows."""
        for check in self.checks.values():
            if check.isEnabled():
                check.setChecked(True)

    def untick_contacts(self) -> None:
        """Leave out phone numbers and e-mail addresses."""
        for key in CONTACT_KEYS:
            self.checks[key].setChecked(False)

    def _members_toggled(self, on: bool) -> None:
        for key in MEMBER_KEYS:
            self.checks[key].setEnabled(on)
            self.checks[key].setChecked(on)

    def _withdrawn_toggled(self, on: bool) -> None:
        self.checks["withdrawn"].setEnabled(on)
        self.checks["withdrawn"].setChecked(on)

    def columns(self) -> list[str]:
        """The keys of the columns ticked, in file order."""
        return [key for key, check in self.checks.items()
                if check.isChecked() and check.isEnabled()]

    # ------------------------------------------------------------ exporting

    def suggested_name(self) -> str:
        """「桜町自治会_名簿_20260601.xlsx」: the association and the day."""
        name = _UNSAFE_IN_NAMES.sub("_", self._association).strip() or "Kairan"
        return f"{name}_名簿_{self._today():%Y%m%d}.xlsx"

    def _ask_path(self) -> Path | None:
        start = str(Path(self.folder) / self.suggested_name())
        name, _filter = QFileDialog.getSaveFileName(
            self, _("Export the roster to"), start, _("Excel workbook (*.xlsx)"))
        if not name:
            return None
        path = Path(name)
        return path if path.suffix.lower() == ".xlsx" else path.with_name(path.name + ".xlsx")

    def export(self) -> None:
        """Ask where to save, then write the file in the background."""
        if self.running:
            return
        columns = self.columns()
        if not columns:
            self.status.setText(_("Tick at least one column."))
            return
        path = self._ask_path()
        if path is None:
            return
        self.folder = str(path.parent)
        self.path = path
        per_group, members = self.per_group.isChecked(), self.per_member.isChecked()
        withdrawn = self.withdrawn.isChecked()
        association_file = self.association_file

        def work(context: TaskContext) -> int:
            with association_file.read() as session:
                return export_roster(session, path, columns=columns, per_group=per_group,
                                     include_withdrawn=withdrawn, members=members,
                                     progress=context.progress)

        def done(count: int) -> None:
            self.running = False
            self.accept()
            messages.inform(self.parentWidget(), _("Wrote {count} rows to {file}.").format(
                count=count, file=path))

        def failed(error: BaseException) -> None:
            self.running = False
            self.export_button.setEnabled(True)
            if isinstance(error, TaskCancelled):
                self.status.setText(_("The export was cancelled: no file was written."))
            elif isinstance(error, KairanError):
                self.status.clear()
                messages.warn(self, error.message)
            else:
                raise error

        self.running = True
        self.export_button.setEnabled(False)
        self.status.setText(_("Writing {file}…").format(file=path.name))
        self.tasks.run(work, parent=self, title=_("Exporting the roster…"), on_success=done,
                       on_failure=failed)

    def reject(self) -> None:
        """Cancel closes the dialog, but not while a file is being written."""
        if not self.running:
            super().reject()
