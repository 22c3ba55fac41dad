"""Printing and exporting a general meeting from the window.

:class:`MeetingPrintDialog` chooses one document — the forms for each voter (出欠票・委任状・
書面議決書), the door's check-in list, the list of those who have not returned a form, or the
results for the minutes — and the 班; the PDF is made in the background with progress and
Cancel, then shown in the preview to print or save, as for circulars. Making the forms marks
them printed: from then on an agenda item cannot be removed, and one added is known not to be
on the paper. :func:`export_meeting` writes every voter's record and the tally to an .xlsx
file, also in the background.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.association import get_association
from desktop.domain.errors import KairanError
from desktop.domain.meeting import meetings
from desktop.domain.wareki import format_dual, format_wareki, parse_date
from desktop.i18n import N_, _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from desktop.ui.print_dialog import Progress, Render, _PrintDialog
from desktop.ui.tasks import Task, TaskCancelled, TaskContext, TaskRunner
from reports.pdf import meeting_pdf, meeting_source
from reports.pdf.meeting_input import MeetingVoterPrint
from reports.pdf.unanswered_pdf import (
    UnansweredGroup,
    UnansweredHousehold,
    UnansweredList,
    render_unanswered,
)

MEETING_DOCUMENTS = (
    ("forms", N_("The forms for each voter: attendance, proxy, written vote "
                 "(出欠票・委任状・書面議決書)")),
    ("checkin", N_("The check-in list for the door, per 班 (受付名簿)")),
    ("not_returned", N_("Who has not returned a form yet, per 班 (未回答一覧)")),
    ("results", N_("The results for the minutes (議決結果)")),
)
_DOCUMENT_NAMES = {"forms": "総会書類", "checkin": "受付名簿", "not_returned": "総会未回答一覧",
                   "results": "議決結果"}
_NAME = Qt.ItemDataRole.UserRole + 1  # a 班 item's plain name (its text carries the count)
_UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|]')

AskSavePath = Callable[[QWidget, str], Path | None]  # parent, suggested file → path or None


class MeetingPrintDialog(_PrintDialog):
    """Choose what to print for a general meeting, and for which 班."""

    def __init__(self, parent: QWidget | None, association_file: AssociationFile,
                 tasks: TaskRunner, *, meeting_id: uuid.UUID,
                 today: Callable[[], date] = date.today,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 job_folder: Path | None = None) -> None:
        super().__init__(parent, association_file, tasks, today=today, job_folder=job_folder)
        self.meeting_id = meeting_id
        self.now = now
        self.forms_marked = False
        with association_file.read() as session:
            self.record = meetings.get_meeting(session, meeting_id=meeting_id)
            voters = meetings.meeting_voters(session, meeting_id=meeting_id)
        title = self.record.data.title
        self.setWindowTitle(_("Print for 「{title}」").format(title=title))
        kinds = self._documents_box(MEETING_DOCUMENTS, "forms")
        self.documents.buttonToggled.connect(lambda _button, _on: self._document_changed())

        sizes = Counter(voter.group_name for voter in voters)
        for name, count in sizes.items():  # in list order: 班 in tree order
            item = QListWidgetItem(_("{group} ({count} voters)").format(
                group=name or _("(no 班)"), count=count))
            item.setData(_NAME, name)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.groups.addItem(item)
        self.groups_box = self._groups_box(_("班 to print"))

        self._build_forms_options()
        self.accepted.connect(self._after_printing)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("「{title}」 — {date}, {count} voters").format(
            title=title, date=format_wareki(self.record.data.held_on),
            count=self.record.voters)))
        layout.addWidget(kinds)
        layout.addWidget(self.groups_box)
        layout.addWidget(self.forms_options)
        layout.addWidget(self.large)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.document_printed = ""  # the document of the job last started
        self._document_changed()
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 44, em * 40)
        self.print_button.setFocus()

    def _build_forms_options(self) -> None:
        """What only the forms have: reprinting for those who returned nothing, the
        deadline printed on them, and what printing them means for the agenda."""
        self.unreturned_only = QCheckBox(
            _("Only voters who have returned &nothing yet (to hand out again)"))
        self.deadline = QLineEdit()
        self.deadline.setPlaceholderText(_("empty: by the start of the meeting"))
        self.deadline_shown = QLabel()
        self.deadline.textChanged.connect(lambda _text: self._show_deadline())
        deadline = QHBoxLayout()
        deadline_label = QLabel(_("Return the forms &by"))
        deadline_label.setBuddy(self.deadline)
        deadline.addWidget(deadline_label)
        deadline.addWidget(self.deadline, 1)
        deadline.addWidget(self.deadline_shown)
        self.forms_options = QWidget()
        options = QVBoxLayout(self.forms_options)
        options.setContentsMargins(0, 0, 0, 0)
        options.addWidget(self.unreturned_only)
        options.addLayout(deadline)
        self.forms_note = QLabel(
            _("Printed on {date}. Items added since are marked as not on the forms.").format(
                date=format_dual(self.record.forms_printed_at.astimezone().date()))
            if self.record.forms_printed_at is not None else
            _("Once the forms are made, agenda items can no longer be removed, and an item "
              "added later is marked as not on the forms."))
        self.forms_note.setWordWrap(True)
        options.addWidget(self.forms_note)

    def _document_changed(self) -> None:
        document = self.document()
        self.forms_options.setVisible(document == "forms")
        self.groups_box.setEnabled(document != "results")

    def _show_deadline(self) -> None:
        text = self.deadline.text()
        try:
            self.deadline_shown.setText(format_dual(parse_date(text)) if text.strip() else "")
        except ValueError:
            self.deadline_shown.setText(_("(not a date)"))

    def ticked_names(self) -> list[str]:
        """The names of the ticked 班 ("" for voters in no 班)."""
        return [str(item.data(_NAME))
                for item in (self.groups.item(row) for row in range(self.groups.count()))
                if item.checkState() == Qt.CheckState.Checked]

    def tick_only(self, names: Sequence[str]) -> None:
        """Tick the 班 named (by their names alone), untick the others."""
        for row in range(self.groups.count()):
            item = self.groups.item(row)
            item.setCheckState(Qt.CheckState.Checked if item.data(_NAME) in names
                               else Qt.CheckState.Unchecked)

    def _deadline(self) -> date | None:
        text = self.deadline.text().strip()
        if not text:
            return None
        try:
            return parse_date(text)
        except ValueError:
            raise KairanError(_("「{value}」 is not a date. Type it as 令和7年4月1日 or "
                                "2025-04-01.").format(value=text), field="deadline") from None

    # ------------------------------------------------------------ the job

    def job(self) -> tuple[Render, str, str] | None:
        document = self.document()
        names = None if self.all_ticked() else set(self.ticked_names())
        if document != "results" and names is not None and not names:
            self.status.setText(_("Tick at least one 班."))
            return None
        association_file, meeting_id = self.file, self.meeting_id
        today, large = self.today(), self.large.isChecked()
        deadline = self._deadline() if document == "forms" else None
        unreturned = self.unreturned_only.isChecked()

        def chosen(voters: list[MeetingVoterPrint]) -> list[MeetingVoterPrint]:
            picked = [voter for voter in voters if names is None or voter.group_name in names]
            if document == "forms" and unreturned:
                picked = [voter for voter in picked if voter.returned is None]
            if not picked:
                raise KairanError(_("There are no voters to print. Tick other 班, or untick "
                                    "「only voters who have returned nothing」."))
            return picked

        def render(path: Path, progress: Progress) -> int:
            with association_file.read() as session:
                documents = meeting_source.load_documents(
                    session, meeting_id=meeting_id, printed_on=today, deadline=deadline)
            meeting, tally = documents.meeting, documents.tally
            if document == "forms":
                return meeting_pdf.render_forms(path, meeting=meeting,
                                                voters=chosen(documents.voters), large=large,
                                                progress=progress)
            if document == "checkin":
                return meeting_pdf.render_checkin_list(path, meeting=meeting,
                                                       voters=chosen(documents.voters),
                                                       large=large, progress=progress)
            if document == "results":
                return meeting_pdf.render_results(path, meeting=meeting, tally=tally,
                                                  large=large, progress=progress)
            sizes = Counter(voter.group_name for voter in documents.voters)
            groups = tuple(
                UnansweredGroup(chase.group_name,
                                tuple(UnansweredHousehold(voter.number, voter.name, "")
                                      for voter in chase.voters),
                                sizes[chase.group_name])
                for chase in tally.not_returned
                if names is None or chase.group_name in names)
            return render_unanswered(path, document=UnansweredList(
                association=meeting.association, circular_title=meeting.title,
                deadline=meeting.held_on, printed_on=today, groups=groups),
                large=large, progress=progress)

        self.document_printed = document
        title = dict(MEETING_DOCUMENTS)[document]
        return render, _(title), f"{_DOCUMENT_NAMES[document]}_{self.record.data.title}"

    def _after_printing(self) -> None:
        """The forms are made (and shown): from now on they count as printed."""
        if self.document_printed != "forms" or self.record.forms_printed_at is not None:
            return
        try:
            with self.file.write() as session:
                meetings.mark_forms_printed(session, meeting_id=self.meeting_id, at=self.now())
        except KairanError as error:
            messages.warn(self, error.message)
            return
        self.forms_marked = True


# ---------------------------------------------------------------- the Excel export


def ask_xlsx_path(parent: QWidget, suggested: str) -> Path | None:
    """The system's save dialog for an .xlsx file (the seam tests replace)."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    name, _filter = QFileDialog.getSaveFileName(
        parent, _("Export the meeting to"), str(Path(folder) / suggested),
        _("Excel workbook (*.xlsx)"))
    if not name:
        return None
    path = Path(name)
    return path if path.suffix.lower() == ".xlsx" else path.with_name(path.name + ".xlsx")


def export_meeting(parent: QWidget, association_file: AssociationFile, tasks: TaskRunner, *,
                   meeting_id: uuid.UUID, today: date, ask_path: AskSavePath = ask_xlsx_path,
                   done: Callable[[Path, int], None] | None = None) -> Task[int] | None:
    """Ask where, then write every voter's record and the tally to an .xlsx file in the
    background; ``done(path, rows)`` runs when it is written. None when not started."""
    from reports.meeting_xlsx import export_meeting_xlsx

    with association_file.read() as session:
        association = get_association(session).name
        title = meetings.get_meeting(session, meeting_id=meeting_id).data.title
    safe = [_UNSAFE_IN_NAMES.sub("_", part).strip()[:30] for part in (association, title)]
    path = ask_path(parent, f"{safe[0] or 'Kairan'}_{safe[1]}_{today:%Y%m%d}.xlsx")
    if path is None:
        return None

    def work(context: TaskContext) -> int:
        with association_file.read() as session:
            documents = meeting_source.load_documents(session, meeting_id=meeting_id,
                                                      printed_on=today)
        return export_meeting_xlsx(path, meeting=documents.meeting, tally=documents.tally,
                                   progress=context.progress)

    def written(rows: int) -> None:
        if done is not None:
            done(path, rows)

    def failed(error: BaseException) -> None:
        if isinstance(error, KairanError):
            messages.warn(parent, error.message)
        elif not isinstance(error, TaskCancelled):
            raise error

    return tasks.run(work, parent=parent, title=_("Exporting {file}…").format(file=path.name),
                     on_success=written, on_failure=failed)
