"""Printing from the window: choose what to print, render the PDF in the background with
progress and Cancel, then look at it in the preview and print or save it from there.

Two dialogs share the machinery: :class:`CircularPrintDialog` (the 回覧板 packet per 班, the
personal copies for paper households, or both) and :class:`RosterPrintDialog` (班 lists, the
officers' contact list, address labels). The PDF is written to a temporary file that the
preview deletes when it closes; a cancelled job leaves no file (the renderers write beside
the target and rename at the end).
"""

from __future__ import annotations

import re
import secrets
import tempfile
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import circulars
from desktop.domain.association import get_association
from desktop.domain.errors import KairanError
from desktop.domain.groups import group_tree
from desktop.domain.models import GroupKind, NoticeChannel
from desktop.i18n import N_, _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from desktop.ui.pdf_preview import PdfPreview
from desktop.ui.tasks import Task, TaskCancelled, TaskContext, TaskRunner
from reports.pdf import circular_pdf, circular_source, labels, roster_pdf, roster_source

Progress = Callable[[int, int], None]
Render = Callable[[Path, Progress], int]  # write the PDF to the path; returns its page count
_ID = Qt.ItemDataRole.UserRole
_UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|]')
MAX_NAME_PART = 30  # characters of the association's name and of the document's in a file name


def default_job_folder() -> Path:
    """Where print jobs are rendered before the preview shows them (the system's temp)."""
    folder = Path(tempfile.gettempdir()) / "kairan-print"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def file_name(association: str, document: str, day: date) -> str:
    """「桜町自治会_班別名簿_20260601.pdf」: safe on every file system, and short enough for
    any (a circular's title may be long; Linux allows 255 bytes, 85 kanji)."""
    name = _UNSAFE_IN_NAMES.sub("_", association).strip()[:MAX_NAME_PART] or "Kairan"
    part = _UNSAFE_IN_NAMES.sub("_", document).strip()[:MAX_NAME_PART]
    return f"{name}_{part}_{day:%Y%m%d}.pdf"


def render_to_preview(
    parent: QWidget,
    tasks: TaskRunner,
    *,
    render: Render,
    title: str,
    suggested_name: str,
    job_folder: Path | None,
    shown: Callable[[PdfPreview], None],
    failed: Callable[[BaseException], None],
    preview_parent: QWidget | None = None,
) -> Task[Path]:
    """Render in the background with progress and Cancel, then open the preview.

    ``failed`` receives :class:`TaskCancelled` and :class:`KairanError`; anything else is a
    bug and is raised.
    """
    folder = job_folder or default_job_folder()
    path = folder / f"{Path(suggested_name).stem}-{secrets.token_hex(4)}.pdf"

    def work(context: TaskContext) -> Path:
        render(path, context.progress)
        return path

    def done(written: Path) -> None:
        try:
            preview = PdfPreview(preview_parent if preview_parent is not None else parent,
                                 written, tasks=tasks, title=title,
                                 suggested_name=suggested_name, delete_on_close=True)
        except KairanError as error:
            written.unlink(missing_ok=True)
            failed(error)
            return
        preview.open()  # window-modal, without a nested event loop
        shown(preview)

    def not_done(error: BaseException) -> None:
        if not isinstance(error, TaskCancelled | KairanError):
            raise error
        failed(error)

    return tasks.run(work, parent=parent, title=_("Preparing {title}…").format(title=title),
                     on_success=done, on_failure=not_done)


class _PrintDialog(QDialog):
    """What the two print dialogs share: the 班 checklist, large print, and the job."""

    def __init__(self, parent: QWidget | None, association_file: AssociationFile,
                 tasks: TaskRunner, *, today: Callable[[], date],
                 job_folder: Path | None) -> None:
        super().__init__(parent)
        self.file = association_file
        self.tasks = tasks
        self.today = today
        self.job_folder = job_folder
        self.running = False
        self.task: Task[Path] | None = None
        self.preview: PdfPreview | None = None
        with association_file.read() as session:
            self.association = get_association(session).name
        self.groups = QListWidget()
        self.all_groups = QPushButton(_("&All"))
        self.all_groups.clicked.connect(lambda: self._tick_all(True))
        self.no_groups = QPushButton(_("N&one"))
        self.no_groups.clicked.connect(lambda: self._tick_all(False))
        self.large = QCheckBox(_("&Large print"))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.print_button = self.buttons.addButton(_("&Preview and print…"),
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.print_button.setDefault(True)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)

    def _documents_box(self, documents: Sequence[tuple[str, str]], default: str) -> QGroupBox:
        """「What to print」: one radio button per ``(key, label)``, ``default`` chosen."""
        self.documents = QButtonGroup(self)
        self.document_buttons: dict[str, QRadioButton] = {}
        self._default_document = default
        kinds = QGroupBox(_("What to print"))
        kinds_layout = QVBoxLayout(kinds)
        for key, label in documents:
            button = QRadioButton(_(label))
            button.setProperty("document", key)
            self.documents.addButton(button)
            self.document_buttons[key] = button
            kinds_layout.addWidget(button)
        self.document_buttons[default].setChecked(True)
        return kinds

    def document(self) -> str:
        """The key of the chosen document."""
        button = self.documents.checkedButton()
        return str(button.property("document")) if button is not None \
            else self._default_document

    def choose(self, document: str) -> None:
        """Choose a document by its key."""
        self.document_buttons[document].setChecked(True)

    def _groups_box(self, title: str) -> QGroupBox:
        box = QGroupBox(title)
        quick = QHBoxLayout()
        quick.addWidget(self.all_groups)
        quick.addWidget(self.no_groups)
        quick.addStretch(1)
        layout = QVBoxLayout(box)
        layout.addWidget(self.groups)
        layout.addLayout(quick)
        return box

    def _add_group(self, group_id: uuid.UUID | None, name: str) -> None:
        item = QListWidgetItem(name)
        item.setData(_ID, group_id.hex if group_id is not None else "")
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        self.groups.addItem(item)

    def _tick_all(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for row in range(self.groups.count()):
            self.groups.item(row).setCheckState(state)

    def tick_only(self, names: Sequence[str]) -> None:
        """Tick the 班 named, untick the others."""
        for row in range(self.groups.count()):
            item = self.groups.item(row)
            item.setCheckState(Qt.CheckState.Checked if item.text() in names
                               else Qt.CheckState.Unchecked)

    def ticked(self) -> list[uuid.UUID | None]:
        """The ids of the ticked 班 (None: households in no 班)."""
        return [uuid.UUID(hex=item.data(_ID)) if item.data(_ID) else None
                for item in (self.groups.item(row) for row in range(self.groups.count()))
                if item.checkState() == Qt.CheckState.Checked]

    def all_ticked(self) -> bool:
        """Whether every 班 is ticked (print everything, households in no 班 included)."""
        return len(self.ticked()) == self.groups.count()

    # ------------------------------------------------------------ the job

    def job(self) -> tuple[Render, str, str] | None:
        """(render, title, document name) for the choices made, or None after saying why."""
        raise NotImplementedError

    def start(self) -> None:
        """Render the chosen document in the background, then open the preview."""
        if self.running:
            return
        try:
            job = self.job()
        except KairanError as error:
            self.status.setText(error.message)
            return
        if job is None:
            return
        render, title, document = job

        def shown(preview: PdfPreview) -> None:
            self.running = False
            self.preview = preview
            self.accept()

        def failed(error: BaseException) -> None:
            self.running = False
            self.print_button.setEnabled(True)
            if isinstance(error, TaskCancelled):
                self.status.setText(_("Cancelled: nothing was printed."))
            elif isinstance(error, KairanError):
                self.status.setText(error.message)
                messages.warn(self, error.message)

        self.running = True
        self.print_button.setEnabled(False)
        self.status.setText(_("Preparing {title}…").format(title=title))
        self.task = render_to_preview(
            self, self.tasks, render=render, title=title,
            suggested_name=file_name(self.association, document, self.today()),
            job_folder=self.job_folder, shown=shown, failed=failed,
            preview_parent=self.parentWidget())

    def reject(self) -> None:
        """Cancel closes the dialog, but not while the PDF is being made."""
        if not self.running:
            super().reject()


# ---------------------------------------------------------------- the roster

ROSTER_DOCUMENTS = (
    ("groups", N_("班 lists (班別名簿)")),
    ("officers", N_("Officers' contact list (役員連絡先一覧)")),
    ("labels12", N_("Address labels, 12 per sheet (宛名ラベル 12面)")),
    ("labels24", N_("Address labels, 24 per sheet (宛名ラベル 24面)")),
)
_DOCUMENT_NAMES = {"groups": roster_pdf.GROUP_TITLE, "officers": roster_pdf.OFFICER_TITLE,
                   "labels12": f"{labels.LABEL_TITLE}12面",
                   "labels24": f"{labels.LABEL_TITLE}24面"}


class RosterPrintDialog(_PrintDialog):
    """Choose a roster printout, the 班 and the options."""

    def __init__(self, parent: QWidget | None, association_file: AssociationFile,
                 tasks: TaskRunner, *, year: int, today: Callable[[], date] = date.today,
                 job_folder: Path | None = None) -> None:
        super().__init__(parent, association_file, tasks, today=today, job_folder=job_folder)
        self.year = year
        self.setWindowTitle(_("Print the roster"))
        kinds = self._documents_box(ROSTER_DOCUMENTS, "groups")
        self.documents.buttonToggled.connect(lambda _button, _on: self._document_changed())

        with association_file.read() as session:
            tree = group_tree(session)
        names = {node.id: node.name for node in tree}
        for node in tree:
            if node.kind == GroupKind.HAN:
                parent_name = names.get(node.parent_id) if node.parent_id else None
                self._add_group(node.id, f"{parent_name} {node.name}" if parent_name
                                else node.name)
        self.paper_only = QCheckBox(_("Only households that get notices on &paper"))
        self.first_label = QSpinBox()
        self.first_label.setRange(1, labels.LABELS_12.per_sheet)
        self.first_label_row = QWidget()
        first_row = QHBoxLayout(self.first_label_row)
        first_row.setContentsMargins(0, 0, 0, 0)
        first_row.addWidget(QLabel(_("Start at label &number (for a sheet used before)")))
        first_row.addWidget(self.first_label)
        first_row.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(kinds)
        layout.addWidget(self._groups_box(_("班 to print")))
        layout.addWidget(self.paper_only)
        layout.addWidget(self.first_label_row)
        layout.addWidget(self.large)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._document_changed()
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 36, em * 40)
        self.print_button.setFocus()

    def _document_changed(self) -> None:
        document = self.document()
        self.paper_only.setEnabled(document != "officers")
        labels_chosen = document.startswith("labels")
        self.first_label_row.setVisible(labels_chosen)
        if labels_chosen:
            sheet = labels.LABELS_24 if document == "labels24" else labels.LABELS_12
            self.first_label.setMaximum(sheet.per_sheet)

    def job(self) -> tuple[Render, str, str] | None:
        document = self.document()
        if self.groups.count() and not self.ticked():
            self.status.setText(_("Tick at least one 班."))
            return None
        han_ids = None if self.all_ticked() else [g for g in self.ticked() if g is not None]
        paper_only = self.paper_only.isChecked() and document != "officers"
        large = self.large.isChecked()
        year, today = self.year, self.today()
        association = self.association
        association_file = self.file
        first = self.first_label.value()

        def render(path: Path, progress: Progress) -> int:
            with association_file.read() as session:
                if document == "groups":
                    groups = roster_source.load_group_lists(session, year=year, han_ids=han_ids,
                                                            paper_only=paper_only)
                    nendo = roster_source.year_label(session, year=year)
                elif document == "officers":
                    officers = roster_source.load_officers(session, year=year, han_ids=han_ids)
                    nendo = roster_source.year_label(session, year=year)
                else:
                    addressees = roster_source.load_addressees(session, han_ids=han_ids,
                                                               paper_only=paper_only)
            if document == "groups":
                if not any(group.households for group in groups):
                    raise KairanError(_("There are no households to print. Tick other 班, or "
                                        "untick 「only paper」."))
                return roster_pdf.render_group_lists(
                    path, association=association, issued_on=today, groups=groups,
                    year_label=nendo, large=large, progress=progress)
            if document == "officers":
                return roster_pdf.render_officer_list(
                    path, association=association, issued_on=today, year_label=nendo,
                    officers=officers, large=large, progress=progress)
            if not addressees:
                raise KairanError(_("There are no households to print. Tick other 班, or "
                                    "untick 「only paper」."))
            sheet = labels.LABELS_24 if document == "labels24" else labels.LABELS_12
            return labels.render_labels(path, association=association, issued_on=today,
                                        addressees=addressees, sheet=sheet,
                                        first_position=first, large=large, progress=progress)

        title = dict(ROSTER_DOCUMENTS)[document]
        return render, _(title), _DOCUMENT_NAMES[document]


# ---------------------------------------------------------------- a circular

CIRCULAR_DOCUMENTS = (
    ("packet", N_("The 回覧板 packet of each 班 (the circular and the route sheet)")),
    ("copies", N_("A personal copy for each paper household (with the reply slip)")),
    ("all", N_("Both")),
)
_CIRCULAR_NAMES = {"packet": "回覧板", "copies": "個人配布", "all": "回覧板と個人配布"}


class CircularPrintDialog(_PrintDialog):
    """Choose what to print of a circular, and for which 班."""

    def __init__(self, parent: QWidget | None, association_file: AssociationFile,
                 tasks: TaskRunner, *, circular_id: uuid.UUID,
                 today: Callable[[], date] = date.today,
                 job_folder: Path | None = None) -> None:
        super().__init__(parent, association_file, tasks, today=today, job_folder=job_folder)
        self.circular_id = circular_id
        with association_file.read() as session:
            record = circulars.get_circular(session, circular_id=circular_id)
            reached = circulars.recipients(session, circular_id=circular_id)
        self.circular_title = record.data.title
        self.setWindowTitle(_("Print 「{title}」").format(title=record.data.title))
        kinds = self._documents_box(CIRCULAR_DOCUMENTS, "all")

        counts: dict[uuid.UUID | None, list[int]] = {}
        names: dict[uuid.UUID | None, str] = {}
        for recipient in reached:  # in route order: 班 in tree order
            count = counts.setdefault(recipient.group_id, [0, 0])
            count[0] += 1
            count[1] += recipient.channel == NoticeChannel.PAPER
            names[recipient.group_id] = recipient.group_name
        for group_id, (total, paper) in counts.items():
            self._add_group(group_id, _("{group} ({count} households, {paper} on paper)").format(
                group=names[group_id] or _("(no 班)"), count=total, paper=paper))
        self.group_names = names

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("「{title}」 goes to {count} households.").format(
            title=record.data.title, count=len(reached))))
        layout.addWidget(kinds)
        layout.addWidget(self._groups_box(_("班 to print")))
        layout.addWidget(self.large)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 40, em * 36)
        self.print_button.setFocus()

    def tick_only(self, names: Sequence[str]) -> None:
        """Tick the 班 named (by their names alone), untick the others."""
        for row in range(self.groups.count()):
            item = self.groups.item(row)
            group_id = uuid.UUID(hex=item.data(_ID)) if item.data(_ID) else None
            item.setCheckState(Qt.CheckState.Checked if self.group_names.get(group_id) in names
                               else Qt.CheckState.Unchecked)

    def job(self) -> tuple[Render, str, str] | None:
        if not self.ticked():
            self.status.setText(_("Tick at least one 班."))
            return None
        document = self.document()
        chosen = self.ticked()
        large = self.large.isChecked()
        circular_id = self.circular_id
        with self.file.read() as session:
            documents = circular_source.load_documents(
                session, circular_id=circular_id,
                group_ids=None if self.all_ticked() else chosen)
        circular, packets, copies = documents.circular, documents.packets, documents.copies
        if document == "copies" and not copies:
            self.status.setText(_("No household of the 班 ticked gets this circular on paper."))
            return None
        missing = circular_pdf.unprintable_characters(circular, households=copies)
        if missing:
            messages.warn(self, _(
                "These characters are not in the printing font and will print as 〓: "
                "{characters}. To print them properly, change them in the circular (or in "
                "the roster) and print again.").format(characters="　".join(missing)))

        def render(path: Path, progress: Progress) -> int:
            if document == "packet":
                return circular_pdf.render_packet(path, circular=circular, groups=packets,
                                                  large=large, progress=progress)
            if document == "copies":
                return circular_pdf.render_personal_copies(
                    path, circular=circular, households=copies, large=large,
                    progress=progress)
            return circular_pdf.render_packets_and_copies(
                path, circular=circular, groups=packets, households=copies, large=large,
                progress=progress)

        title = dict(CIRCULAR_DOCUMENTS)[document]
        return render, f"{self.circular_title} — {_(title)}", (
            f"{_CIRCULAR_NAMES[document]}_{self.circular_title}")
