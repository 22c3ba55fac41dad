"""The household editor: the household's facts and its members, saved together.

Keyboard-first: fields in reading order, Enter saves (Ctrl+Enter inside the notes), Escape
cancels. A problem keeps the dialog open with the field at fault focused (an address that is
not an e-mail address among them: it is refused on saving, so it never reaches the relay).

An address the relay no longer mails (it bounced, or the household stopped the mails) is
shown under the addresses with its reason, and 「紙に切り替える」 saves the household with
paper notices — the same undoable save as the Save button.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.domain.households import HouseholdData, MemberData
from desktop.domain.labels import channel_label
from desktop.domain.mail_status import AddressProblem, problem_label
from desktop.domain.models import MAX_HOUSEHOLD_EMAILS, NoticeChannel
from desktop.domain.wareki import format_dual, parse_date
from desktop.i18n import N_, _
from desktop.ui import messages

MEMBER_COLUMNS = (
    ("name", N_("Name")),
    ("furigana", N_("Furigana")),
    ("relation", N_("Relation")),
    ("is_head", N_("Head")),
    ("phone", N_("Phone")),
    ("email", N_("E-mail")),
    ("app_access", N_("App")),
)
_CHECK_COLUMNS = {"is_head", "app_access"}


@dataclass(frozen=True, slots=True)
class HouseholdForm:
    """What the editor hands back: the facts, the members and the chosen 班."""

    data: HouseholdData
    members: tuple[MemberData, ...]
    group_id: uuid.UUID | None


Save = Callable[[HouseholdForm], None]  # raises KairanError to keep the dialog open


def _short(moment: datetime) -> str:
    return moment.astimezone().strftime("%m/%d %H:%M")


class HouseholdDialog(QDialog):
    """Edit one household and its members."""

    def __init__(
        self,
        parent: QWidget | None,
        *,
        title: str,
        data: HouseholdData,
        members: Sequence[MemberData],
        groups: Sequence[tuple[uuid.UUID, str]],
        group_id: uuid.UUID | None,
        save: Save,
        mail_problems: Sequence[AddressProblem] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._save = save
        self._member_ids: list[uuid.UUID | None] = []
        form = self._build_form(data, groups, group_id)
        self._build_mail_problems(form, mail_problems)
        member_box = self._build_members(members)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        save_shortcut = QShortcut(QKeySequence("Ctrl+Return"), self)
        save_shortcut.activated.connect(self.accept)

        layout = QVBoxLayout(self)
        columns = QHBoxLayout()
        columns.addLayout(form, 1)
        columns.addWidget(member_box, 1)
        layout.addLayout(columns)
        layout.addWidget(self.buttons)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 86, em * 36)
        self.number.setFocus() if not data.number else self.display_name.setFocus()

    def _build_form(self, data: HouseholdData, groups: Sequence[tuple[uuid.UUID, str]],
                    group_id: uuid.UUID | None) -> QFormLayout:
        self.number = QLineEdit(data.number)
        self.display_name = QLineEdit(data.display_name)
        self.furigana = QLineEdit(data.furigana)
        self.group = QComboBox()
        self.group.addItem(_("(no group)"), None)
        for choice_id, name in groups:
            self.group.addItem(name, choice_id)
        # Not findData: Qt compares a Python object by identity, and this UUID is an equal
        # but different object, so the household would be saved into "no group".
        self.group.setCurrentIndex(next(
            (index for index, (choice_id, _name) in enumerate(groups, start=1)
             if choice_id == group_id), 0))
        self.postal_code = QLineEdit(data.postal_code)
        self.postal_code.setPlaceholderText("123-4567")
        self.address = QLineEdit(data.address)
        self.phone = QLineEdit(data.phone)
        self.channel = QComboBox()
        for channel in NoticeChannel:
            self.channel.addItem(channel_label(channel), channel)
        self.channel.setCurrentIndex(self.channel.findData(data.channel))
        self.emails = [QLineEdit() for _index in range(MAX_HOUSEHOLD_EMAILS)]
        for edit, email in zip(self.emails, data.emails, strict=False):
            edit.setText(email)
        self.joined_on = QLineEdit(data.joined_on.isoformat() if data.joined_on else "")
        self.joined_on.setPlaceholderText(_("e.g. 令和7年4月1日 or 2025-04-01"))
        self.joined_shown = QLabel()
        self.joined_on.textChanged.connect(self._show_date)
        self._show_date(self.joined_on.text())
        self.exempt_han_leader = QCheckBox(_("Exempt from 班長 (elderly etc.)"))
        self.exempt_han_leader.setChecked(data.exempt_han_leader)
        self.exempt_duties = QCheckBox(_("Exempt from officer duties"))
        self.exempt_duties.setChecked(data.exempt_duties)
        self.notes = QPlainTextEdit(data.notes)
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(self.notes.fontMetrics().lineSpacing() * 3 + 12)

        form = QFormLayout()
        form.addRow(_("Household &number"), self.number)
        form.addRow(_("Na&me (head of household)"), self.display_name)
        form.addRow(_("&Furigana"), self.furigana)
        form.addRow(_("&Group (班)"), self.group)
        form.addRow(_("&Postal code"), self.postal_code)
        form.addRow(_("&Address"), self.address)
        form.addRow(_("P&hone"), self.phone)
        form.addRow(_("Notices &by"), self.channel)
        email_box = QGridLayout()
        for position, edit in enumerate(self.emails):
            email_box.addWidget(edit, position // 2, position % 2)
        form.addRow(_("&E-mail addresses"), email_box)
        self._after_emails = form.rowCount()  # where mail problems are shown
        joined = QVBoxLayout()
        joined.addWidget(self.joined_on)
        joined.addWidget(self.joined_shown)
        form.addRow(_("&Joined on"), joined)
        form.addRow("", self.exempt_han_leader)
        form.addRow("", self.exempt_duties)
        form.addRow(_("No&tes"), self.notes)
        return form

    def _build_mail_problems(self, form: QFormLayout,
                             problems: Sequence[AddressProblem]) -> None:
        """The addresses the relay no longer mails, and the switch to paper."""
        self.mail_problems = QLabel()
        # Lines of its own, not wrapped: a wrapped label in a form row is given too little
        # height and shows clipped.
        self.mail_problems.setWordWrap(False)
        self.mail_problems.setTextFormat(Qt.TextFormat.PlainText)
        self.paper_button = QPushButton(_("Switch to &paper"))
        self.paper_button.setToolTip(_("Save this household with notices on paper (undoable)."))
        self.paper_button.clicked.connect(self.switch_to_paper)
        if not problems:
            self.mail_problems.hide()
            self.paper_button.hide()
            return
        self.mail_problems.setText("\n".join(
            _("{address}: {problem} ({when})").format(
                address=problem.address, problem=problem_label(problem.problem),
                when=_short(problem.at)) + (f"\n    {problem.detail}" if problem.detail else "")
            for problem in problems))
        self.mail_problems.setStyleSheet("color: #b00020")
        for edit in self.emails:  # the address at fault, also where it is typed
            problem = next((p for p in problems if p.address == edit.text().strip()), None)
            if problem is not None:
                edit.setToolTip(problem_label(problem.problem))
                edit.setStyleSheet("color: #b00020")
        column = QVBoxLayout()
        column.addWidget(self.mail_problems)
        column.addWidget(self.paper_button, 0, Qt.AlignmentFlag.AlignLeft)
        form.insertRow(self._after_emails, _("Mail problems"), column)

    def switch_to_paper(self) -> None:
        """Notices on paper from now on: choose paper and save (the relay then mails this
        household no more, and its problems end)."""
        self.channel.setCurrentIndex(self.channel.findData(NoticeChannel.PAPER))
        self.accept()

    def _build_members(self, members: Sequence[MemberData]) -> QGroupBox:
        self.members = QTableWidget(0, len(MEMBER_COLUMNS))
        self.members.setHorizontalHeaderLabels([_(label) for _key, label in MEMBER_COLUMNS])
        header = self.members.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        em = self.fontMetrics().horizontalAdvance("あ")
        for column, chars in enumerate((7, 8, 4, 3, 8, 10, 3)):
            self.members.setColumnWidth(column, em * chars)
        self.members.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.members.setTabKeyNavigation(False)
        for member in members:
            self._add_member_row(member)
        add = QPushButton(_("&Add member"))
        add.clicked.connect(self.add_member)
        remove = QPushButton(_("&Remove member"))
        remove.clicked.connect(self.remove_member)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(add)
        buttons_row.addWidget(remove)
        buttons_row.addStretch()
        member_box = QGroupBox(_("&Members"))
        member_layout = QVBoxLayout(member_box)
        member_layout.addWidget(self.members)
        member_layout.addLayout(buttons_row)
        return member_box

    # ------------------------------------------------------------ members table

    def _add_member_row(self, member: MemberData) -> None:
        row = self.members.rowCount()
        self.members.insertRow(row)
        self._member_ids.append(member.id)
        for column, (key, _label) in enumerate(MEMBER_COLUMNS):
            item = QTableWidgetItem()
            value = getattr(member, key)
            if key in _CHECK_COLUMNS:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if value else Qt.CheckState.Unchecked)
            else:
                item.setText(str(value))
            self.members.setItem(row, column, item)

    def add_member(self) -> None:
        """Add an empty member row and start typing its name."""
        is_first = self.members.rowCount() == 0
        self._add_member_row(MemberData(name="", is_head=is_first,
                                        relation="世帯主" if is_first else ""))
        row = self.members.rowCount() - 1
        self.members.setCurrentCell(row, 0)
        self.members.setFocus()
        self.members.editItem(self.members.item(row, 0))  # type: ignore[arg-type]

    def remove_member(self) -> None:
        """Remove the selected member row."""
        row = self.members.currentRow()
        if row >= 0:
            self.members.removeRow(row)
            del self._member_ids[row]

    def _member_data(self) -> tuple[MemberData, ...]:
        result = []
        for row in range(self.members.rowCount()):
            values: dict[str, object] = {}
            for column, (key, _label) in enumerate(MEMBER_COLUMNS):
                item = self.members.item(row, column)
                if key in _CHECK_COLUMNS:
                    values[key] = item is not None and item.checkState() == Qt.CheckState.Checked
                else:
                    values[key] = item.text() if item is not None else ""
            result.append(MemberData(id=self._member_ids[row], **values))  # type: ignore[arg-type]
        return tuple(result)

    # ------------------------------------------------------------ saving

    def _show_date(self, text: str) -> None:
        try:
            self.joined_shown.setText(format_dual(parse_date(text)) if text.strip() else "")
        except ValueError:
            self.joined_shown.setText(_("(not a date)"))

    def form(self) -> HouseholdForm:
        """The household as typed (validation happens when saving)."""
        joined_text = self.joined_on.text().strip()
        try:
            joined = parse_date(joined_text) if joined_text else None
        except ValueError:
            raise KairanError(
                _("「{value}」 is not a date. Type it as 令和7年4月1日 or 2025-04-01.")
                .format(value=joined_text), field="joined_on") from None
        data = HouseholdData(
            number=self.number.text(),
            display_name=self.display_name.text(),
            furigana=self.furigana.text(),
            postal_code=self.postal_code.text(),
            address=self.address.text(),
            phone=self.phone.text(),
            channel=NoticeChannel(self.channel.currentData()),
            emails=tuple(edit.text() for edit in self.emails if edit.text().strip()),
            joined_on=joined,
            exempt_han_leader=self.exempt_han_leader.isChecked(),
            exempt_duties=self.exempt_duties.isChecked(),
            notes=self.notes.toPlainText(),
        )
        return HouseholdForm(data, self._member_data(), self.group.currentData())

    def accept(self) -> None:
        """Save; on a problem, say what and where, focus the field and stay open."""
        try:
            self._save(self.form())
        except KairanError as error:
            messages.warn(self, error.message, title=_("Cannot save"))
            self._focus(error.field)
            return
        super().accept()

    def _focus(self, field: str | None) -> None:
        widgets: dict[str, QWidget] = {
            "number": self.number, "display_name": self.display_name,
            "furigana": self.furigana, "postal_code": self.postal_code,
            "phone": self.phone, "emails": self.emails[0], "members": self.members,
            "joined_on": self.joined_on, "group": self.group,
        }
        widget = widgets.get(field or "")
        if widget is not None:
            widget.setFocus()
            if isinstance(widget, QLineEdit):
                widget.selectAll()
