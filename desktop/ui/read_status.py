"""Read status of a sent circular (既読状況): on the app, per 班, which app households have
read it and when, with 「未読の世帯に再送」; by e-mail, per 班, what became of each e-mail
household's mail (「メール送信済」「メール未達」「リンクを開いた」) beside its read mark and its
answer from any channel, with 「未読の世帯にメールを再送」.

Opened from the circulars tab; reads what the last sync brought in (a sync while it is open
does not refresh it: 「更新」 reads it again). The domain does the work
(:mod:`desktop.domain.read_status`, :mod:`desktop.domain.mail_status`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.circulars import get_circular
from desktop.domain.errors import KairanError
from desktop.domain.mail_status import (
    GroupMail,
    HouseholdMail,
    MailState,
    mail_state_label,
    mail_status,
    problem_label,
    resend_mail_to_unread,
)
from desktop.domain.read_status import GroupReads, read_status, resend_to_unread
from desktop.domain.replies import channel_label
from desktop.i18n import _
from desktop.store.association_file import AssociationFile
from desktop.ui import messages
from sync import outbox

__all__ = ["ReadStatusDialog"]

_MAIL_COLUMNS = 5  # household, name, mail, read, answer


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%m/%d %H:%M")


def _mail_text(household: HouseholdMail) -> str:
    if household.mail is MailState.NONE:
        return "—"
    when = f" {_when(household.mail_at)}" if household.mail_at is not None else ""
    return mail_state_label(household.mail) + when


def _answer_text(household: HouseholdMail) -> str:
    if household.answer_channel is None or household.answered_at is None:
        return _("Not answered")
    return _("{channel} {when}").format(channel=channel_label(household.answer_channel),
                                        when=_when(household.answered_at))


def _mail_tip(household: HouseholdMail) -> str:
    """Why a mail was not delivered, and the addresses no longer mailed."""
    lines = [household.mail_detail] if household.mail_detail else []
    lines += [_("{address}: {problem}").format(address=problem.address,
                                               problem=problem_label(problem.problem))
              for problem in household.problems]
    return "\n".join(lines)


def _tree(headers: list[str]) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setHeaderLabels(headers)
    tree.setRootIsDecorated(True)
    return tree


class ReadStatusDialog(QDialog):
    """Who has read a sent circular on the app and what became of its mails, per 班, with
    the two re-send buttons."""

    resent = Signal(int)  # how many households the circular goes to again (app or mail)

    def __init__(self, parent: QWidget | None, association_file: AssociationFile, *,
                 circular_id: uuid.UUID) -> None:
        super().__init__(parent)
        self.file = association_file
        self.circular_id = circular_id
        with association_file.read() as session:
            title = get_circular(session, circular_id=circular_id).data.title
            read_status(session, circular_id=circular_id)  # a draft: refused before showing
        self.setWindowTitle(_("Read status — {title}").format(title=title))

        self.summary = QLabel()
        self.tree = _tree([_("Household"), _("Name"), _("Read")])
        self.resend_button = QPushButton(_("&Re-send to unread households"))
        self.resend_button.clicked.connect(self.resend)
        self.mail_summary = QLabel()
        self.mail_summary.setWordWrap(True)
        self.mail_tree = _tree([_("Household"), _("Name"), _("Mail"), _("Read"),
                                _("Answer")])
        self.mail_resend_button = QPushButton(_("&Mail again to unread households"))
        self.mail_resend_button.clicked.connect(self.resend_mail)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._page(self.summary, self.tree, self.resend_button), _("App"))
        self.tabs.addTab(self._page(self.mail_summary, self.mail_tree,
                                    self.mail_resend_button), _("E-mail"))

        self.refresh_button = QPushButton(_("Re&fresh"))
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 44, em * 32)
        self.refresh()
        if self.tree.topLevelItemCount() == 0 and self.mail_tree.topLevelItemCount():
            self.tabs.setCurrentIndex(1)  # nobody on the app: the mails are what matters

    @staticmethod
    def _page(summary: QLabel, tree: QTreeWidget, button: QPushButton) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(summary)
        layout.addWidget(tree, 1)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(button)
        layout.addLayout(row)
        return page

    def refresh(self) -> None:
        """Read the markers and the mail events again and show them."""
        with self.file.read() as session:
            groups = read_status(session, circular_id=self.circular_id)
            mail = mail_status(session, circular_id=self.circular_id)
            paired = outbox.is_paired(session)
        self._show(groups)
        self._show_mail(mail, paired=paired)

    def _show(self, groups: list[GroupReads]) -> None:
        self.tree.clear()
        for group in groups:
            parent = QTreeWidgetItem([group.group_name or _("No 班"), "",
                                      _("{read} read, {unread} unread").format(
                                          read=group.read, unread=group.unread)])
            for household in group.households:
                read = _when(household.read_at) if household.read_at else _("Unread")
                item = QTreeWidgetItem([household.number, household.display_name, read])
                item.setData(0, Qt.ItemDataRole.UserRole, household.household_id.hex)
                parent.addChild(item)
            self.tree.addTopLevelItem(parent)
            parent.setExpanded(group.unread > 0)  # where there is something to follow up
        read_count = sum(group.read for group in groups)
        unread = sum(group.unread for group in groups)
        if not groups:
            self.summary.setText(_("No household receives this circular on the app."))
        else:
            self.summary.setText(_("Read on the app: {read} households; not yet: {unread}.")
                                 .format(read=read_count, unread=unread))
        self.resend_button.setEnabled(unread > 0)
        for column in range(3):
            self.tree.resizeColumnToContents(column)

    def _show_mail(self, groups: list[GroupMail], *, paired: bool) -> None:
        self.mail_tree.clear()
        for group in groups:
            parent = QTreeWidgetItem([group.group_name or _("No 班"), "", "", _(
                "{unread} unread").format(unread=group.unread), ""])
            for household in group.households:
                if household.read_at:
                    read = _when(household.read_at)
                else:  # an answer (on paper, say) means it was read, when is not known
                    read = _("Has answered") if household.has_read else _("Unread")
                item = QTreeWidgetItem([household.number, household.display_name,
                                        _mail_text(household), read, _answer_text(household)])
                item.setData(0, Qt.ItemDataRole.UserRole, household.household_id.hex)
                if tip := _mail_tip(household):
                    item.setToolTip(2, tip)
                parent.addChild(item)
            self.mail_tree.addTopLevelItem(parent)
            parent.setExpanded(group.unread > 0)
        households = [household for group in groups for household in group.households]
        count = {state: sum(1 for h in households if h.mail is state) for state in MailState}
        to_resend = sum(1 for h in households if h.mailable and not h.has_read)
        if not households:
            self.mail_summary.setText(_("No household receives this circular by e-mail."))
        else:
            self.mail_summary.setText(_(
                "By e-mail: {households} households — mail sent {sent}, link opened {opened}, "
                "not delivered {failed}; not read yet: {unread}.").format(
                    households=len(households),
                    sent=count[MailState.SENT] + count[MailState.OPENED],
                    opened=count[MailState.OPENED], failed=count[MailState.NOT_DELIVERED],
                    unread=sum(1 for h in households if not h.has_read)))
        self.mail_resend_button.setEnabled(paired and to_resend > 0)
        self.mail_resend_button.setToolTip("" if paired else _(
            "Only the relay sends mail: connect this file to it first."))
        for column in range(_MAIL_COLUMNS):
            self.mail_tree.resizeColumnToContents(column)

    def listed(self) -> dict[str, list[tuple[str, bool]]]:
        """The app tab per 班 as shown: (household number, read) in order."""
        shown: dict[str, list[tuple[str, bool]]] = {}
        for index in range(self.tree.topLevelItemCount()):
            parent = self.tree.topLevelItem(index)
            assert parent is not None
            children = [parent.child(row) for row in range(parent.childCount())]
            shown[parent.text(0)] = [(child.text(0), child.text(2) != _("Unread"))
                                     for child in children if child is not None]
        return shown

    def mail_listed(self) -> dict[str, list[tuple[str, str, str, str]]]:
        """The e-mail tab per 班 as shown: (household number, mail, read, answer)."""
        shown: dict[str, list[tuple[str, str, str, str]]] = {}
        for index in range(self.mail_tree.topLevelItemCount()):
            parent = self.mail_tree.topLevelItem(index)
            assert parent is not None
            children = [parent.child(row) for row in range(parent.childCount())]
            shown[parent.text(0)] = [
                (child.text(0), child.text(2), child.text(3), child.text(4))
                for child in children if child is not None]
        return shown

    def resend(self) -> int:
        """Publish the circular again for the unread app households (after asking)."""
        with self.file.read() as session:
            unread = sum(group.unread for group in read_status(
                session, circular_id=self.circular_id))
        if not unread or not messages.confirm(self, _(
                "Send this circular again to the {count} households that have not read it on "
                "the app?").format(count=unread)):
            return 0
        try:
            with self.file.write() as session:
                count = resend_to_unread(session, circular_id=self.circular_id)
        except KairanError as error:
            messages.warn(self, error.message)
            return 0
        self.resent.emit(count)
        messages.inform(self, _("It goes again to {count} households with the next sync.")
                        .format(count=count))
        return count

    def resend_mail(self) -> int:
        """Mail the circular again to the e-mail households that have not read it (after
        asking, with how many)."""
        with self.file.read() as session:
            unread = sum(1 for group in mail_status(session, circular_id=self.circular_id)
                         for h in group.households if h.mailable and not h.has_read)
        if not unread or not messages.confirm(self, _(
                "Mail this circular again to the {count} e-mail households that have not "
                "read it?").format(count=unread)):
            return 0
        try:
            with self.file.write() as session:
                count = resend_mail_to_unread(session, circular_id=self.circular_id)
        except KairanError as error:
            messages.warn(self, error.message)
            return 0
        self.resent.emit(count)
        messages.inform(self, _("The relay mails it again to {count} households after the "
                                "next sync.").format(count=count))
        self.refresh()
        return count
