"""Entering the replies that come back on paper: scan or type, answer, Enter — and at once
who has and has not answered, per 班.

Keyboard first. The cursor starts in the slip field: a USB barcode scanner types the slip's
QR code and presses Enter; an officer types the household number and Enter. Then one field
per question (for 出欠, 1 or 2), Enter on the last records the reply and brings the cursor
back to the slip field for the next one. The result of the last entry stays in large type
(recorded / already entered, nothing changed / the problem in red). The same slip entered
twice changes nothing; a different answer for a household that has answered is replaced
only when the officer confirms it is a correction.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import circulars, replies
from desktop.domain.association import get_association
from desktop.domain.circulars import Question, QuestionKind, Recipient
from desktop.domain.errors import KairanError
from desktop.domain.models import Ask, CircularStatus, ReplyChannel
from desktop.domain.replies import (
    AlreadyAnswered,
    GroupReplyStatus,
    ReplyOutcome,
    ReplyRecord,
    format_answers,
)
from desktop.domain.slips import parse_slip_code
from desktop.domain.wareki import format_wareki
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from desktop.ui.pdf_preview import PdfPreview
from desktop.ui.print_dialog import Progress, file_name, render_to_preview
from desktop.ui.tasks import Task, TaskCancelled, TaskRunner
from reports.pdf.unanswered_pdf import load_unanswered, render_unanswered

# Paper first (the default); the app's answers arrive through the relay, not typed here.
ENTRY_CHANNELS = (ReplyChannel.PAPER, ReplyChannel.PHONE, ReplyChannel.IN_PERSON,
                  ReplyChannel.EMAIL)
RESULT_SCALE = 1.3  # the last entry's result reads from arm's length
_GOOD, _SAME, _BAD = "#1b5e20", "#7a4f00", "#b00020"
_ID = Qt.ItemDataRole.UserRole


def _number_key(number: str) -> str:
    """「12」, 「０１２」 and 「0012」 name the same household (as the domain reads them)."""
    folded = unicodedata.normalize("NFKC", number).strip()
    return str(int(folded)) if folded.isascii() and folded.isdigit() else folded


class ReplyEntry(QDialog):
    """The reply-entry screen of one sent circular."""

    def __init__(
        self,
        parent: QWidget | None,
        association_file: AssociationFile,
        tasks: TaskRunner,
        *,
        circular_id: uuid.UUID,
        now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
        today: Callable[[], date] = date.today,
        job_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.file = association_file
        self.tasks = tasks
        self.circular_id = circular_id
        self.now = now
        self.today = today
        self.job_folder = job_folder
        self.printing = False
        self.task: Task[Path] | None = None
        self.preview: PdfPreview | None = None
        self.status_rows: list[GroupReplyStatus] = []
        self._households: dict[str, tuple[Recipient | ReplyRecord, str]] = {}
        with association_file.read() as session:
            record = circulars.get_circular(session, circular_id=circular_id)
        if record.status != CircularStatus.SENT:
            raise KairanError(_("「{title}」 has not been sent yet. Send it before entering "
                                "replies.").format(title=record.data.title))
        self.data = record.data
        self.questions: tuple[Question, ...] = circulars.questions_of(record.data)
        self.setWindowTitle(_("Replies: {title}").format(title=record.data.title))

        heading, form = self._build_entry()
        self._build_status()
        entry_side = QVBoxLayout()
        entry_side.addWidget(heading)
        entry_side.addLayout(form)
        entry_side.addWidget(self.record_button, 0, Qt.AlignmentFlag.AlignLeft)
        entry_side.addWidget(self.last_result)
        entry_side.addStretch(1)
        status_side = QVBoxLayout()
        status_side.addWidget(self.totals)
        status_side.addWidget(self.tree, 1)
        status_side.addWidget(self.print_button, 0, Qt.AlignmentFlag.AlignLeft)
        columns = QHBoxLayout()
        columns.addLayout(entry_side, 3)
        columns.addLayout(status_side, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.close_buttons)
        self.refresh()
        for status in self.status_rows:
            if status.group_id is not None:
                self.group_filter.addItem(status.group_name, status.group_id.hex)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 80, em * 44)
        self.entry.setFocus()

    def _build_entry(self) -> tuple[QLabel, QFormLayout]:
        """The slip field, one field per question, the result line."""
        heading = QLabel(self._heading())
        heading.setWordWrap(True)
        _scale(heading, 1.15, bold=True)
        self.channel = QComboBox()
        for channel in ENTRY_CHANNELS:
            self.channel.addItem(replies.channel_label(channel), channel.value)
        self.group_filter = QComboBox()
        self.group_filter.addItem(_("All 班"), "")
        self.group_filter.currentIndexChanged.connect(lambda _index: self._filter_changed())
        self.entry = QLineEdit()
        self.entry.setPlaceholderText(
            _("Scan the slip's QR code, or type the household number and press Enter"))
        _scale(self.entry, RESULT_SCALE)
        self.entry.textChanged.connect(self._show_who)
        self.entry.installEventFilter(self)
        self.who = QLabel()
        self.answers: list[QLineEdit] = []
        form = QFormLayout()
        form.addRow(_("Reply &by"), self.channel)
        form.addRow(_("Entering &班"), self.group_filter)
        form.addRow(_("&Slip or household number"), self.entry)
        form.addRow("", self.who)
        for number, question in enumerate(self.questions, start=1):
            field = QLineEdit()
            field.setPlaceholderText(self._answer_hint(question))
            _scale(field, RESULT_SCALE)
            field.installEventFilter(self)
            self.answers.append(field)
            form.addRow(f"{number}. {question.text}", field)
        if self.data.ask == Ask.READ:
            form.addRow("", QLabel(_("A read confirmation needs no answer: Enter records it.")))
        self.record_button = QPushButton(_("&Record (Enter)"))
        self.record_button.clicked.connect(self.record)
        self.last_result = QLabel()
        self.last_result.setWordWrap(True)
        self.last_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        _scale(self.last_result, RESULT_SCALE, bold=True)
        return heading, form

    def _build_status(self) -> None:
        """Who has answered, per 班, and the unanswered list."""
        self.totals = QLabel()
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels([_("班 / household"), _("Replied"), _("Not replied")])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        self.print_button = QPushButton(_("Print the &unanswered list…"))
        self.print_button.clicked.connect(self.print_unanswered)
        self.close_buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.close_buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self).activated.connect(self.record)

    def _heading(self) -> str:
        parts = [self.data.title]
        if self.data.deadline is not None:
            parts.append(_("due {date}").format(date=format_wareki(self.data.deadline)))
        return "　".join(parts)

    @staticmethod
    def _answer_hint(question: Question) -> str:
        if question.kind == QuestionKind.TEXT:
            return _("Free text (may be left empty)")
        return "　".join(f"{index} = {choice}"
                        for index, choice in enumerate(question.choices, start=1))

    # ------------------------------------------------------------ keys

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() == Qt.KeyboardModifier.NoModifier):
            if watched is self.entry:
                if self.answers and self.entry.text().strip():
                    self.answers[0].setFocus()
                    self.answers[0].selectAll()
                else:
                    self.record()
                return True
            if watched in self.answers:
                position = self.answers.index(watched)
                if position + 1 < len(self.answers):
                    self.answers[position + 1].setFocus()
                    self.answers[position + 1].selectAll()
                else:
                    self.record()
                return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------ recording

    def expected_group(self) -> uuid.UUID | None:
        """The 班 being entered (its slips only), or None for all."""
        value = self.group_filter.currentData()
        return uuid.UUID(hex=value) if value else None

    def current_channel(self) -> ReplyChannel:
        """How the replies being entered came in."""
        return ReplyChannel(self.channel.currentData())

    def record(self) -> ReplyOutcome | None:
        """Record the reply typed; show the result and be ready for the next one."""
        entry = self.entry.text()
        answers = [field.text() for field in self.answers]
        try:
            outcome, reply = self._record(entry, answers, correct=False)
        except AlreadyAnswered as error:
            question = _("{message}\n\nReplace the earlier answer with this one?").format(
                message=error.message)
            if not messages.confirm(self, question, title=_("Already answered")):
                self._show(_("Not changed: {who} keeps 「{answers}」.").format(
                    who=self._who(error.existing),
                    answers=format_answers(error.existing.answers)), _SAME)
                self._ready()
                return ReplyOutcome.UNCHANGED
            try:
                outcome, reply = self._record(entry, answers, correct=True)
            except KairanError as second:
                self._problem(second)
                return None
        except KairanError as error:
            self._problem(error)
            return None
        texts = {
            ReplyOutcome.RECORDED: (_("Recorded: {who} — {answers}"), _GOOD),
            ReplyOutcome.CORRECTED: (_("Corrected: {who} — now {answers}"), _GOOD),
            ReplyOutcome.UNCHANGED: (_("Already entered with the same answer: {who} — "
                                       "{answers}. Nothing changed."), _SAME),
        }
        text, colour = texts[outcome]
        self._show(text.format(who=self._who(reply), answers=format_answers(reply.answers)),
                   colour)
        self.refresh()
        self._ready()
        return outcome

    def _record(self, entry: str, answers: list[str], *,
                correct: bool) -> tuple[ReplyOutcome, ReplyRecord]:
        with self.file.write() as session:
            return replies.record_reply(
                session, circular_id=self.circular_id, entry=entry, answers=answers,
                channel=self.current_channel(), received_at=self.now(),
                expected_group_id=self.expected_group(), correct=correct)

    @staticmethod
    def _who(reply: ReplyRecord) -> str:
        where = f"（{reply.group_name}）" if reply.group_name else ""
        return f"{reply.number} {reply.display_name}{where}"

    def _show(self, text: str, colour: str) -> None:
        self.last_result.setText(text)
        self.last_result.setStyleSheet(f"color: {colour};")

    def _problem(self, error: KairanError) -> None:
        """Say what is wrong, in red, and put the cursor where it can be fixed."""
        self._show(error.message, _BAD)
        target = self.answers[0] if error.field == "answers" and self.answers else self.entry
        target.setFocus()
        target.selectAll()

    def _ready(self) -> None:
        self.entry.clear()
        for field in self.answers:
            field.clear()
        self.entry.setFocus()

    # ------------------------------------------------------------ who has answered

    def refresh(self) -> None:
        """Read who has and has not answered, per 班, and show it."""
        with self.file.read() as session:
            self.status_rows = replies.reply_status(session, circular_id=self.circular_id)
        self._households = {}
        for status in self.status_rows:
            for record in status.answered:
                self._households[_number_key(record.number)] = (record, status.group_name)
            for recipient in status.unanswered:
                self._households[_number_key(recipient.number)] = (recipient,
                                                                   status.group_name)
        self._fill_tree()

    def _fill_tree(self) -> None:
        expected = self.expected_group()
        shown = [status for status in self.status_rows
                 if expected is None or status.group_id == expected]
        answered = sum(len(status.answered) for status in shown)
        total = answered + sum(len(status.unanswered) for status in shown)
        self.totals.setText(_("Answered {answered} of {total} · {left} not yet").format(
            answered=answered, total=total, left=total - answered))
        self.tree.clear()
        for status in shown:
            group = QTreeWidgetItem([status.group_name or _("(no 班)"),
                                     str(len(status.answered)), str(len(status.unanswered))])
            group.setData(0, _ID, status.group_id.hex if status.group_id else "")
            for column in (1, 2):
                group.setTextAlignment(column, Qt.AlignmentFlag.AlignRight)
            for recipient in status.unanswered:
                group.addChild(QTreeWidgetItem([f"{recipient.number}  {recipient.display_name}"]))
            self.tree.addTopLevelItem(group)
            group.setExpanded(expected is not None or len(shown) <= 12)
        self.tree.resizeColumnToContents(1)
        self.tree.resizeColumnToContents(2)

    def _groups_shown(self) -> list[QTreeWidgetItem]:
        items = (self.tree.topLevelItem(row) for row in range(self.tree.topLevelItemCount()))
        return [item for item in items if item is not None]

    def counts(self) -> dict[str, tuple[int, int]]:
        """班 name → (answered, not yet), as the tree shows them."""
        return {group.text(0): (int(group.text(1)), int(group.text(2)))
                for group in self._groups_shown()}

    def unanswered_shown(self) -> list[str]:
        """The households listed under each 班 as not answered yet."""
        return [child.text(0) for group in self._groups_shown()
                for child in (group.child(index) for index in range(group.childCount()))
                if child is not None]

    def _filter_changed(self) -> None:
        self._fill_tree()
        self.entry.setFocus()

    def _show_who(self, text: str) -> None:
        """While typing: whose slip it is, and whether they have answered."""
        if not text.strip():
            self.who.clear()
            return
        try:
            number = parse_slip_code(text).household_number
        except KairanError:
            self.who.clear()
            return
        found = self._households.get(_number_key(number))
        if found is None:
            self.who.setText(_("(not among the households of this circular)"))
            return
        household, group = found
        where = f"（{group}）" if group else ""
        text = f"→ {household.number} {household.display_name}{where}"
        if isinstance(household, ReplyRecord):
            text += "　" + _("answered 「{answers}」").format(
                answers=format_answers(household.answers))
        self.who.setText(text)

    # ------------------------------------------------------------ the unanswered list

    def print_unanswered(self) -> None:
        """Make the unanswered list (the 班 filtered, or every 班) and preview it."""
        if self.printing:
            return
        expected = self.expected_group()
        association_file, circular_id, today = self.file, self.circular_id, self.today()

        def render(path: Path, progress: Progress) -> int:
            with association_file.read() as session:
                document = load_unanswered(
                    session, circular_id=circular_id, printed_on=today,
                    group_ids=[expected] if expected is not None else None)
            return render_unanswered(path, document=document, progress=progress)

        def shown(preview: PdfPreview) -> None:
            self.printing = False
            self.preview = preview

        def failed(error: BaseException) -> None:
            self.printing = False
            if isinstance(error, KairanError):
                messages.warn(self, error.message)
            elif not isinstance(error, TaskCancelled):
                raise error

        self.printing = True
        with self.file.read() as session:
            association = get_association(session).name
        self.task = render_to_preview(
            self, self.tasks, render=render, title=_("Unanswered list"),
            suggested_name=file_name(association, f"未回答一覧_{self.data.title}", today),
            job_folder=self.job_folder, shown=shown, failed=failed)

    def reject(self) -> None:
        """Close, but not while the unanswered list is being made."""
        if not self.printing:
            super().reject()


def _scale(widget: QWidget, factor: float, *, bold: bool = False) -> None:
    font = QFont(widget.font())
    font.setPointSizeF(font.pointSizeF() * factor)
    font.setBold(bold)
    widget.setFont(font)
