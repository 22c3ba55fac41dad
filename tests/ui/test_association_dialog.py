"""The association settings dialog: name, purpose statement and retention period."""

from __future__ import annotations

from typing import Any

from desktop.domain import association
from desktop.store.association_file import AssociationFile
from desktop.ui.association_dialog import KEEP, AssociationDialog, standard_purpose
from tests.ui.helpers import Messages


def _dialog(qtbot: Any, association_file: AssociationFile) -> AssociationDialog:
    dialog = AssociationDialog(None, association_file)
    qtbot.addWidget(dialog)
    return dialog


def _saved(association_file: AssociationFile) -> association.AssociationInfo:
    with association_file.read() as session:
        return association.get_association(session)


def test_it_shows_the_current_settings(qtbot: Any, association_file: AssociationFile) -> None:
    with association_file.write() as session:
        association.update_settings(session, name="桜町自治会",
                                    purpose_statement="配布に使います。", retention_months=60)
    dialog = _dialog(qtbot, association_file)
    assert dialog.name.text() == "桜町自治会"
    assert dialog.purpose.toPlainText() == "配布に使います。"
    assert dialog.retention.value() == 60
    assert dialog.count.text() == "8 of 500 characters"


def test_a_new_association_keeps_withdrawn_households(qtbot: Any,
                                                      association_file: AssociationFile) -> None:
    dialog = _dialog(qtbot, association_file)
    assert dialog.retention.value() == KEEP
    assert dialog.retention.text() == "Keep (no purge)"
    assert dialog.retention_months() is None


def test_the_standard_wording_is_one_click_and_everything_saves_together(
        qtbot: Any, association_file: AssociationFile) -> None:
    dialog = _dialog(qtbot, association_file)
    dialog.standard.click()
    assert dialog.purpose.toPlainText() == standard_purpose()
    dialog.retention.setValue(24)
    dialog.accept()
    assert dialog.saved
    info = _saved(association_file)
    assert (info.purpose_statement, info.retention_months) == (standard_purpose(), 24)


def test_setting_keep_again_clears_the_period(qtbot: Any,
                                              association_file: AssociationFile) -> None:
    with association_file.write() as session:
        association.set_retention_months(session, months=12)
    dialog = _dialog(qtbot, association_file)
    dialog.retention.setValue(KEEP)
    dialog.accept()
    assert _saved(association_file).retention_months is None


def test_a_statement_too_long_says_so_and_keeps_the_dialog_open(
        qtbot: Any, association_file: AssociationFile, messages: Messages) -> None:
    dialog = _dialog(qtbot, association_file)
    dialog.purpose.setPlainText("長" * 501)
    assert dialog.count.text() == "501 of 500 characters"
    assert "b00020" in dialog.count.styleSheet()
    dialog.accept()
    assert not dialog.saved
    assert "at most 500" in messages.warnings[0]
    assert dialog.focusWidget() is dialog.purpose
    assert _saved(association_file).purpose_statement == ""


def test_an_empty_name_is_refused(qtbot: Any, association_file: AssociationFile,
                                  messages: Messages) -> None:
    dialog = _dialog(qtbot, association_file)
    dialog.name.setText("  ")
    dialog.retention.setValue(6)
    dialog.accept()
    assert not dialog.saved and "name is empty" in messages.warnings[0]
    info = _saved(association_file)
    assert (info.name, info.retention_months) == ("桜町自治会", None)  # nothing half-saved
