"""The household editor, driven through the main window: new and edited households, problems
that keep the dialog open at the field at fault, members, and undo/redo of a save."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QDialog

from desktop.domain import households
from desktop.domain.households import HouseholdRecord
from desktop.domain.models import NoticeChannel
from desktop.store.association_file import AssociationFile
from desktop.ui.household_dialog import HouseholdDialog
from desktop.ui.main_window import MainWindow
from tests.ui.helpers import Messages, choose_group, group_item, household_id, shown

Fill = Callable[[HouseholdDialog], None]
Drive = Callable[..., list[HouseholdDialog]]


@pytest.fixture
def drive(monkeypatch: pytest.MonkeyPatch) -> Drive:
    """Replace the editor's ``exec``: show it, let ``fill`` type into it, press Save.

    Returns the dialogs opened, so a test can look at one that stayed open.
    """

    def patch(fill: Fill, *, save: bool = True) -> list[HouseholdDialog]:
        opened: list[HouseholdDialog] = []

        def fake_exec(dialog: HouseholdDialog) -> int:
            opened.append(dialog)
            dialog.show()
            fill(dialog)
            if save:
                dialog.accept()
            return dialog.result()

        monkeypatch.setattr(HouseholdDialog, "exec", fake_exec)
        return opened

    return patch


def _record(demo_file: AssociationFile, household: uuid.UUID) -> HouseholdRecord:
    with demo_file.read() as session:
        return households.get_household(session, household_id=household)


def _new_aoki(dialog: HouseholdDialog) -> None:
    dialog.number.setText("0100")
    dialog.display_name.setText("青木 一郎")
    dialog.furigana.setText("あおき いちろう")
    head = dialog.members.item(0, 0)
    assert head is not None
    head.setText("青木 一郎")


def _then(*fills: Fill) -> Fill:
    def fill(dialog: HouseholdDialog) -> None:
        for step in fills:
            step(dialog)

    return fill


# ---------------------------------------------------------------- a new household


def test_new_household_appears_in_the_roster(
    window: MainWindow, drive: Drive, messages: Messages
) -> None:
    drive(_new_aoki)
    window.household_actions.new_household()
    assert messages.warnings == []
    assert "0100" in shown(window.model, "number")
    assert window.roster.count.text() == "41 of 41 households"
    assert window.roster.current_household() == household_id(window, "0100")


def test_new_household_is_sorted_in_50on_order(window: MainWindow, drive: Drive) -> None:
    drive(_new_aoki)
    window.household_actions.new_household()
    furigana = shown(window.model, "furigana")
    assert furigana.index("あおき いちろう") == furigana.index("アベ ダイキ") - 1


def test_new_household_starts_with_an_empty_head_of_household(
    window: MainWindow, drive: Drive
) -> None:
    opened = drive(lambda _dialog: None, save=False)
    window.household_actions.new_household()
    (dialog,) = opened
    assert dialog.number.text() == ""
    assert dialog.members.rowCount() == 1
    relation = dialog.members.item(0, 2)
    assert relation is not None and relation.text() == "世帯主"
    assert "0100" not in shown(window.model, "number")


def test_new_household_goes_into_the_chosen_han(
    window: MainWindow, drive: Drive, demo_file: AssociationFile
) -> None:
    choose_group(window, "2班")
    opened = drive(_new_aoki)
    window.household_actions.new_household()
    assert opened[0].group.currentText() == "2班"
    record = _record(demo_file, household_id(window, "0100"))
    assert record.group_id == window.groups.current_group_id()
    assert group_item(window, "2班").text(1) == "24"  # 23 and the new one


def test_cancel_saves_nothing(window: MainWindow, drive: Drive) -> None:
    opened = drive(_new_aoki, save=False)
    window.household_actions.new_household()
    opened[0].reject()
    assert window.model.rowCount() == 40
    assert window.undo_stack.count() == 0


def test_undo_of_a_new_household_removes_it(window: MainWindow, drive: Drive) -> None:
    drive(_new_aoki)
    window.household_actions.new_household()
    assert window.undo_stack.undoText() == "New household 青木 一郎"
    window.undo_stack.undo()
    assert "0100" not in shown(window.model, "number")
    window.undo_stack.redo()
    assert "0100" in shown(window.model, "number")


# ---------------------------------------------------------------- problems keep it open


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        pytest.param(
            "number",
            "0001",
            "Household number 0001 is already used by 服部 修. Choose another number.",
            id="duplicate-number",
        ),
        pytest.param(
            "furigana", "青木", "the furigana 「青木」 is not a reading", id="furigana-in-kanji"
        ),
        pytest.param("joined_on", "昨日", "「昨日」 is not a date", id="not-a-date"),
        pytest.param("postal_code", "12-34", "is not 7 digits", id="short-postal-code"),
        pytest.param("phone", "12345", "is not a telephone number", id="bad-phone"),
        pytest.param("display_name", "  ", "The household name is empty", id="empty-name"),
    ],
)
def test_a_problem_keeps_the_dialog_open_at_the_field(
    window: MainWindow,
    drive: Drive,
    messages: Messages,
    *,
    field: str,
    value: str,
    message: str,
) -> None:
    def wrong(dialog: HouseholdDialog) -> None:
        getattr(dialog, field).setText(value)

    opened = drive(_then(_new_aoki, wrong))
    window.household_actions.new_household()
    (dialog,) = opened
    assert len(messages.warnings) == 1
    assert message in messages.warnings[0]
    assert messages.titles == ["Cannot save"]
    assert messages.parents == [dialog]
    assert dialog.isVisible()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.focusWidget() is getattr(dialog, field)
    assert window.model.rowCount() == 40
    assert window.undo_stack.count() == 0
    dialog.reject()


def test_fixing_the_field_then_saving_works(
    window: MainWindow, drive: Drive, messages: Messages
) -> None:
    def duplicate(dialog: HouseholdDialog) -> None:
        dialog.number.setText("0001")

    opened = drive(_then(_new_aoki, duplicate))
    window.household_actions.new_household()
    (dialog,) = opened
    assert dialog.number.selectedText() == "0001"  # selected, so typing replaces it
    dialog.number.setText("0101")
    dialog.accept()
    assert not dialog.isVisible()
    assert len(messages.warnings) == 1
    assert "0101" in shown(window.model, "number")


def test_problem_in_a_member_row_focuses_the_members(
    window: MainWindow, drive: Drive, messages: Messages
) -> None:
    def nameless(dialog: HouseholdDialog) -> None:
        head = dialog.members.item(0, 0)
        assert head is not None
        head.setText("")

    opened = drive(_then(_new_aoki, nameless))
    window.household_actions.new_household()
    assert "Member 1: the name is empty" in messages.warnings[0]
    assert opened[0].focusWidget() is opened[0].members


def test_email_channel_needs_an_address(
    window: MainWindow, drive: Drive, messages: Messages
) -> None:
    def by_email(dialog: HouseholdDialog) -> None:
        dialog.channel.setCurrentIndex(dialog.channel.findData(NoticeChannel.EMAIL))

    opened = drive(_then(_new_aoki, by_email))
    window.household_actions.new_household()
    assert "has no e-mail address" in messages.warnings[0]
    assert opened[0].focusWidget() is opened[0].emails[0]


# ---------------------------------------------------------------- editing, undo and redo


def test_editor_opens_with_the_household(window: MainWindow, drive: Drive) -> None:
    opened = drive(lambda _dialog: None, save=False)
    window.household_actions.edit_household(household_id(window, "0001"))
    (dialog,) = opened
    assert dialog.windowTitle() == "Household 0001"
    assert dialog.display_name.text() == "服部 修"
    assert dialog.furigana.text() == "ハットリ オサム"
    assert dialog.group.currentText() == "1班"
    assert dialog.members.rowCount() == 3
    assert dialog.focusWidget() is dialog.display_name


def _rename(name: str) -> Fill:
    def fill(dialog: HouseholdDialog) -> None:
        dialog.display_name.setText(name)

    return fill


def _names(window: MainWindow) -> dict[str, str]:
    return dict(zip(shown(window.model, "number"), shown(window.model, "name"), strict=True))


def test_edit_then_undo_then_redo(
    window: MainWindow, drive: Drive, demo_file: AssociationFile
) -> None:
    household = household_id(window, "0001")
    drive(_rename("服部 修二"))
    window.household_actions.edit_household(household)
    assert _names(window)["0001"] == "服部 修二"
    assert window.undo_stack.undoText() == "Edit 服部 修二"

    window.undo_stack.undo()
    assert _names(window)["0001"] == "服部 修"
    assert _record(demo_file, household).data.display_name == "服部 修"

    window.undo_stack.redo()
    assert _names(window)["0001"] == "服部 修二"
    assert _record(demo_file, household).data.display_name == "服部 修二"


def test_saving_an_edit_keeps_the_household_in_its_han(
    window: MainWindow, drive: Drive, demo_file: AssociationFile
) -> None:
    household = household_id(window, "0001")
    before = _record(demo_file, household)
    drive(_rename("服部 修二"))
    window.household_actions.edit_household(household)
    after = _record(demo_file, household)
    assert (after.group_id, after.circulation_order) == (
        before.group_id,
        before.circulation_order,
    )
    assert shown(window.model, "group")[window.model.view_row_of(household) or 0] == "1班"


def test_edit_keeps_the_household_selected(window: MainWindow, drive: Drive) -> None:
    household = household_id(window, "0001")
    window.roster.select_household(household)
    drive(_rename("服部 修二"))
    window.household_actions.edit_household(household)
    assert window.roster.current_household() == household


def test_moving_in_the_editor_is_undone_to_the_same_place(
    window: MainWindow, drive: Drive, demo_file: AssociationFile
) -> None:
    household = household_id(window, "0002")
    before = _record(demo_file, household)

    def to_han_2(dialog: HouseholdDialog) -> None:
        dialog.group.setCurrentText("2班")

    drive(to_han_2)
    window.household_actions.edit_household(household)
    assert _record(demo_file, household).group_id != before.group_id
    window.undo_stack.undo()
    after = _record(demo_file, household)
    assert (after.group_id, after.circulation_order) == (
        before.group_id,
        before.circulation_order,
    )


def test_add_a_member_in_the_dialog(
    window: MainWindow, drive: Drive, demo_file: AssociationFile
) -> None:
    household = household_id(window, "0001")

    def add(dialog: HouseholdDialog) -> None:
        dialog.add_member()
        row = dialog.members.rowCount() - 1
        assert dialog.members.currentRow() == row
        item = dialog.members.item(row, 0)
        assert item is not None
        item.setText("服部 花子")
        relation = dialog.members.item(row, 2)
        assert relation is not None
        relation.setText("妻")

    drive(add)
    window.household_actions.edit_household(household)
    members = _record(demo_file, household).members
    assert len(members) == 4
    assert (members[-1].name, members[-1].relation, members[-1].is_head) == (
        "服部 花子",
        "妻",
        False,
    )
    assert shown(window.model, "members")[window.model.view_row_of(household) or 0] == "4"

    window.undo_stack.undo()
    assert len(_record(demo_file, household).members) == 3


def test_remove_a_member_in_the_dialog(
    window: MainWindow, drive: Drive, demo_file: AssociationFile
) -> None:
    household = household_id(window, "0001")
    before = _record(demo_file, household).members

    def remove_second(dialog: HouseholdDialog) -> None:
        dialog.members.setCurrentCell(1, 0)
        dialog.remove_member()
        assert dialog.members.rowCount() == 2

    drive(remove_second)
    window.household_actions.edit_household(household)
    after = _record(demo_file, household).members
    assert [m.id for m in after] == [before[0].id, before[2].id]

    window.undo_stack.undo()
    assert [m.name for m in _record(demo_file, household).members] == [m.name for m in before]


def test_a_member_holding_a_role_cannot_be_removed(
    window: MainWindow, drive: Drive, messages: Messages, demo_file: AssociationFile
) -> None:
    household = household_id(window, "0040")  # its head is the 会長

    def remove_head(dialog: HouseholdDialog) -> None:
        dialog.members.setCurrentCell(0, 0)
        dialog.remove_member()

    opened = drive(remove_head)
    window.household_actions.edit_household(household)
    assert "holds the role 会長" in messages.warnings[0]
    assert opened[0].isVisible()
    assert opened[0].focusWidget() is opened[0].members
    assert len(_record(demo_file, household).members) == 2
    opened[0].reject()


def test_joined_date_is_shown_in_both_calendars(window: MainWindow, drive: Drive) -> None:
    opened = drive(lambda dialog: dialog.joined_on.setText("令和8年5月1日"), save=False)
    window.household_actions.new_household()
    assert opened[0].joined_shown.text() == "令和8年5月1日 (2026-05-01)"
    opened[0].joined_on.setText("someday")
    assert opened[0].joined_shown.text() == "(not a date)"


def test_editing_a_household_deleted_meanwhile_warns(
    window: MainWindow, drive: Drive, messages: Messages, demo_file: AssociationFile
) -> None:
    household = household_id(window, "0001")
    with demo_file.write() as session:
        households.delete_new_household(session, household_id=household)
    opened = drive(lambda _dialog: None)
    window.household_actions.edit_household(household)
    assert opened == []
    assert messages.warnings == ["This household no longer exists. Reload the roster."]
    assert "0001" not in shown(window.model, "number")  # the roster was reloaded
