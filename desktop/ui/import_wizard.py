"""The import wizard: an officer's roster spreadsheet into the association, previewed first.

file → sheets and header → which column holds what → preview (every household's outcome)
→ import. Reading, planning and importing run on a worker thread through the window's
:class:`~desktop.ui.tasks.TaskRunner`, with progress and Cancel; the pages only show what the
domain computed and never build SQL. Nothing is written before the officer presses Import;
then a backup is made and everything is written in one transaction, mapping included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from desktop.domain.errors import KairanError
from desktop.domain.imports.headers import describe_columns, layout_for_rows, remap
from desktop.domain.imports.mappings import remember_mapping, remembered_mappings
from desktop.domain.imports.model import Field, HeaderLayout, SheetData
from desktop.domain.imports.pipeline import ReadRoster, plan_file, read_roster
from desktop.domain.imports.plan import ImportPlan, ImportResult, Outcome, apply_import
from desktop.domain.imports.records import field_title
from desktop.domain.imports.sheets import SUFFIXES, ReadCancelled
from desktop.i18n import N_, _
from desktop.store.association_file import AssociationFile
from desktop.store.backups import BackupCancelled, BackupInfo
from desktop.ui.import_models import PlanModel, SheetPreviewModel, cell_text, column_letter
from desktop.ui.task_wizard import TaskWizard
from desktop.ui.tasks import TaskCancelled, TaskContext, TaskRunner

FILE_PAGE, SHEET_PAGE, MAPPING_PAGE, PREVIEW_PAGE = range(4)
PREVIEW_ROWS = 15  # rows of a sheet shown under the header choice
EXAMPLE_ROWS = 30  # rows under the header searched for an example of each column
PROBLEMS_LISTED = 3  # problems written out in full above the preview table

# The fields as the officer knows them, by Field value (a field added to the domain later
# shows its Japanese column title until it is given a label here); Japanese shows the usual
# column title alone.
FIELD_LABELS: dict[str, str] = {
    "number": N_("Household number (世帯番号)"),
    "group": N_("Group (班)"),
    "name": N_("Name (氏名)"),
    "furigana": N_("Furigana (フリガナ)"),
    "relation": N_("Relation (続柄)"),
    "address": N_("Address (住所)"),
    "postal_code": N_("Postal code (郵便番号)"),
    "phone": N_("Phone (電話)"),
    "email": N_("E-mail (メール)"),
    "notes": N_("Notes (備考)"),
    "channel": N_("Notices by (配布方法)"),
    "joined_on": N_("Joined on (入会日)"),
    "exempt_han_leader": N_("Exempt from 班長 (班長免除)"),
    "household_name": N_("Head of household (世帯主)"),
    "household_furigana": N_("Furigana of the head of household (世帯主フリガナ)"),
}
NOT_IMPORTED = N_("Do not import (取り込まない)")

_CANCELLED = (ReadCancelled, TaskCancelled, BackupCancelled)
_PROBLEM_STYLE = "color: #b00020;"


def show_problem(label: QLabel, text: str) -> None:
    """Show what went wrong, in red."""
    label.setStyleSheet(_PROBLEM_STYLE)
    label.setText(text)


def show_note(label: QLabel, text: str) -> None:
    """Show how things stand, in the usual colour."""
    label.setStyleSheet("")
    label.setText(text)


def field_label(which: Field) -> str:
    """How a field is named in the wizard."""
    label = FIELD_LABELS.get(which.value)
    if label is not None:
        return _(label)
    try:
        return field_title(which)
    except KeyError:
        return which.value


def sheet_label(name: str) -> str:
    """A sheet's name as listed (a CSV file has one sheet without a name)."""
    return name or _("(the whole file)")


def _problem_text(error: BaseException) -> str | None:
    """What to tell the officer about a failed task: None when it was cancelled; anything
    that is not expected trouble is a bug and is raised again."""
    if isinstance(error, _CANCELLED):
        return None
    if isinstance(error, KairanError):
        return error.message
    raise error


def _fit_rows(view: QTableView) -> None:
    """Row heights that follow the text size (large print)."""
    view.verticalHeader().setDefaultSectionSize(int(view.fontMetrics().height() * 1.5))


def _read_only_table(view: QTableView) -> None:
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setWordWrap(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    _fit_rows(view)


@dataclass(frozen=True, slots=True)
class ImportDone:
    """What a finished import did, for the window's message."""

    file: str
    result: ImportResult
    backup: BackupInfo


class ImportWizard(TaskWizard):
    """The wizard and the state its pages share: the file as read and the plan."""

    def __init__(
        self,
        parent: QWidget | None,
        association_file: AssociationFile,
        tasks: TaskRunner,
        *,
        today: Callable[[], date],
        imported: Callable[[ImportDone], None],
    ) -> None:
        super().__init__(parent, tasks)
        self.association_file = association_file
        self.today = today
        self._on_imported = imported
        self.read: ReadRoster | None = None
        self.remembered: dict[str, dict[Field, int]] = {}
        self.excluded: set[str] = set()  # sheets the officer unticked
        self.member_per_row: bool | None = None  # None: Kairan tells from the columns
        self.plan: ImportPlan | None = None
        self.imported: ImportDone | None = None

        self.file_page = FilePage(self)
        self.sheet_page = SheetPage(self)
        self.mapping_page = MappingPage(self)
        self.preview_page = PreviewPage(self)
        self.setPage(FILE_PAGE, self.file_page)
        self.setPage(SHEET_PAGE, self.sheet_page)
        self.setPage(MAPPING_PAGE, self.mapping_page)
        self.setPage(PREVIEW_PAGE, self.preview_page)
        self.setWindowTitle(_("Import a roster"))
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.setButtonText(QWizard.WizardButton.FinishButton, _("&Import"))
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 72, em * 52)  # in characters, so large print gets a larger wizard

    # ------------------------------------------------------------ background work

    # ------------------------------------------------------------ reading

    def read_file(self, path: Path, *, then: Callable[[], None],
                  report: Callable[[str], None]) -> None:
        """Read ``path`` in the background; ``then`` runs when it has been read, ``report``
        gets the problem (or that reading was cancelled)."""
        # The officer's choices in this wizard win over mappings remembered in the file.
        chosen = {layout.signature(): dict(layout.columns)
                  for layout in (self.read.layouts.values() if self.read else ())}
        same_file = self.read is not None and self.read.path == path

        def work(context: TaskContext) -> tuple[ReadRoster, dict[str, dict[Field, int]]]:
            with self.association_file.read() as session:
                remembered = remembered_mappings(session)
            remembered.update(chosen if same_file else {})
            read = read_roster(path, remembered=remembered, progress=context.progress,
                               cancelled=context.cancelled, require_header=False)
            return read, remembered

        def done(result: tuple[ReadRoster, dict[str, dict[Field, int]]]) -> None:
            self.read, self.remembered = result
            self.plan = None
            if not same_file:
                self.excluded = set()
            then()

        def failed(error: BaseException) -> None:
            problem = _problem_text(error)
            report(problem if problem is not None else
                   _("Reading {file} was cancelled.").format(file=path.name))

        self.run(work, title=_("Reading {file}…").format(file=path.name), done=done,
                 failed=failed)

    def chosen_sheets(self) -> list[str]:
        """The usable sheets the officer left ticked, in file order."""
        if self.read is None:
            return []
        return [name for name in self.read.usable if name not in self.excluded]

    def sheet(self, name: str) -> SheetData:
        """The sheet called ``name`` as read."""
        assert self.read is not None
        return next(sheet for sheet in self.read.sheets if sheet.name == name)

    def set_header(self, name: str, header_rows: tuple[int, ...]) -> HeaderLayout:
        """The officer says which row (or two rows) of sheet ``name`` is the header."""
        assert self.read is not None
        layout = layout_for_rows(self.sheet(name), header_rows, remembered=self.remembered)
        self.read.layouts[name] = layout
        self.read.unreadable.pop(name, None)  # a sheet set aside is usable now
        return layout

    def set_mapping(self, names: list[str], columns: dict[Field, int]) -> None:
        """Use the officer's mapping for the sheets ``names`` (which share one header)."""
        assert self.read is not None
        for name in names:
            self.read.layouts[name] = remap(self.read.layouts[name], columns)

    # ------------------------------------------------------------ importing

    def apply(self, *, withdraw_missing: bool, create_groups: bool,
              report: Callable[[str], None]) -> None:
        """Back up the file, then carry out the plan and remember the mapping in one
        transaction; the wizard closes and the window is told when it is done."""
        assert self.read is not None and self.plan is not None
        plan, file, today = self.plan, self.association_file, self.today()
        name = self.read.path.name
        mappings = {layout.signature(): dict(layout.columns)
                    for layout in (self.read.layouts[sheet] for sheet in self.chosen_sheets())}

        def work(context: TaskContext) -> ImportDone:
            backup = file.backups.make(file.path, reason="manual", progress=context.progress,
                                       cancelled=context.cancelled)
            with file.write() as session:
                result = apply_import(session, plan, withdraw_missing=withdraw_missing,
                                      create_groups=create_groups, today=today,
                                      progress=context.progress)
                for signature, columns in mappings.items():
                    remember_mapping(session, signature=signature, columns=columns)
            return ImportDone(name, result, backup)

        def done(finished: ImportDone) -> None:
            self.imported = finished
            self.accept()  # the preview page now lets the wizard finish
            self._on_imported(finished)

        def failed(error: BaseException) -> None:
            problem = _problem_text(error)
            report(problem if problem is not None else
                   _("The import was cancelled: nothing was changed."))

        self.run(work, title=_("Importing {file}…").format(file=name), done=done,
                 failed=failed)


# ---------------------------------------------------------------- 1. the file


class FilePage(QWizardPage):
    """Choose the file (or type its path); it is read when the officer goes on."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(_("Which file?"))
        self.setSubTitle(_("Choose the roster to import: an Excel workbook (.xlsx, .xlsm, "
                           ".xls), a LibreOffice spreadsheet (.ods) or a CSV file (.csv, .txt). "
                           "Nothing is changed until you confirm the preview."))
        self.path = QLineEdit()
        self.path.setPlaceholderText(_("e.g. C:\\Users\\自治会\\Documents\\名簿.xlsx"))
        self.path.textChanged.connect(self._path_changed)
        label = QLabel(_("&File:"))
        label.setBuddy(self.path)
        self.choose = QPushButton(_("&Choose…"))
        self.choose.clicked.connect(self.choose_file)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.path, 1)
        row.addWidget(self.choose)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def initializePage(self) -> None:
        self.path.setFocus()

    def chosen_path(self) -> Path:
        """The path typed or chosen (Windows' “Copy as path” adds quotes: they go)."""
        return Path(self.path.text().strip().strip('"')).expanduser()

    def _path_changed(self) -> None:
        self.status.clear()
        self.completeChanged.emit()

    def choose_file(self) -> None:
        """Ask for the file with the usual dialog, then read it."""
        patterns = " ".join(f"*{suffix}" for suffix in SUFFIXES)
        start = str(self.chosen_path().parent) if self.path.text().strip() else ""
        name, _filter = QFileDialog.getOpenFileName(
            self, _("Choose the roster to import"), start,
            _("Rosters ({patterns})").format(patterns=patterns) + ";;"
            + _("All files (*)"))
        if name:
            self.path.setText(name)
            self._wizard.next()

    def isComplete(self) -> bool:
        return bool(self.path.text().strip()) and not self._wizard.busy

    def validatePage(self) -> bool:
        path = self.chosen_path()
        read = self._wizard.read
        if read is not None and read.path == path:
            return True
        show_note(self.status, _("Reading {file}…").format(file=path.name))
        self._wizard.read_file(path, then=self._wizard.next,
                               report=lambda text: show_problem(self.status, text))
        return False


# ---------------------------------------------------------------- 2. sheets and header


class SheetPage(QWizardPage):
    """Tick the sheets to import; check (or choose) each sheet's header row."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(_("Sheets and header"))
        self.setSubTitle(_("Tick the sheets to import. Below are the first rows of the chosen "
                           "sheet, with the header row highlighted; if it is the wrong row, "
                           "choose the right one."))
        self.sheets = QListWidget()
        self.sheets.setMaximumHeight(self.fontMetrics().height() * 8)
        self.sheets.itemChanged.connect(self._ticked)
        self.sheets.currentRowChanged.connect(lambda _row: self.show_sheet())
        sheets_label = QLabel(_("&Sheets to import:"))
        sheets_label.setBuddy(self.sheets)
        self.set_aside = QLabel()
        self.set_aside.setWordWrap(True)
        self.model = SheetPreviewModel()
        self.preview = QTableView()
        self.preview.setModel(self.model)
        _read_only_table(self.preview)
        self.header_row = QSpinBox()
        self.header_row.setMinimum(1)
        self.header_row.valueChanged.connect(lambda _value: self._header_chosen())
        header_label = QLabel(_("&Header row:"))
        header_label.setBuddy(self.header_row)
        self.two_rows = QCheckBox(_("The header has &two rows (this one and the next)"))
        self.two_rows.toggled.connect(lambda _checked: self._header_chosen())
        self.recognised = QLabel()
        self.recognised.setWordWrap(True)

        top = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(sheets_label)
        left.addWidget(self.sheets)
        top.addLayout(left, 1)
        top.addWidget(self.set_aside, 2)
        header = QHBoxLayout()
        header.addWidget(header_label)
        header.addWidget(self.header_row)
        header.addWidget(self.two_rows)
        header.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addLayout(header)
        layout.addWidget(self.preview, 3)
        layout.addWidget(self.recognised)

    def initializePage(self) -> None:
        read = self._wizard.read
        assert read is not None
        current = self.current_sheet()
        self.sheets.blockSignals(True)
        self.sheets.clear()
        names = [sheet.name for sheet in read.sheets]
        for name in names:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsUserCheckable)
            self.sheets.addItem(item)
            self._label(item)
        self.sheets.blockSignals(False)
        first = next((row for row, name in enumerate(names) if name in read.layouts), 0)
        self.sheets.setCurrentRow(names.index(current) if current in names else first)
        self._show_set_aside()
        self.show_sheet()
        self.sheets.setFocus()

    def _label(self, item: QListWidgetItem) -> None:
        """A sheet's line: ticked when it will be imported; one set aside says so."""
        read = self._wizard.read
        assert read is not None
        name = str(item.data(Qt.ItemDataRole.UserRole))
        usable = name in read.layouts
        label = sheet_label(name)
        item.setText(label if usable else _("{sheet} (set aside)").format(sheet=label))
        ticked = usable and name not in self._wizard.excluded
        item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def _show_set_aside(self) -> None:
        read = self._wizard.read
        assert read is not None
        if read.unreadable:
            reasons = "\n".join(f"・{reason}" for reason in read.unreadable.values())
            self.set_aside.setText(_("Sheets set aside (choose one and its header row to "
                                     "import it after all):") + "\n" + reasons)
        else:
            self.set_aside.clear()

    def current_sheet(self) -> str | None:
        """The sheet whose rows are shown."""
        item = self.sheets.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def set_ticked(self, name: str, ticked: bool) -> None:
        """Tick or untick a sheet, as a click on its box would."""
        for row in range(self.sheets.count()):
            item = self.sheets.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def _ticked(self, item: QListWidgetItem) -> None:
        name = str(item.data(Qt.ItemDataRole.UserRole))
        read = self._wizard.read
        assert read is not None
        if item.checkState() == Qt.CheckState.Checked:
            self._wizard.excluded.discard(name)
            if name not in read.layouts:  # ticking a sheet set aside: its first row to start
                self.sheets.setCurrentItem(item)
                self._header_chosen()
                return
        else:
            self._wizard.excluded.add(name)
        self.completeChanged.emit()

    def show_sheet(self) -> None:
        """Show the current sheet's first rows and its header choice."""
        name = self.current_sheet()
        read = self._wizard.read
        if name is None or read is None:
            self.model.set_sheet(None, header_rows=(), shown=0)
            return
        sheet = self._wizard.sheet(name)
        layout = read.layouts.get(name)
        header_rows = layout.header_rows if layout is not None else (1,)
        for widget in (self.header_row, self.two_rows):
            widget.blockSignals(True)
        self.header_row.setMaximum(max(1, len(sheet.rows)))
        self.header_row.setValue(header_rows[0])
        self.two_rows.setChecked(len(header_rows) == 2)
        self.two_rows.setEnabled(header_rows[0] < len(sheet.rows))
        for widget in (self.header_row, self.two_rows):
            widget.blockSignals(False)
        if layout is not None:
            self._show_layout(sheet, layout)
            return
        self.model.set_sheet(sheet, header_rows=(), shown=PREVIEW_ROWS)
        self.preview.resizeColumnsToContents()
        self.recognised.setText(read.unreadable.get(name, "") + "\n" + _(
            "To import this sheet after all, choose its header row above (the row with the "
            "column titles such as 氏名 and 住所)."))

    def _header_chosen(self) -> None:
        name = self.current_sheet()
        if name is None:
            return
        sheet = self._wizard.sheet(name)
        first = self.header_row.value()
        two = self.two_rows.isChecked() and first < len(sheet.rows)
        self.two_rows.setEnabled(first < len(sheet.rows))
        read = self._wizard.read
        assert read is not None
        set_aside = name not in read.layouts
        layout = self._wizard.set_header(name, (first, first + 1) if two else (first,))
        if set_aside:  # the officer chose a header for it: it is imported after all
            self._wizard.excluded.discard(name)
            item = self.sheets.currentItem()
            self.sheets.blockSignals(True)
            self._label(item)
            self.sheets.blockSignals(False)
            self._show_set_aside()
        self._show_layout(sheet, layout)
        self.completeChanged.emit()

    def _show_layout(self, sheet: SheetData, layout: HeaderLayout) -> None:
        shown = max(PREVIEW_ROWS, layout.header_rows[-1] + 5)
        self.model.set_sheet(sheet, header_rows=layout.header_rows, shown=shown)
        self.preview.resizeColumnsToContents()
        fields = "、".join(field_label(which) for which in layout.columns)
        rows = "–".join(str(row) for row in layout.header_rows)
        text = _("Header: row {rows}. Columns recognised: {fields}.").format(
            rows=rows, fields=fields or _("none"))
        if Field.NAME not in layout.columns:
            text += "\n" + _("No column was recognised as the name (氏名): choose it on the "
                             "next page, or choose another header row.")
        self.recognised.setText(text)

    def isComplete(self) -> bool:
        return bool(self._wizard.chosen_sheets()) and not self._wizard.busy


# ---------------------------------------------------------------- 3. mapping


class MappingPage(QWizardPage):
    """Which column holds which field: Kairan's guess, corrected by the officer."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(_("Columns and fields"))
        self.setSubTitle(_("Which column holds what? Kairan guessed from the column titles; "
                           "correct any guess that is wrong. Each kind of information comes "
                           "from one column only."))
        self.headers = QComboBox()
        self.headers.currentIndexChanged.connect(lambda _index: self._build())
        self.headers_label = QLabel(_("Sheets with these &headers:"))
        self.headers_label.setBuddy(self.headers)
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.combos: list[QComboBox] = []
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.missing = QLabel()
        self.missing.setWordWrap(True)
        self.missing.setStyleSheet(_PROBLEM_STYLE)
        self._groups: list[list[str]] = []  # chosen sheets sharing one header
        self.rows_are = QComboBox()
        for text, value in ((_("Kairan decides from the columns"), "auto"),
                            (_("one household per row"), "household"),
                            (_("one member per row (a household's members on rows one after "
                               "another)"), "member")):
            self.rows_are.addItem(text, value)
        self.rows_are.currentIndexChanged.connect(self._rows_are_changed)
        rows_are_label = QLabel(_("Each &row is:"))
        rows_are_label.setBuddy(self.rows_are)

        top = QHBoxLayout()
        top.addWidget(self.headers_label)
        top.addWidget(self.headers, 1)
        rows = QHBoxLayout()
        rows.addWidget(rows_are_label)
        rows.addWidget(self.rows_are, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(rows)
        layout.addWidget(self.area, 1)
        layout.addWidget(self.notice)
        layout.addWidget(self.missing)

    def initializePage(self) -> None:
        read = self._wizard.read
        assert read is not None
        by_titles: dict[tuple[str, ...], list[str]] = {}
        for name in self._wizard.chosen_sheets():
            by_titles.setdefault(read.layouts[name].titles, []).append(name)
        self._groups = list(by_titles.values())
        for names in self._groups:  # one header, one mapping
            self._wizard.set_mapping(names, dict(read.layouts[names[0]].columns))
        self.headers.blockSignals(True)
        self.headers.clear()
        for names in self._groups:
            self.headers.addItem("、".join(sheet_label(name) for name in names))
        self.headers.setCurrentIndex(0)
        self.headers.blockSignals(False)
        several = len(self._groups) > 1
        self.headers.setVisible(several)
        self.headers_label.setVisible(several)
        self.notice.clear()
        self._build()

    def set_rows_are(self, member_per_row: bool | None) -> None:
        """Say whether each row is a household, a member, or let Kairan decide."""
        value = {None: "auto", False: "household", True: "member"}[member_per_row]
        self.rows_are.setCurrentIndex(self.rows_are.findData(value))

    def _rows_are_changed(self) -> None:
        value = self.rows_are.currentData()
        self._wizard.member_per_row = None if value == "auto" else value == "member"

    def current_sheets(self) -> list[str]:
        """The sheets whose mapping is shown."""
        index = self.headers.currentIndex()
        return self._groups[index] if 0 <= index < len(self._groups) else []

    def _layout(self) -> HeaderLayout:
        assert self._wizard.read is not None
        return self._wizard.read.layouts[self.current_sheets()[0]]

    def _build(self) -> None:
        if not self.current_sheets():
            return
        layout = self._layout()
        sheet = self._wizard.sheet(self.current_sheets()[0])
        grid_widget = QWidget()
        grid = QGridLayout(grid_widget)
        for column, title in enumerate((_("Column"), _("Title in the file"), _("Example"),
                                        _("Holds"))):
            heading = QLabel(title)
            heading.setStyleSheet("font-weight: bold;")
            grid.addWidget(heading, 0, column)
        self.combos = []
        for index, title, which in describe_columns(layout):
            combo = QComboBox()
            combo.addItem(_(NOT_IMPORTED), "")
            for candidate in Field:
                combo.addItem(field_label(candidate), candidate.value)
            combo.setCurrentIndex(combo.findData(which.value if which else ""))
            combo.currentIndexChanged.connect(
                lambda _i, column=index: self._combo_changed(column))
            letter = QLabel(column_letter(index))
            name = QLabel(title or _("(no title)"))
            name.setBuddy(combo)
            row = index + 1
            grid.addWidget(letter, row, 0)
            grid.addWidget(name, row, 1)
            grid.addWidget(QLabel(self._example(sheet, layout, index)), row, 2)
            grid.addWidget(combo, row, 3)
            self.combos.append(combo)
        grid.setColumnStretch(2, 1)
        grid.setRowStretch(len(self.combos) + 1, 1)
        self.area.setWidget(grid_widget)
        self._check_name()
        if self.combos:
            self.combos[0].setFocus()

    @staticmethod
    def _example(sheet: SheetData, layout: HeaderLayout, column: int) -> str:
        start = layout.header_rows[-1]
        for row in sheet.rows[start:start + EXAMPLE_ROWS]:
            text = cell_text(row[column]) if column < len(row) else ""
            if text.strip():
                return text if len(text) <= 24 else text[:23] + "…"
        return ""

    def mapping(self) -> dict[Field, int]:
        """The fields of the header shown, as the combo boxes say now."""
        chosen: dict[Field, int] = {}
        for column, combo in enumerate(self.combos):
            value = combo.currentData()
            if value:
                chosen[Field(value)] = column
        return chosen

    def set_field(self, column: int, which: Field | None) -> None:
        """Choose what column ``column`` (0-based) holds, as the officer would."""
        combo = self.combos[column]
        combo.setCurrentIndex(combo.findData(which.value if which else ""))

    def _combo_changed(self, column: int) -> None:
        value = self.combos[column].currentData()
        self.notice.clear()
        if value:
            which = Field(value)
            for other, combo in enumerate(self.combos):
                if other != column and combo.currentData() == value:
                    combo.blockSignals(True)
                    combo.setCurrentIndex(combo.findData(""))
                    combo.blockSignals(False)
                    self.notice.setText(_(
                        "{field} can come from one column only: it now comes from column "
                        "{new}, and column {old} is not imported.").format(
                            field=field_label(which), new=column_letter(column),
                            old=column_letter(other)))
        self._wizard.set_mapping(self.current_sheets(), self.mapping())
        self._check_name()
        self.completeChanged.emit()

    def _check_name(self) -> None:
        if self._unnamed():
            self.missing.setText(_("Choose the column that holds the names (氏名) of {sheets}: "
                                   "a household cannot be imported without a name.").format(
                sheets="、".join(sheet_label(name) for name in self._unnamed())))
        else:
            self.missing.clear()

    def _unnamed(self) -> list[str]:
        read = self._wizard.read
        if read is None:
            return []
        return [name for names in self._groups for name in names
                if Field.NAME not in read.layouts[name].columns]

    def isComplete(self) -> bool:
        return bool(self._groups) and not self._unnamed() and not self._wizard.busy


# ---------------------------------------------------------------- 4. preview and import


class PreviewPage(QWizardPage):
    """What importing would do, household by household; Import carries it out."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(_("Preview"))
        self.setSubTitle(_("What the import would do. Nothing has been changed yet: press "
                           "Import to carry it out."))
        self.setFinalPage(True)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-weight: bold;")
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(_PROBLEM_STYLE)
        self.read_again = QPushButton(_("&Read the file again"))
        self.read_again.clicked.connect(self.read_file_again)
        self.only_changes = QCheckBox(_("&Only changes and problems"))
        self.model = PlanModel()
        self.only_changes.toggled.connect(self.model.set_only_changes)
        self.table = QTableView()
        self.table.setModel(self.model)
        _read_only_table(self.table)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.create_groups = QCheckBox()
        self.create_groups.setChecked(True)
        self.create_groups.toggled.connect(lambda _checked: self._options_changed())
        self.withdraw = QCheckBox()
        self.missing = QListWidget()
        self.missing.setMaximumHeight(self.fontMetrics().height() * 5)
        self.duplicates = QLabel()
        self.duplicates.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.read_again)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.problems)
        layout.addWidget(self.only_changes)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.create_groups)
        layout.addWidget(self.withdraw)
        layout.addWidget(self.missing)
        layout.addWidget(self.duplicates)
        layout.addWidget(self.status)
        self._show(None)

    def initializePage(self) -> None:
        self.start_planning()

    def cleanupPage(self) -> None:
        """Back: drop a preview still being made (the choices are kept)."""
        if self._wizard.task is not None:
            self._wizard.task.context.cancel()

    def start_planning(self) -> None:
        """Make the plan of the chosen sheets in the background."""
        read = self._wizard.read
        assert read is not None
        snapshot = ReadRoster(read.path, read.sheets, dict(read.layouts), dict(read.unreadable))
        sheets = self._wizard.chosen_sheets()
        member_per_row = self._wizard.member_per_row
        self._wizard.plan = None
        self._show(None)
        show_note(self.status, _("Preparing the preview…"))
        association_file = self._wizard.association_file

        def work(context: TaskContext) -> ImportPlan:
            with association_file.read() as session:
                plan = plan_file(session, snapshot, sheets=sheets,
                                 member_per_row=member_per_row)
            context.check()
            return plan

        def done(plan: ImportPlan) -> None:
            self._wizard.plan = plan
            self._show(plan)

        def failed(error: BaseException) -> None:
            problem = _problem_text(error)
            show_problem(self.status, problem if problem is not None else _(
                "The preview was cancelled. Press “Read the file again”, or go back."))

        self._wizard.run(work, title=_("Preparing the preview…"), done=done, failed=failed)

    def read_file_again(self) -> None:
        """Read the same file again (after the officer corrected it) and preview it anew."""
        read = self._wizard.read
        if read is None or self._wizard.busy:
            return
        self._wizard.plan = None
        self._show(None)
        show_note(self.status, _("Reading {file}…").format(file=read.path.name))
        self._wizard.read_file(read.path, then=self.start_planning,
                               report=lambda text: show_problem(self.status, text))

    def _show(self, plan: ImportPlan | None) -> None:
        self.model.set_plan(plan)
        self.table.resizeColumnsToContents()
        for widget in (self.create_groups, self.withdraw, self.missing, self.duplicates):
            widget.setVisible(False)
        self.problems.clear()
        self.status.clear()
        if plan is None:
            self.summary.clear()
            self.completeChanged.emit()
            return
        self.summary.setText(_(
            "{file}: {new} new, {update} to update, {same} unchanged, {errors} with problems"
        ).format(file=plan.file, new=plan.count(Outcome.NEW), update=plan.count(Outcome.UPDATE),
                 same=plan.count(Outcome.UNCHANGED), errors=len(plan.errors)))
        if plan.errors:
            self.problems.setText(self._problems_text(plan))
        if plan.new_groups:
            self.create_groups.setText(_("&Create these 班: {groups}").format(
                groups="、".join(plan.new_groups)))
            self.create_groups.setChecked(True)
            self.create_groups.setVisible(True)
        if plan.missing:
            self.withdraw.setText(_("&Withdraw these {count} households (退会): the file no "
                                    "longer lists them").format(count=len(plan.missing)))
            self.withdraw.setChecked(False)
            self.withdraw.setVisible(True)
            self.missing.clear()
            self.missing.addItems([f"{missing.number}  {missing.name}  ({missing.group or '—'})"
                                   for missing in plan.missing])
            self.missing.setVisible(True)
        if plan.duplicates:
            self.duplicates.setText(_("Possible duplicates (check them before importing):")
                                    + "\n" + "\n".join(f"・{text}" for text in plan.duplicates))
            self.duplicates.setVisible(True)
        self._options_changed()

    @staticmethod
    def _problems_text(plan: ImportPlan) -> str:
        """What to do, then the first problems in full (the table cuts long messages)."""
        errors = plan.errors
        lines = [_("{count} rows have problems (shown in red). Nothing can be imported until "
                   "they are corrected: correct them in the file, save it, and press “Read the "
                   "file again”.").format(count=len(errors))]
        lines.extend(f"・{row.message}" for row in errors[:PROBLEMS_LISTED])
        if len(errors) > PROBLEMS_LISTED:
            lines.append(_("…and {count} more: tick “Only changes and problems” to see them "
                           "all.").format(count=len(errors) - PROBLEMS_LISTED))
        return "\n".join(lines)

    def _options_changed(self) -> None:
        plan = self._wizard.plan
        if plan is None or plan.errors:
            self.completeChanged.emit()  # the problems are said above the table
            return
        if plan.new_groups and not self.create_groups.isChecked():
            show_problem(self.status, _("The file names 班 that do not exist yet. Tick “Create "
                                        "these 班”, or correct the 班 in the file."))
        elif not plan.changes_anything and not plan.missing:
            show_note(self.status, _("Everything in the file is already in the roster: "
                                     "importing it changes nothing."))
        else:
            self.status.clear()
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        plan = self._wizard.plan
        return (plan is not None and not plan.errors and not self._wizard.busy
                and (not plan.new_groups or self.create_groups.isChecked()))

    def validatePage(self) -> bool:
        if self._wizard.imported is not None:
            return True
        if not self.isComplete():
            return False
        show_note(self.status, _("Importing… A backup of the file is made first."))
        self._wizard.apply(withdraw_missing=self.withdraw.isChecked(),
                           create_groups=self.create_groups.isChecked(),
                           report=lambda text: show_problem(self.status, text))
        return False
