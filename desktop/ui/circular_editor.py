"""The circular editor: compose or change a draft 回覧 — text, attachments, who it is for,
what it asks — and see at once which characters the printer's font cannot show.

The editor works on a draft that exists in the file (a new circular is created as a draft
first), so attachments are stored the moment they are added: a 40 MB photo is scaled down
in the background, with progress, and a file that is not an image or an encrypted PDF is
refused with a message naming it. Saving writes the form; a problem keeps the dialog open
with the field at fault focused, like the household editor.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import attachments, circulars, groups, roles
from desktop.domain.circulars import (
    MAX_QUESTIONS,
    AttachmentInfo,
    CircularData,
    Question,
    QuestionKind,
)
from desktop.domain.errors import KairanError
from desktop.domain.models import (
    Ask,
    AttachmentKind,
    GroupKind,
    NoticeChannel,
    RoleScope,
    TargetKind,
)
from desktop.domain.wareki import format_dual, parse_date
from desktop.i18n import N_, _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from desktop.ui.circulars_panel import ASK_LABELS
from desktop.ui.tasks import TaskContext, TaskRunner
from reports.pdf.fonts import GOTHIC, MINCHO, missing_characters

_ID = Qt.ItemDataRole.UserRole
KIND_LABELS: dict[QuestionKind, str] = {
    QuestionKind.CHOICE: N_("Choice"),
    QuestionKind.TEXT: N_("Free text"),
}
ATTACHMENT_LABELS: dict[AttachmentKind, str] = {
    AttachmentKind.IMAGE: N_("Image"),
    AttachmentKind.PDF: N_("PDF"),
    AttachmentKind.MAP: N_("Map"),
}
IMAGE_FILTER = N_("Images (*.jpg *.jpeg *.png *.gif *.bmp *.tif *.tiff *.webp *.heic)")
PDF_FILTER = N_("PDF documents (*.pdf)")
CHOICE_SEPARATORS = re.compile(r"[/／]")
LIVE_CHECK_MS = 250  # the font check and the household count wait for a pause in typing
QUESTION, KIND, CHOICES = range(3)

OpenFile = Callable[[QWidget, str, str], Path | None]  # parent, title, filter → file or None


def open_file_dialog(parent: QWidget, title: str, name_filter: str) -> Path | None:
    """The system's file picker (the seam tests replace)."""
    name, _filter = QFileDialog.getOpenFileName(parent, title, "", name_filter)
    return Path(name) if name else None


def unprintable(texts: Sequence[str]) -> list[str]:
    """The characters of ``texts`` that the circular's fonts (明朝 body, ゴシック headings)
    cannot show, in order of appearance."""
    joined = "\n".join(texts)
    seen = dict.fromkeys(missing_characters(joined, MINCHO))
    seen.update(dict.fromkeys(missing_characters(joined, GOTHIC)))
    return list(seen)


def split_choices(text: str) -> tuple[str, ...]:
    """「賛成/反対」 (half- or full-width slash) → ("賛成", "反対")."""
    return tuple(part.strip() for part in CHOICE_SEPARATORS.split(text) if part.strip())


@dataclass(frozen=True, slots=True)
class EditorChoices:
    """What the pickers offer, read once when the editor opens."""

    groups: tuple[tuple[uuid.UUID, str, bool], ...]  # id, name, is a 地区 — in tree order
    roles: tuple[tuple[uuid.UUID, str], ...]
    issuers: tuple[str, ...]  # 「会長 山田 太郎」: this year's holders of association roles


def read_choices(association_file: AssociationFile, *, year: int) -> EditorChoices:
    """The 班, roles and possible issuers of the association."""
    with association_file.read() as session:
        tree = groups.group_tree(session)
        role_list = roles.list_roles(session)
        board = roles.role_board(session, year=year)
    issuers = tuple(
        f"{slot.role_name} {holder.member_name}"
        for slot in board if slot.group_id is None
        for holder in slot.holders
    )
    return EditorChoices(
        groups=tuple((node.id, node.name, node.kind == GroupKind.DISTRICT) for node in tree),
        roles=tuple((role.id, role.name) for role in role_list
                    if role.scope in (RoleScope.ASSOCIATION, RoleScope.GROUP)),
        issuers=issuers,
    )


class CircularEditor(QDialog):
    """Edit one draft circular."""

    def __init__(
        self,
        parent: QWidget | None,
        association_file: AssociationFile,
        tasks: TaskRunner,
        *,
        circular_id: uuid.UUID,
        choices: EditorChoices,
        is_new: bool = False,
        open_file: OpenFile = open_file_dialog,
    ) -> None:
        super().__init__(parent)
        self.file = association_file
        self.tasks = tasks
        self.circular_id = circular_id
        self.choices = choices
        self.is_new = is_new
        self.open_file = open_file
        self.busy = False  # an attachment is being added
        self.saved = False
        with association_file.read() as session:
            record = circulars.get_circular(session, circular_id=circular_id)
        self.setWindowTitle(_("New circular") if is_new else
                            _("Circular: {title}").format(title=record.data.title))

        left = QVBoxLayout()
        left.addLayout(self._build_text(record.data))
        left.addWidget(self._build_attachments(record.attachments))
        right = QVBoxLayout()
        right.addWidget(self._build_target(record.data))
        right.addWidget(self._build_ask(record.data))
        self.font_warning = QLabel()
        self.font_warning.setWordWrap(True)
        self.font_warning.setStyleSheet("color: #b00020; font-weight: bold;")
        self.font_warning.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self).activated.connect(self.accept)
        QShortcut(QKeySequence("Ctrl+S"), self).activated.connect(self.accept)

        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(self.font_warning)
        layout.addWidget(self.buttons)

        self._wire_live_checks()
        self._ask_changed()
        self._target_changed()
        self.check_characters()
        self.count_recipients()
        self._initial = self._snapshot()
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 84, em * 46)
        self.title.setFocus()
        if is_new:
            self.title.selectAll()

    # ------------------------------------------------------------ building

    def _wire_live_checks(self) -> None:
        """The font check and the household count follow typing, after a pause."""
        self._live = QTimer(self)
        self._live.setSingleShot(True)
        self._live.setInterval(LIVE_CHECK_MS)
        self._live.timeout.connect(self.check_characters)
        for edit in (self.title, self.issuer.lineEdit(), self.map_url):
            if edit is not None:
                edit.textChanged.connect(lambda _text: self._live.start())
        self.body.textChanged.connect(self._live.start)
        self.questions.itemChanged.connect(lambda _item: self._live.start())
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(LIVE_CHECK_MS)
        self._count_timer.timeout.connect(self.count_recipients)

    def _build_text(self, data: CircularData) -> QFormLayout:
        self.title = QLineEdit(data.title)
        self.issued_on = QLineEdit(data.issued_on.isoformat())
        self.issued_on.setPlaceholderText(_("e.g. 令和7年4月1日 or 2025-04-01"))
        self.issued_shown = QLabel()
        self.issued_on.textChanged.connect(
            lambda text: self._show_date(text, self.issued_shown))
        self._show_date(self.issued_on.text(), self.issued_shown)
        self.issuer = QComboBox()
        self.issuer.setEditable(True)
        self.issuer.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.issuer.addItems(list(self.choices.issuers))
        self.issuer.setEditText(data.issuer)
        self.issuer.setToolTip(_("Type who issues it, or pick one of this year's officers."))
        self.body = QPlainTextEdit(data.body)
        self.body.setTabChangesFocus(True)
        hint = QLabel(_("「# 」 starts a heading, 「## 」 a smaller one, 「・」 or 「- 」 a "
                        "bullet, 「1. 」 a numbered line; a blank line starts a new paragraph."))
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(mid);")
        self.map_url = QLineEdit(data.map_url)
        self.map_url.setPlaceholderText("https://maps.google.com/…")

        issued = QVBoxLayout()
        issued.addWidget(self.issued_on)
        issued.addWidget(self.issued_shown)
        body = QVBoxLayout()
        body.addWidget(self.body, 1)
        body.addWidget(hint)
        form = QFormLayout()
        form.addRow(_("&Title"), self.title)
        form.addRow(_("&Issued on"), issued)
        form.addRow(_("Issued &by"), self.issuer)
        form.addRow(_("&Text"), body)
        form.addRow(_("&Map link"), self.map_url)
        return form

    def _build_attachments(self, attached: Sequence[AttachmentInfo]) -> QGroupBox:
        box = QGroupBox(_("Attachments (printed after the text)"))
        self.attachments = QListWidget()
        self.attachments.setMaximumHeight(self.fontMetrics().lineSpacing() * 6)
        self._show_attachments(attached)
        self.add_image_button = QPushButton(_("Add an i&mage…"))
        self.add_image_button.clicked.connect(lambda: self.add_attachment(AttachmentKind.IMAGE))
        self.add_pdf_button = QPushButton(_("Add a P&DF…"))
        self.add_pdf_button.clicked.connect(lambda: self.add_attachment(AttachmentKind.PDF))
        self.add_map_button = QPushButton(_("Add a map ima&ge…"))
        self.add_map_button.clicked.connect(lambda: self.add_attachment(AttachmentKind.MAP))
        self.remove_button = QPushButton(_("Remo&ve"))
        self.remove_button.clicked.connect(self.remove_attachment)
        self.attachment_status = QLabel()
        self.attachment_status.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.add_image_button, self.add_pdf_button, self.add_map_button,
                       self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(box)
        layout.addWidget(self.attachments)
        layout.addLayout(buttons)
        layout.addWidget(self.attachment_status)
        return box

    def _build_target(self, data: CircularData) -> QGroupBox:
        box = QGroupBox(_("Who it is for"))
        self.target_all = QRadioButton(_("The &whole association"))
        self.target_groups = QRadioButton(_("Chosen &班 (or 地区)"))
        self.target_role = QRadioButton(_("Holders of a &role (this year)"))
        self.target_buttons = QButtonGroup(self)
        for kind, button in ((TargetKind.ALL, self.target_all),
                             (TargetKind.GROUPS, self.target_groups),
                             (TargetKind.ROLE, self.target_role)):
            self.target_buttons.addButton(button)
            button.setProperty("target", kind.value)
            button.setChecked(data.target_kind == kind)
        self.target_buttons.buttonToggled.connect(lambda _b, _on: self._target_changed())
        self.group_list = QListWidget()
        chosen = set(data.target_group_ids)
        for group_id, name, is_district in self.choices.groups:
            item = QListWidgetItem(name if is_district else f"　{name}")
            item.setData(_ID, group_id.hex)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if group_id in chosen
                               else Qt.CheckState.Unchecked)
            self.group_list.addItem(item)
        self.group_list.itemChanged.connect(lambda _item: self._count_timer.start())
        self.role = QComboBox()
        for role_id, name in self.choices.roles:
            self.role.addItem(name, role_id.hex)
        if data.target_role_id is not None:
            self.role.setCurrentIndex(max(0, self.role.findData(data.target_role_id.hex)))
        self.role.currentIndexChanged.connect(lambda _index: self._count_timer.start())
        self.recipient_count = QLabel()
        layout = QVBoxLayout(box)
        layout.addWidget(self.target_all)
        layout.addWidget(self.target_groups)
        layout.addWidget(self.group_list)
        layout.addWidget(self.target_role)
        layout.addWidget(self.role)
        layout.addWidget(self.recipient_count)
        return box

    def _build_ask(self, data: CircularData) -> QGroupBox:
        box = QGroupBox(_("What it asks of the reader"))
        self.ask = QComboBox()
        for ask, label in ASK_LABELS.items():
            self.ask.addItem(_(label), ask.value)
        self.ask.setCurrentIndex(self.ask.findData(data.ask.value))
        self.ask.currentIndexChanged.connect(lambda _index: self._ask_changed())
        self.deadline = QLineEdit(data.deadline.isoformat() if data.deadline else "")
        self.deadline.setPlaceholderText(_("e.g. 令和7年4月1日 or 2025-04-01"))
        self.deadline_shown = QLabel()
        self.deadline.textChanged.connect(
            lambda text: self._show_date(text, self.deadline_shown))
        self._show_date(self.deadline.text(), self.deadline_shown)

        self.questions = QTableWidget(0, 3)
        self.questions.setHorizontalHeaderLabels(
            [_("Question"), _("Kind"), _("Choices (separated by /)")])
        header = self.questions.horizontalHeader()
        header.setSectionResizeMode(QUESTION, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(KIND, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(CHOICES, QHeaderView.ResizeMode.Stretch)
        self.questions.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.questions.setTabKeyNavigation(False)
        self.questions.verticalHeader().setVisible(True)
        self.questions.setMinimumHeight(self.fontMetrics().lineSpacing() * 9)
        for question in data.questions:
            self._add_question_row(question)
        self.add_question_button = QPushButton(_("&Add a question"))
        self.add_question_button.clicked.connect(self.add_question)
        self.remove_question_button = QPushButton(_("Remove the &question"))
        self.remove_question_button.clicked.connect(self.remove_question)
        self.question_hint = QLabel(
            _("Up to {count} questions. Choices such as ○/×, 賛成/反対 or 希望する/しない; "
              "free-text questions need no choices.").format(count=MAX_QUESTIONS))
        self.question_hint.setWordWrap(True)
        question_buttons = QHBoxLayout()
        question_buttons.addWidget(self.add_question_button)
        question_buttons.addWidget(self.remove_question_button)
        question_buttons.addStretch(1)

        deadline = QVBoxLayout()
        deadline.addWidget(self.deadline)
        deadline.addWidget(self.deadline_shown)
        form = QFormLayout()
        form.addRow(_("As&ks for"), self.ask)
        form.addRow(_("&Deadline"), deadline)
        self.survey_box = QWidget()
        survey = QVBoxLayout(self.survey_box)
        survey.setContentsMargins(0, 0, 0, 0)
        survey.addWidget(self.questions)
        survey.addLayout(question_buttons)
        survey.addWidget(self.question_hint)
        layout = QVBoxLayout(box)
        layout.addLayout(form)
        layout.addWidget(self.survey_box)
        return box

    # ------------------------------------------------------------ live parts

    def _show_date(self, text: str, label: QLabel) -> None:
        try:
            label.setText(format_dual(parse_date(text)) if text.strip() else "")
        except ValueError:
            label.setText(_("(not a date)"))

    def _ask_changed(self) -> None:
        ask = self.current_ask()
        self.deadline.setEnabled(ask != Ask.NOTHING)
        self.survey_box.setVisible(ask == Ask.SURVEY)
        if ask == Ask.SURVEY and self.questions.rowCount() == 0:
            self.add_question()

    def current_ask(self) -> Ask:
        """The choice of the 「asks for」 box."""
        return Ask(self.ask.currentData())

    def current_target(self) -> TargetKind:
        """The target chosen with the radio buttons."""
        button = self.target_buttons.checkedButton()
        return TargetKind(button.property("target")) if button is not None else TargetKind.ALL

    def _target_changed(self) -> None:
        kind = self.current_target()
        self.group_list.setEnabled(kind == TargetKind.GROUPS)
        self.role.setEnabled(kind == TargetKind.ROLE)
        self._count_timer.start()

    def check_characters(self) -> list[str]:
        """Show which characters would print as empty boxes (and return them)."""
        texts = [self.title.text(), self.issuer.currentText(), self.body.toPlainText()]
        for row in range(self.questions.rowCount()):
            for column in (QUESTION, CHOICES):
                item = self.questions.item(row, column)
                texts.append(item.text() if item is not None else "")
        missing = unprintable(texts)
        if missing:
            self.font_warning.setText(_(
                "These characters are not in the printing font and would print as empty "
                "boxes: {characters}. Replace them (for example 𠮷 → 吉, an emoji → words)."
            ).format(characters="　".join(missing)))
        self.font_warning.setVisible(bool(missing))
        return missing

    def count_recipients(self) -> None:
        """Say how many households the target reaches (and how many on paper)."""
        try:
            data = self._target_data()
            with self.file.read() as session:
                found = circulars.target_households(session, data=data)
        except KairanError as error:
            self.recipient_count.setText(error.message)
            return
        paper = sum(1 for recipient in found if recipient.channel == NoticeChannel.PAPER)
        self.recipient_count.setText(
            _("Reaches {count} households ({paper} on paper).").format(
                count=len(found), paper=paper))

    # ------------------------------------------------------------ questions

    def _add_question_row(self, question: Question) -> None:
        row = self.questions.rowCount()
        self.questions.insertRow(row)
        self.questions.setItem(row, QUESTION, QTableWidgetItem(question.text))
        kind = QComboBox()
        for value, label in KIND_LABELS.items():
            kind.addItem(_(label), value.value)
        kind.setCurrentIndex(kind.findData(question.kind.value))
        self.questions.setCellWidget(row, KIND, kind)
        self.questions.setItem(row, CHOICES, QTableWidgetItem("/".join(question.choices)))

    def add_question(self) -> None:
        """Add a question row (at most :data:`MAX_QUESTIONS`) and start typing it."""
        if self.questions.rowCount() >= MAX_QUESTIONS:
            messages.warn(self, _("A survey has at most {count} questions.").format(
                count=MAX_QUESTIONS))
            return
        self._add_question_row(Question("", QuestionKind.CHOICE, ("賛成", "反対")))
        row = self.questions.rowCount() - 1
        self.questions.setCurrentCell(row, QUESTION)
        item = self.questions.item(row, QUESTION)
        if self.isVisible() and item is not None:
            self.questions.setFocus()
            self.questions.editItem(item)

    def remove_question(self) -> None:
        """Remove the selected question."""
        row = self.questions.currentRow()
        if row >= 0:
            self.questions.removeRow(row)
            self._live.start()

    def question_list(self) -> tuple[Question, ...]:
        """The survey's questions as typed."""
        result = []
        for row in range(self.questions.rowCount()):
            text_item = self.questions.item(row, QUESTION)
            choices_item = self.questions.item(row, CHOICES)
            kind_box = self.questions.cellWidget(row, KIND)
            kind = (QuestionKind(kind_box.currentData()) if isinstance(kind_box, QComboBox)
                    else QuestionKind.CHOICE)
            choices = split_choices(choices_item.text() if choices_item else "")
            result.append(Question(text_item.text().strip() if text_item else "", kind,
                                   choices if kind == QuestionKind.CHOICE else ()))
        return tuple(result)

    # ------------------------------------------------------------ attachments

    def _show_attachments(self, attached: Sequence[AttachmentInfo]) -> None:
        self.attachments.clear()
        for info in sorted(attached, key=lambda a: a.position):
            pages = (_(" ({pages} pages)").format(pages=info.page_count)
                     if info.kind == AttachmentKind.PDF else "")
            item = QListWidgetItem(
                f"{_(ATTACHMENT_LABELS[AttachmentKind(info.kind)])}: {info.file_name}{pages}")
            item.setData(_ID, info.id.hex)
            self.attachments.addItem(item)
        if self.attachments.count():
            self.attachments.setCurrentRow(self.attachments.count() - 1)

    def _reload_attachments(self) -> None:
        with self.file.read() as session:
            record = circulars.get_circular(session, circular_id=self.circular_id)
        self._show_attachments(record.attachments)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        for button in (self.add_image_button, self.add_pdf_button, self.add_map_button,
                       self.remove_button):
            button.setEnabled(not busy)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not busy)

    def add_attachment(self, kind: AttachmentKind) -> None:
        """Pick a file and attach it in the background (images are checked and scaled)."""
        if self.busy:
            return
        if kind == AttachmentKind.PDF:
            path = self.open_file(self, _("Attach a PDF"), _(PDF_FILTER))
        else:
            title = _("Attach a map image") if kind == AttachmentKind.MAP else _(
                "Attach an image")
            path = self.open_file(self, title, _(IMAGE_FILTER))
        if path is None:
            return
        association_file, circular_id = self.file, self.circular_id

        def work(_context: TaskContext) -> uuid.UUID:
            try:
                data = path.read_bytes()
            except OSError as error:
                raise KairanError(_("{file} cannot be read ({reason}).").format(
                    file=path, reason=error.strerror or error)) from None
            with association_file.write() as session:
                if kind == AttachmentKind.PDF:
                    return attachments.add_pdf(session, circular_id=circular_id,
                                               file_name=path.name, data=data)
                return attachments.add_image(session, circular_id=circular_id,
                                             file_name=path.name, data=data, kind=kind)

        def done(_attachment_id: uuid.UUID) -> None:
            self._set_busy(False)
            self.attachment_status.setStyleSheet("")
            self.attachment_status.setText(_("Attached {file}.").format(file=path.name))
            self._reload_attachments()

        def failed(error: BaseException) -> None:
            self._set_busy(False)
            if not isinstance(error, KairanError):
                raise error
            self.attachment_status.setStyleSheet("color: #b00020;")
            self.attachment_status.setText(error.message)
            messages.warn(self, error.message, title=_("Cannot attach"))

        self._set_busy(True)
        self.attachment_status.setStyleSheet("")
        self.attachment_status.setText(_("Attaching {file}…").format(file=path.name))
        self.tasks.run(work, parent=self, title=_("Attaching {file}…").format(file=path.name),
                       on_success=done, on_failure=failed, cancellable=False)

    def remove_attachment(self) -> None:
        """Remove the selected attachment (after asking)."""
        item = self.attachments.currentItem()
        if item is None or self.busy:
            return
        if not messages.confirm(self, _("Remove {attachment} from the circular?").format(
                attachment=item.text())):
            return
        try:
            with self.file.write() as session:
                attachments.remove_attachment(
                    session, attachment_id=uuid.UUID(hex=item.data(_ID)))
        except KairanError as error:
            messages.warn(self, error.message)
        self._reload_attachments()

    # ------------------------------------------------------------ saving

    def _date(self, edit: QLineEdit, field: str, *, required: bool) -> date | None:
        text = edit.text().strip()
        if not text and not required:
            return None
        try:
            return parse_date(text)
        except ValueError:
            raise KairanError(
                _("「{value}」 is not a date. Type it as 令和7年4月1日 or 2025-04-01.")
                .format(value=text), field=field) from None

    def _target_data(self) -> CircularData:
        """Only what the target needs (for the live count)."""
        return CircularData(title="", body="", issued_on=date.today(),
                            target_kind=self.current_target(),
                            target_group_ids=self.chosen_groups(),
                            target_role_id=self.chosen_role())

    def chosen_groups(self) -> tuple[uuid.UUID, ...]:
        """The ticked 班 and 地区."""
        return tuple(
            uuid.UUID(hex=self.group_list.item(row).data(_ID))
            for row in range(self.group_list.count())
            if self.group_list.item(row).checkState() == Qt.CheckState.Checked
        )

    def chosen_role(self) -> uuid.UUID | None:
        """The role whose holders receive it, if that target is chosen."""
        data = self.role.currentData()
        return uuid.UUID(hex=data) if data else None

    def form(self) -> CircularData:
        """The circular as typed (the domain validates when saving)."""
        ask = self.current_ask()
        target = self.current_target()
        issued = self._date(self.issued_on, "issued_on", required=True)
        assert issued is not None
        return CircularData(
            title=self.title.text(),
            body=self.body.toPlainText(),
            issued_on=issued,
            issuer=self.issuer.currentText(),
            map_url=self.map_url.text(),
            target_kind=target,
            target_group_ids=self.chosen_groups() if target == TargetKind.GROUPS else (),
            target_role_id=self.chosen_role() if target == TargetKind.ROLE else None,
            ask=ask,
            questions=self.question_list() if ask == Ask.SURVEY else (),
            deadline=(self._date(self.deadline, "deadline", required=False)
                      if ask != Ask.NOTHING else None),
        )

    def _snapshot(self) -> object:
        try:
            return self.form()
        except KairanError:
            return None

    def changed(self) -> bool:
        """Whether the form differs from what was last saved."""
        return self._snapshot() != self._initial

    def accept(self) -> None:
        """Save; on a problem, say what and where, focus the field and stay open."""
        if self.busy:
            return
        try:
            data = circulars.clean_circular(self.form())
            with self.file.write() as session:
                circulars.update_circular(session, circular_id=self.circular_id, data=data)
        except KairanError as error:
            messages.warn(self, error.message, title=_("Cannot save"))
            self.focus_field(error.field)
            return
        self.saved = True
        super().accept()

    def reject(self) -> None:
        """Cancel: a new circular is thrown away, changes are dropped — after asking."""
        if self.busy:
            return
        if self.changed() and not messages.confirm(
                self, _("Close without saving the changes?")):
            return
        if self.is_new:
            try:
                with self.file.write() as session:
                    circulars.delete_circular(session, circular_id=self.circular_id)
            except KairanError as error:
                messages.warn(self, error.message)
        super().reject()

    def focus_field(self, field: str | None) -> QWidget | None:
        """Put the cursor in the field a validation error names (``questions[2]`` → row 3)."""
        name = re.split(r"[.\[]", field or "", maxsplit=1)[0]
        widgets: dict[str, QWidget] = {
            "title": self.title, "body": self.body, "issued_on": self.issued_on,
            "issuer": self.issuer, "map_url": self.map_url, "ask": self.ask,
            "deadline": self.deadline, "questions": self.questions,
            "target_kind": self.target_all, "target_group_ids": self.group_list,
            "target_role_id": self.role,
            "target": self.role if self.current_target() == TargetKind.ROLE else self.group_list,
            "attachments": self.attachments,
        }
        widget = widgets.get(name)
        if widget is None:
            return None
        if widget is self.questions:
            index = re.search(r"\d+", (field or "")[len(name):])
            row = int(index.group()) if index else 0
            if self.questions.rowCount():
                self.questions.setCurrentCell(min(row, self.questions.rowCount() - 1),
                                              QUESTION)
        widget.setFocus()
        if isinstance(widget, QLineEdit):
            widget.selectAll()
        return widget

