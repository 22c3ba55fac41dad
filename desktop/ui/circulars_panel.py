"""The circulars tab: every circular, newest first, with its status and how many have answered,
and the buttons for what can be done with the one chosen.

The panel only shows and asks; :mod:`desktop.ui.circular_actions` does the work. Buttons
that do not apply to the chosen circular (editing a sent one, replies to a notice that asks
nothing) are disabled, so an officer cannot press them by mistake.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from desktop.domain.circulars import CircularSummary
from desktop.domain.models import Ask, CircularStatus
from desktop.domain.wareki import format_wareki
from desktop.i18n import N_, _
from desktop.ui.summary_list import Index, SummaryListPanel, SummaryModel

COLUMNS = (N_("Date"), N_("Title"), N_("Status"), N_("Asks for"), N_("Households"),
           N_("Replies"))
DATE, TITLE, STATUS, ASKS, HOUSEHOLDS, REPLIES = range(len(COLUMNS))
STATUS_LABELS = {CircularStatus.DRAFT: N_("Draft"), CircularStatus.SENT: N_("Sent")}
SHORT_ASKS = {Ask.NOTHING: N_("—"), Ask.READ: N_("Read"), Ask.ATTENDANCE: N_("Attendance"),
              Ask.SURVEY: N_("Survey")}
ASK_LABELS: dict[Ask, str] = {
    Ask.NOTHING: N_("Nothing (for information)"),
    Ask.READ: N_("Read confirmation (確認)"),
    Ask.ATTENDANCE: N_("Attendance (出席/欠席)"),
    Ask.SURVEY: N_("Survey (アンケート)"),
}


def replies_text(summary: CircularSummary) -> str:
    """「12 / 40」 for a sent circular that asks something; 「—」 otherwise."""
    if summary.status != CircularStatus.SENT or summary.ask == Ask.NOTHING:
        return "—"
    return f"{summary.replies} / {summary.recipients}"


class CircularsModel(SummaryModel[CircularSummary]):
    """The list of circulars as rows."""

    def __init__(self) -> None:
        super().__init__(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole and column == ASKS:
            return _(ASK_LABELS[row.ask])
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (HOUSEHOLDS, REPLIES):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(row: CircularSummary, column: int) -> str:
        if column == DATE:
            return format_wareki(row.issued_on)
        if column == TITLE:
            return row.title
        if column == STATUS:
            return _(STATUS_LABELS[row.status])
        if column == ASKS:
            return _(SHORT_ASKS[row.ask])
        if column == HOUSEHOLDS:
            return str(row.recipients)
        return replies_text(row)


class CircularsPanel(SummaryListPanel[CircularSummary]):
    """The list and its buttons; each button asks for its command by a signal."""

    new_requested = Signal()
    copy_requested = Signal(object)  # uuid.UUID of the circular
    edit_requested = Signal(object)
    delete_requested = Signal(object)
    send_requested = Signal(object)
    print_requested = Signal(object)
    replies_requested = Signal(object)
    read_status_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(CircularsModel(), stretch_column=TITLE, parent=parent, empty_text=_(
            "No circulars yet. Press 「New」 to write the first one."))
        # Mnemonics apart from the menu bar's (F E H G R C V), so Alt+letter is never ambiguous.
        self.new_button = QPushButton(_("&New…"))
        self.copy_button = QPushButton(_("Copy as &template"))
        self.edit_button = QPushButton(_("E&dit…"))
        self.delete_button = QPushButton(_("De&lete"))
        self.send_button = QPushButton(_("&Send…"))
        self.print_button = QPushButton(_("&Print…"))
        self.replies_button = QPushButton(_("Enter repl&ies…"))
        self.read_button = QPushButton(_("Re&ad status…"))
        self.new_button.clicked.connect(self.new_requested.emit)
        for button, signal in ((self.copy_button, self.copy_requested),
                               (self.edit_button, self.edit_requested),
                               (self.delete_button, self.delete_requested),
                               (self.send_button, self.send_requested),
                               (self.print_button, self.print_requested),
                               (self.replies_button, self.replies_requested),
                               (self.read_button, self.read_status_requested)):
            button.clicked.connect(lambda _checked=False, s=signal: self.emit_current(s))
        for button in (self.new_button, self.copy_button, self.edit_button,
                       self.delete_button, self.send_button, self.print_button,
                       self.replies_button, self.read_button):
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)
        self.update_buttons()

    def open_row(self, summary: CircularSummary) -> None:
        """Enter or a double click: edit a draft, enter the replies of a sent circular that
        asks something, else print."""
        if summary.status == CircularStatus.DRAFT:
            self.edit_requested.emit(summary.id)
        elif summary.ask != Ask.NOTHING:
            self.replies_requested.emit(summary.id)
        else:
            self.print_requested.emit(summary.id)

    def update_buttons(self) -> None:
        summary = self.current()
        chosen = summary is not None
        draft = summary is not None and summary.status == CircularStatus.DRAFT
        asks = summary is not None and summary.ask != Ask.NOTHING
        self.copy_button.setEnabled(chosen)
        self.edit_button.setEnabled(draft)
        self.delete_button.setEnabled(draft)
        self.send_button.setEnabled(draft)
        self.print_button.setEnabled(chosen)
        self.replies_button.setEnabled(chosen and not draft and asks)
        self.read_button.setEnabled(chosen and not draft)
