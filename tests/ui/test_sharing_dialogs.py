"""The sharing dialogs on their own, over a stand-in service: the key code and its countdown,
the list of PCs and disabling one, the changes to check, starting to share, the recovery
sheet, and the join wizard."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from desktop.domain.errors import KairanError, ValidationError
from desktop.store.association_file import AssociationFile
from desktop.ui.pdf_preview import PdfPreview
from desktop.ui.sharing import common
from desktop.ui.sharing.devices_dialog import DevicesDialog
from desktop.ui.sharing.join_wizard import DONE_PAGE, KEY_PAGE, RELAY_PAGE, JoinWizard
from desktop.ui.sharing.key_code_dialog import VALID_SECONDS, KeyCodeDialog
from desktop.ui.sharing.recovery import RecoverySheetDialog
from desktop.ui.sharing.review_dialog import ReviewDialog
from desktop.ui.sharing.start_dialog import StartSharingDialog
from desktop.ui.sharing.status import status_parts
from desktop.ui.tasks import TaskRunner
from tests.ui.helpers import TODAY, Messages
from tests.ui.sharing_fakes import WORDS, FakeService, SheetRecorder, on

WAIT = 5000  # ms


@dataclass
class Host:
    """The parent window, its task runner and the open demo file."""

    parent: QWidget
    tasks: TaskRunner
    file: AssociationFile


@pytest.fixture
def host(qtbot: Any, demo_file: AssociationFile) -> Host:
    widget = QWidget()
    qtbot.addWidget(widget)
    return Host(widget, TaskRunner(widget), demo_file)


def shown(qtbot: Any, dialog: QWidget) -> None:
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)


# ---------------------------------------------------------------- small pieces


def test_status_parts_say_the_count_and_the_warnings() -> None:
    def parts(**changes: Any) -> list[str]:
        info: Any = on(**changes)  # the stand-in for the service's SharingInfo
        return status_parts(info)

    assert status_parts(None) == []
    assert parts(enabled=False, review_count=3) == []
    assert parts() == []
    assert parts(review_count=3, clock_warning="Clock is 10 min off",
                 update_needed="Update Kairan") == [
        "Changes to check: 3", "Clock is 10 min off", "Update Kairan"]


def test_moments_are_in_wareki_with_the_western_date() -> None:
    moment = datetime(2026, 6, 1, 5, 30, tzinfo=UTC).astimezone()
    text = common.format_moment(moment)
    assert text.startswith("令和8年")
    assert f"({moment:%Y-%m-%d}) {moment:%H:%M}" in text
    assert common.format_moment(None) == "Not yet"


# ---------------------------------------------------------------- the key code


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_key_code_is_shown_big_and_counts_down_to_expiry(
        qtbot: Any, host: Host, fake: FakeService) -> None:
    clock = Clock()
    dialog = KeyCodeDialog(host.parent, host.file, host.tasks, clock=clock)
    shown(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.code.text() == "ABCDE-FGH12", timeout=WAIT)
    assert fake.called("offer_key") == [host.file]
    assert dialog.code.font().pointSizeF() >= 2.5 * host.parent.font().pointSizeF()
    assert dialog.left.text() == "Valid for 15 min 00 s more"
    clock.now += 61
    dialog.tick()
    assert dialog.left.text() == "Valid for 13 min 59 s more"
    clock.now += VALID_SECONDS
    dialog.tick()
    assert not dialog.code.isEnabled()
    assert "no longer works" in dialog.left.text()
    assert not dialog.timer.isActive()
    dialog.again_button.click()
    qtbot.waitUntil(lambda: dialog.code.text() == "KLMNP-QRS34", timeout=WAIT)
    assert dialog.code.isEnabled()
    assert dialog.seconds_left() == VALID_SECONDS
    dialog.reject()
    assert not dialog.isVisible()


def test_key_code_problem_is_said(qtbot: Any, host: Host, fake: FakeService) -> None:
    fake.error = KairanError("The relay cannot be reached.")
    dialog = KeyCodeDialog(host.parent, host.file, host.tasks)
    shown(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.task is None, timeout=WAIT)
    assert dialog.problem.text() == "The relay cannot be reached."
    assert dialog.left.text() == "No key code was made."
    assert dialog.again_button.isEnabled()


# ---------------------------------------------------------------- the PCs


def test_devices_list_marks_this_pc_and_greys_the_disabled(
        qtbot: Any, host: Host, fake: FakeService) -> None:
    dialog = DevicesDialog(host.parent, host.file, host.tasks)
    shown(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 3, timeout=WAIT)
    rows = dialog.rows()
    assert rows[0][0] == "会長宅のPC　(this PC)" and rows[0][3] == "This PC"
    assert rows[0][1].startswith("令和8年6月1日")
    assert rows[1] == ("会計のPC", "Not yet", "2", "In use")
    assert rows[2][2:] == ("―", "Disabled")
    disabled, this_pc = dialog.table.item(2, 0), dialog.table.item(0, 0)
    assert disabled is not None and this_pc is not None
    assert disabled.foreground().color().name() == "#8a8a8a"
    assert this_pc.font().bold()
    for row, can_disable in ((0, False), (1, True), (2, False)):
        dialog.table.selectRow(row)
        assert dialog.revoke_button.isEnabled() is can_disable


def test_disabling_a_pc_asks_first_and_explains(
        qtbot: Any, host: Host, fake: FakeService, messages: Messages) -> None:
    dialog = DevicesDialog(host.parent, host.file, host.tasks)
    shown(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 3, timeout=WAIT)
    revoked: list[str] = []
    dialog.revoked.connect(revoked.append)
    dialog.select("dev-2")
    dialog.revoke_button.click()  # the officer says No
    assert fake.called("revoke_device") == []
    question = messages.questions[-1]
    assert "会計のPC" in question and "key is changed" in question
    assert "cannot be erased" in question and "2 changes" in question

    messages.answer = True
    dialog.revoke_button.click()
    qtbot.waitUntil(lambda: revoked == ["dev-2"], timeout=WAIT)
    assert fake.called("revoke_device") == ["dev-2"]
    assert "is disabled" in messages.informations[-1]
    qtbot.waitUntil(lambda: dialog.rows()[1][3] == "Disabled", timeout=WAIT)
    dialog.select("dev-2")
    assert not dialog.revoke_button.isEnabled()


def test_a_failed_disabling_is_said_in_the_dialog(
        qtbot: Any, host: Host, fake: FakeService, messages: Messages) -> None:
    dialog = DevicesDialog(host.parent, host.file, host.tasks)
    shown(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 3, timeout=WAIT)
    dialog.select("dev-2")
    messages.answer = True
    fake.error = KairanError("The relay is busy. Try again in a minute.")
    dialog.revoke_button.click()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=WAIT)
    assert dialog.problem.text() == "The relay is busy. Try again in a minute."
    assert dialog.revoke_button.isEnabled()


# ---------------------------------------------------------------- changes to check


def test_review_shows_kept_and_lost_and_restores_only_where_it_can(
        qtbot: Any, host: Host, fake: FakeService,
        messages: Messages) -> None:
    dialog = ReviewDialog(host.parent, host.file)
    shown(qtbot, dialog)
    changed: list[bool] = []
    dialog.changed.connect(lambda: changed.append(True))
    assert dialog.rows() == [
        ("Changed on two PCs; one change replaced the other", "0001 服部 修 · 電話",
         "090-1111-2222", "03-3333-4444", "会計のPC"),
        ("The same role was given to two people", "会長", "服部 修", "田中 一郎", "会計のPC"),
    ]
    dialog.table.selectRow(1)
    assert dialog.keep_button.isEnabled() and not dialog.restore_button.isEnabled()
    dialog.table.selectRow(0)
    assert dialog.restore_button.isEnabled()
    dialog.restore_button.click()  # asked; the officer says No
    assert "03-3333-4444" in messages.questions[-1]
    assert fake.called("decide_review") == []
    messages.answer = True
    dialog.restore_button.click()
    assert fake.called("decide_review") == [(uuid.UUID(int=1), "restore")]
    assert changed == [True]
    assert len(dialog.rows()) == 1
    dialog.keep_button.click()
    assert fake.called("decide_review")[-1] == (uuid.UUID(int=2), "keep")
    assert dialog.rows() == []
    assert dialog.empty.isVisibleTo(dialog)
    assert not dialog.keep_button.isEnabled()


def test_a_refused_decision_is_said(qtbot: Any, host: Host, fake: FakeService) -> None:
    dialog = ReviewDialog(host.parent, host.file)
    shown(qtbot, dialog)
    fake.error = KairanError("That household was deleted meanwhile.")
    dialog.keep_button.click()
    assert dialog.problem.text() == "That household was deleted meanwhile."
    assert len(dialog.rows()) == 2


# ---------------------------------------------------------------- starting to share


def test_start_sharing_runs_in_the_background_and_hands_over_the_words(
        qtbot: Any, host: Host, fake: FakeService) -> None:
    dialog = StartSharingDialog(host.parent, host.file, host.tasks)
    shown(qtbot, dialog)
    started: list[list[str]] = []
    dialog.started.connect(started.append)
    fake.error = KairanError("Connect this file to the relay first.")
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=WAIT)
    assert dialog.problem.text() == "Connect this file to the relay first."
    assert dialog.isVisible() and started == []
    dialog.start_button.click()
    qtbot.waitUntil(lambda: started == [WORDS], timeout=WAIT)
    assert not dialog.isVisible()
    assert fake.called("enable_sharing") == [host.file, host.file]


def test_recovery_sheet_shows_the_words_prints_and_insists_on_the_safe(
        qtbot: Any, host: Host, sheet: SheetRecorder,
        messages: Messages, tmp_path: Path) -> None:
    dialog = RecoverySheetDialog(host.parent, host.tasks, words=WORDS,
                                 association_name="桜町自治会",
                                 relay_url="https://relay.example.jp", made_on=TODAY,
                                 job_folder=tmp_path)
    shown(qtbot, dialog)
    assert dialog.word_texts() == WORDS
    dialog.print_button.click()
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=WAIT)
    assert sheet.calls[0]["words"] == WORDS
    assert sheet.calls[0]["association_name"] == "桜町自治会"
    assert sheet.calls[0]["relay_url"] == "https://relay.example.jp"
    assert sheet.calls[0]["made_on"] == TODAY
    preview = dialog.preview
    assert isinstance(preview, PdfPreview)
    assert preview.suggested_name == "桜町自治会_復旧シート_20260601.pdf"
    preview.reject()  # the temporary PDF goes with the preview
    assert not sheet.calls[0]["path"].exists()

    dialog.reject()  # not ticked: asked, and the officer says No
    assert "cannot be shown again" in messages.questions[-1]
    assert dialog.isVisible()
    dialog.kept.setChecked(True)
    dialog.reject()
    assert not dialog.isVisible()
    assert dialog.words == []
    assert len(messages.questions) == 1


def test_recovery_sheet_problem_is_said(qtbot: Any, host: Host, tmp_path: Path) -> None:
    def broken(path: Path, **_kwargs: Any) -> int:
        raise KairanError("The disk is full.")

    dialog = RecoverySheetDialog(host.parent, host.tasks, words=WORDS,
                                 association_name="桜町自治会", relay_url="",
                                 made_on=TODAY, job_folder=tmp_path, render=broken)
    shown(qtbot, dialog)
    dialog.print_button.click()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=WAIT)
    assert dialog.problem.text() == "The disk is full."
    assert dialog.print_button.isEnabled()


# ---------------------------------------------------------------- the join wizard


@pytest.fixture
def wizard(qtbot: Any, host: Host, tmp_path: Path,
           fake: FakeService) -> Iterator[JoinWizard]:
    join = JoinWizard(host.parent, host.tasks, folder=tmp_path)
    shown(qtbot, join)
    yield join
    join.close()


def fill_relay(wizard: JoinWizard) -> None:
    form = wizard.relay_page.form
    form.relay_url.setText("https://relay.example.jp")
    form.code.setText("PAIR-1234")
    form.device_name.setText("会計のPC")


def test_join_with_a_key_code_opens_the_new_file(
        qtbot: Any, wizard: JoinWizard, fake: FakeService, tmp_path: Path) -> None:
    assert not wizard.relay_page.isComplete()
    fill_relay(wizard)
    assert wizard.relay_page.isComplete()
    wizard.next()
    assert wizard.currentId() == KEY_PAGE
    assert not wizard.key_page.isComplete()
    wizard.key_page.key_code.setText(" abcde-fgh12 ")
    assert wizard.key_page.isComplete()
    joined: list[Path] = []
    wizard.joined.connect(joined.append)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == DONE_PAGE, timeout=WAIT)
    request = fake.called("join_association")[0]
    assert request.folder == tmp_path
    assert request.relay_url == "https://relay.example.jp"
    assert request.pairing_code == "PAIR-1234"
    assert request.device_name == "会計のPC"
    assert (request.key_code, request.recovery_words, request.ca_file) == (
        "abcde-fgh12", "", "")
    assert str(tmp_path / "joined.kairan") in wizard.done_page.where.text()
    wizard.accept()
    assert joined == [tmp_path / "joined.kairan"]


def test_join_with_the_recovery_words(qtbot: Any, wizard: JoinWizard,
                                      fake: FakeService) -> None:
    fill_relay(wizard)
    wizard.next()
    wizard.key_page.key_code.setText("ABCDE-FGH12")
    wizard.key_page.use_words.setChecked(True)
    assert not wizard.key_page.key_code.isEnabled()
    assert not wizard.key_page.isComplete()
    wizard.key_page.words.setPlainText("  Abandon ability\n able   about above absent "
                                       "absorb abstract absurd abuse access accident ")
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == DONE_PAGE, timeout=WAIT)
    request = fake.called("join_association")[0]
    assert request.key_code == ""
    assert request.recovery_words == ("Abandon ability able about above absent absorb "
                                      "abstract absurd abuse access accident")


def test_join_problem_with_the_pairing_code_goes_back_to_it(
        qtbot: Any, wizard: JoinWizard, fake: FakeService) -> None:
    fill_relay(wizard)
    wizard.next()
    wizard.key_page.key_code.setText("ABCDE-FGH12")
    fake.error = ValidationError("The pairing code was already used.", field="code")
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == RELAY_PAGE, timeout=WAIT)
    assert wizard.relay_page.problem.text() == "The pairing code was already used."
    assert wizard.focusWidget() is wizard.relay_page.form.code


def test_join_problem_with_the_key_code_stays_on_the_key(
        qtbot: Any, wizard: JoinWizard, fake: FakeService) -> None:
    fill_relay(wizard)
    wizard.next()
    wizard.key_page.key_code.setText("ABCDE-FGH12")
    fake.error = ValidationError("The key code does not match.", field="key_code")
    wizard.next()
    qtbot.waitUntil(lambda: not wizard.busy, timeout=WAIT)
    assert wizard.currentId() == KEY_PAGE
    assert wizard.key_page.problem.text() == "The key code does not match."
    wizard.next()  # typed again: the second try goes through
    qtbot.waitUntil(lambda: wizard.currentId() == DONE_PAGE, timeout=WAIT)
