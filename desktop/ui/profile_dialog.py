"""「Kairanを使うのはどなたですか」: the officer picks their name from large buttons, types
their PIN if they set one, or adds themselves; or skips, and changes are then recorded
without a name.

Three pages in one window (names, PIN, new officer), so nothing opens on top of another
dialog; the keyboard works throughout (Enter confirms, Esc goes back or closes).
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import profiles
from desktop.domain.errors import KairanError
from desktop.domain.models import OfficerProfile
from desktop.i18n import _
from desktop.store.association_file import AssociationFile

BUTTON_SCALE = 1.4  # names large enough to read and hit without glasses
NAMES, PIN, NEW = range(3)


def _larger(widget: QWidget, factor: float = BUTTON_SCALE) -> None:
    font = QFont(widget.font())
    font.setPointSizeF(font.pointSizeF() * factor)
    widget.setFont(font)


def _pin_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(profiles.PIN_LENGTHS.stop - 1)
    field.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
    _larger(field)
    return field


class ProfileDialog(QDialog):
    """Choose who is using Kairan; :attr:`chosen` is the profile, None when skipped."""

    profile_chosen = Signal(object)  # the OfficerProfile, or None when skipped

    def __init__(self, parent: QWidget | None, association_file: AssociationFile) -> None:
        super().__init__(parent)
        self.file = association_file
        self.chosen: OfficerProfile | None = None
        self.pending: OfficerProfile | None = None  # chosen, waiting for its PIN
        self.name_buttons: dict[uuid.UUID, QPushButton] = {}
        self.setWindowTitle(_("Who is using Kairan?"))
        self.pages = QStackedWidget()
        self.pages.addWidget(self._names_page())
        self.pages.addWidget(self._pin_page())
        self.pages.addWidget(self._new_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        self.resize(460, 520)
        self.load()

    # ------------------------------------------------------------ pages

    def _names_page(self) -> QWidget:
        page = QWidget()
        heading = QLabel(_("Who is using Kairan? Choose your name: the changes you make are "
                           "recorded under it."))
        heading.setWordWrap(True)
        _larger(heading, 1.2)
        self.names = QWidget()
        self.names_layout = QVBoxLayout(self.names)
        self.names_layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.names)
        self.empty_note = QLabel(_("No officer has been added yet. Add yourself below."))
        self.empty_note.setWordWrap(True)
        self.add_button = QPushButton(_("&Add a new officer…"))
        self.add_button.clicked.connect(self.show_new)
        self.skip_button = QPushButton(_("&Skip (changes are recorded without a name)"))
        self.skip_button.clicked.connect(self.skip)
        layout = QVBoxLayout(page)
        layout.addWidget(heading)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.empty_note)
        layout.addWidget(self.add_button)
        layout.addWidget(self.skip_button)
        return page

    def _pin_page(self) -> QWidget:
        page = QWidget()
        self.pin_heading = QLabel()
        self.pin_heading.setWordWrap(True)
        _larger(self.pin_heading, 1.2)
        self.pin = _pin_field()
        self.pin.returnPressed.connect(self.confirm_pin)
        self.pin_message = QLabel()
        self.pin_message.setWordWrap(True)
        ok = QPushButton(_("&OK"))
        ok.clicked.connect(self.confirm_pin)
        back = QPushButton(_("&Back"))
        back.clicked.connect(self.show_names)
        buttons = QHBoxLayout()
        buttons.addWidget(back)
        buttons.addStretch(1)
        buttons.addWidget(ok)
        layout = QVBoxLayout(page)
        layout.addWidget(self.pin_heading)
        layout.addWidget(self.pin)
        layout.addWidget(self.pin_message)
        layout.addStretch(1)
        layout.addLayout(buttons)
        return page

    def _new_page(self) -> QWidget:
        page = QWidget()
        heading = QLabel(_("Add a new officer. A PIN is optional: it keeps others from "
                           "choosing your name by mistake."))
        heading.setWordWrap(True)
        self.new_name = QLineEdit()
        self.new_name.setPlaceholderText(_("for example 山田 太郎"))
        _larger(self.new_name)
        self.new_pin = _pin_field()
        self.new_pin_again = _pin_field()
        self.new_message = QLabel()
        self.new_message.setWordWrap(True)
        form = QFormLayout()
        form.addRow(_("&Name:"), self.new_name)
        form.addRow(_("&PIN (4–8 digits, optional):"), self.new_pin)
        form.addRow(_("PIN &again:"), self.new_pin_again)
        self.create_button = QPushButton(_("A&dd and use this name"))
        self.create_button.clicked.connect(self.add_officer)
        back = QPushButton(_("&Back"))
        back.clicked.connect(self.show_names)
        for field in (self.new_name, self.new_pin, self.new_pin_again):
            field.returnPressed.connect(self.add_officer)
        buttons = QHBoxLayout()
        buttons.addWidget(back)
        buttons.addStretch(1)
        buttons.addWidget(self.create_button)
        layout = QVBoxLayout(page)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.new_message)
        layout.addStretch(1)
        layout.addLayout(buttons)
        return page

    # ------------------------------------------------------------ names

    def load(self) -> None:
        """Show a button for every officer in use."""
        with self.file.read() as session:
            found = profiles.list_profiles(session)
        while self.names_layout.count():
            item = self.names_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.name_buttons.clear()
        for profile in found:
            text = profile.name + (_(" (PIN)") if profiles.has_pin(profile) else "")
            button = QPushButton(text)
            button.setAccessibleName(profile.name)
            _larger(button)
            button.setMinimumHeight(button.sizeHint().height() * 3 // 2)
            button.clicked.connect(lambda _checked=False, chosen=profile: self.pick(chosen))
            self.names_layout.addWidget(button)
            self.name_buttons[profile.id] = button
        self.empty_note.setVisible(not found)
        if found:
            self.name_buttons[found[0].id].setFocus()
        else:
            self.add_button.setFocus()

    def show_names(self) -> None:
        """Back to the list of names."""
        self.pending = None
        self.pages.setCurrentIndex(NAMES)

    def pick(self, profile: OfficerProfile) -> None:
        """An officer chose their name: ask for the PIN if they have one."""
        if not profiles.has_pin(profile):
            self._done(profile)
            return
        self.pending = profile
        self.pin_heading.setText(_("{name}, type your PIN.").format(name=profile.name))
        self.pin.clear()
        self.pin_message.clear()
        self.pages.setCurrentIndex(PIN)
        self.pin.setFocus()

    def confirm_pin(self) -> None:
        """Check the PIN typed for the name chosen."""
        if self.pending is None:
            return
        if profiles.check_pin(self.pending, self.pin.text()):
            self._done(self.pending)
            return
        self.pin.clear()
        self.pin_message.setText(_("That PIN is not right. Type it again, or go back and "
                                   "choose another name."))
        self.pin.setFocus()

    # ------------------------------------------------------------ a new officer

    def show_new(self) -> None:
        """The page to add an officer."""
        self.new_name.clear()
        self.new_pin.clear()
        self.new_pin_again.clear()
        self.new_message.clear()
        self.pages.setCurrentIndex(NEW)
        self.new_name.setFocus()

    def add_officer(self) -> None:
        """Add the officer typed and use the name."""
        pin = self.new_pin.text().strip()
        if pin != self.new_pin_again.text().strip():
            self.new_message.setText(_("The two PINs differ. Type the same PIN twice, or "
                                       "leave both empty."))
            self.new_pin.setFocus()
            return
        try:
            with self.file.write() as session:
                profile = profiles.create_profile(session, name=self.new_name.text(),
                                                  pin=pin or None)
        except KairanError as error:
            self.new_message.setText(error.message)
            (self.new_pin if error.field == "pin" else self.new_name).setFocus()
            return
        self._done(profile)

    # ------------------------------------------------------------ the end

    def skip(self) -> None:
        """Go on without a name."""
        self.chosen = None
        self.profile_chosen.emit(None)
        self.accept()

    def _done(self, profile: OfficerProfile) -> None:
        self.chosen = profile
        self.profile_chosen.emit(profile)
        self.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.pages.currentIndex() != NAMES:
            self.show_names()
            return
        super().keyPressEvent(event)
