"""The group tree: 地区 → 班 with household counts; choosing one filters the roster."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

from desktop.domain.groups import GroupNode
from desktop.i18n import _

_ID = Qt.ItemDataRole.UserRole
_ALL = "all"
_NONE = "none"


class GroupTree(QTreeWidget):
    """Groups with counts; emits the set of group ids to show (None = every household)."""

    filter_changed = Signal(object)  # set[str | None] | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels([_("Group"), _("Households"), _("Paper")])
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformRowHeights(True)
        self._children: dict[str, set[str]] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self.currentItemChanged.connect(self._emit)
        self.fit_columns()

    def set_groups(self, groups: Sequence[GroupNode], *, unassigned: int) -> None:
        """Show the groups; keeps the current choice when it still exists (without telling
        the roster again, since its filter has not changed)."""
        chosen = self.current_key()
        self.blockSignals(True)
        self.clear()
        total = sum(g.households for g in groups if g.parent_id is None) + unassigned
        paper = sum(g.paper_households for g in groups if g.parent_id is None)
        self._items = {_ALL: self._item(_("All households"), total, paper, _ALL)}
        self.addTopLevelItem(self._items[_ALL])
        self._children = {}
        for group in groups:
            key = group.id.hex
            item = self._item(group.name, group.households, group.paper_households, key)
            parent = self._items.get(group.parent_id.hex) if group.parent_id else None
            if parent is not None:
                parent.addChild(item)
                self._children.setdefault(parent.data(0, _ID), set()).add(key)
            else:
                self.addTopLevelItem(item)
            self._items[key] = item
        if unassigned:
            self._items[_NONE] = self._item(_("No group"), unassigned, 0, _NONE)
            self.addTopLevelItem(self._items[_NONE])
        self.expandAll()
        self.setCurrentItem(self._items.get(chosen, self._items[_ALL]))
        self.blockSignals(False)
        if self.current_key() != chosen:
            self._emit()

    def fit_columns(self) -> None:
        """Size the columns for the current font (cheaper than measuring every row)."""
        em = self.fontMetrics().horizontalAdvance("あ")
        widths = (em * 9, em * 4, em * 3)
        for column, width in enumerate(widths):
            self.setColumnWidth(column, width)
        self.setMinimumWidth(sum(widths) + em * 2)  # the dock grows with large print

    @staticmethod
    def _item(name: str, households: int, paper: int, key: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([name, str(households), str(paper)])
        item.setData(0, _ID, key)
        return item

    def current_key(self) -> str:
        """``all``, ``none`` (households in no group) or a group id in hex."""
        item = self.currentItem()
        return str(item.data(0, _ID)) if item is not None else _ALL

    def current_group_id(self) -> uuid.UUID | None:
        """The chosen group, if a group (not "all" or "no group") is chosen."""
        key = self.current_key()
        return None if key in (_ALL, _NONE) else uuid.UUID(hex=key)

    def select_key(self, key: str) -> None:
        """Choose a row by its key."""
        item = self._items.get(key)
        if item is not None:
            self.setCurrentItem(item)

    def select_group(self, group_id: uuid.UUID | None) -> None:
        """Choose a group (None = all households)."""
        self.select_key(group_id.hex if group_id else _ALL)

    def _emit(self, *_args: object) -> None:
        key = self.current_key()
        if key == _ALL:
            self.filter_changed.emit(None)
        elif key == _NONE:
            self.filter_changed.emit({None})
        else:
            self.filter_changed.emit({key} | self._children.get(key, set()))
