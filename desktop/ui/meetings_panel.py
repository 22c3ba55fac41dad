"""The general meetings tab (総会): every meeting, newest first, with how many voters have
returned a form, and the buttons for what can be done with the one chosen.

The panel only shows and asks; :mod:`desktop.ui.meeting_actions` does the work. Enter (or a
double click) on a meeting opens its entry screen: on the day, that is what officers want.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from desktop.domain.meeting.meetings import MeetingSummary
from desktop.domain.wareki import format_wareki
from desktop.i18n import N_, _
from desktop.ui.summary_list import Index, SummaryListPanel, SummaryModel

COLUMNS = (N_("Date"), N_("Title"), N_("Voters"), N_("Returned"))
DATE, TITLE, VOTERS, RETURNED = range(len(COLUMNS))


class MeetingsModel(SummaryModel[MeetingSummary]):
    """The list of meetings as rows."""

    def __init__(self) -> None:
        super().__init__(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            texts = (format_wareki(row.held_on), row.title, str(row.voters),
                     f"{row.returned} / {row.voters}")
            return texts[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (VOTERS, RETURNED):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class MeetingsPanel(SummaryListPanel[MeetingSummary]):
    """The list and its buttons; each button asks for its command by a signal."""

    new_requested = Signal()
    edit_requested = Signal(object)  # uuid.UUID of the meeting
    entry_requested = Signal(object)
    tally_requested = Signal(object)
    print_requested = Signal(object)
    export_requested = Signal(object)
    rules_requested = Signal()  # the association's rules, not one meeting's

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(MeetingsModel(), stretch_column=TITLE, hide_empty_table=True,
                         parent=parent, empty_text=_(
                             "No general meetings yet. Press 「New meeting」 to prepare the "
                             "first one: its agenda, the forms to print, and the count."))
        # Mnemonics apart from the menu bar's (F E H G R C M V), so Alt+letter is never
        # ambiguous.
        self.new_button = QPushButton(_("&New meeting…"))
        self.edit_button = QPushButton(_("E&dit…"))
        self.entry_button = QPushButton(_("Enter f&orms and check-in…"))
        self.tally_button = QPushButton(_("&Tally…"))
        self.print_button = QPushButton(_("&Print…"))
        self.export_button = QPushButton(_("E&xport to Excel…"))
        self.rules_button = QPushButton(_("Meeting r&ules…"))
        self.new_button.clicked.connect(self.new_requested.emit)
        self.rules_button.clicked.connect(self.rules_requested.emit)
        for button, signal in ((self.edit_button, self.edit_requested),
                               (self.entry_button, self.entry_requested),
                               (self.tally_button, self.tally_requested),
                               (self.print_button, self.print_requested),
                               (self.export_button, self.export_requested)):
            button.clicked.connect(lambda _checked=False, s=signal: self.emit_current(s))
        for button in (self.new_button, self.edit_button, self.entry_button,
                       self.tally_button, self.print_button, self.export_button):
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.rules_button)
        self.update_buttons()

    def open_row(self, summary: MeetingSummary) -> None:
        """Enter or a double click: the meeting's entry screen."""
        self.entry_requested.emit(summary.id)

    def update_buttons(self) -> None:
        chosen = self.current() is not None
        for button in (self.edit_button, self.entry_button, self.tally_button,
                       self.print_button, self.export_button):
            button.setEnabled(chosen)
