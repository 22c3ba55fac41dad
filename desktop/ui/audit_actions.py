"""Who is using Kairan, and the history of changes, from the window.

``choose_profile`` opens 「Kairanを使うのはどなたですか」 and makes the name chosen the actor
of every later write (``AssociationFile.actor``); ``ask_after_open`` does so when a file
opens, if the file has officer profiles. The name chosen (or that none is) stays in the
status bar. ``show_history`` and ``show_household_history`` open the history of changes.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel

from desktop.domain import profiles
from desktop.domain.errors import KairanError
from desktop.domain.households import get_household
from desktop.domain.models import OfficerProfile
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.history_view import HistoryView
from desktop.ui.profile_dialog import ProfileDialog
from desktop.ui.window_actions import WindowActions

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow

__all__ = ["AuditActions"]


class AuditActions(WindowActions):
    """Officer profiles and the history of changes."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.dialog: ProfileDialog | None = None
        self.history: HistoryView | None = None
        self.profile_label = QLabel()
        self.profile_label.setObjectName("profile")
        window.statusBar().addPermanentWidget(self.profile_label)
        self._show_actor()

    # ------------------------------------------------------------ who is using Kairan

    def ask_after_open(self) -> ProfileDialog | None:
        """After a file opens: ask who is using it, if the file has officer profiles."""
        with self.file.read() as session:
            has_profiles = bool(profiles.list_profiles(session))
        if not has_profiles:
            self._show_actor()
            return None
        return self.choose_profile()

    def choose_profile(self) -> ProfileDialog:
        """「担当者を切り替える…」: choose (or add) the officer using Kairan."""
        if self.dialog is not None:
            self.dialog.deleteLater()
        dialog = ProfileDialog(self.window, self.file)
        dialog.profile_chosen.connect(self._chosen)
        self.dialog = dialog
        dialog.open()  # window-modal, without a nested event loop
        return dialog

    def _chosen(self, profile: OfficerProfile | None) -> None:
        self.file.actor = profiles.actor_of(profile) if profile is not None else None
        self._show_actor()
        if profile is None:
            self.window.statusBar().showMessage(
                _("No officer chosen: changes are recorded without a name."), 8000)

    def _show_actor(self) -> None:
        actor = self.file.actor
        if actor is None:
            self.profile_label.setText(_("Officer: (none chosen)"))
            self.profile_label.setToolTip(_("Changes are recorded without a name. Choose "
                                            "who is using Kairan to have them recorded "
                                            "under yours."))
        else:
            self.profile_label.setText(_("Officer: {name}").format(name=actor.name))
            self.profile_label.setToolTip(_("Changes are recorded under this name."))

    # ------------------------------------------------------------ the history

    def show_history(self) -> HistoryView:
        """「変更履歴…」: every change, newest first."""
        return self._open_history(None, "")

    def show_household_history(self, household_id: uuid.UUID) -> HistoryView | None:
        """「この世帯の履歴」: the changes to one household."""
        try:
            with self.file.read() as session:
                data = get_household(session, household_id=household_id).data
        except KairanError as error:
            messages.warn(self.window, error.message)
            return None
        return self._open_history(household_id, f"{data.number} {data.display_name}")

    def show_selected_household_history(self) -> HistoryView | None:
        """The history of the household chosen in the roster."""
        household_id = self.window.roster.current_household()
        if household_id is None:
            messages.warn(self.window, _("Choose a household in the roster first."))
            return None
        return self.show_household_history(household_id)

    def _open_history(self, household_id: uuid.UUID | None, name: str) -> HistoryView:
        if self.history is not None:
            self.history.close()
            self.history.deleteLater()
        view = HistoryView(self.window, self.file, self.window.tasks,
                           household_id=household_id, household_name=name)
        self.history = view
        view.show()  # not modal: the officer may look at the roster beside it
        return view
