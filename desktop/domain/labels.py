"""Names of the domain's fixed choices, for the window and the command line alike."""

from __future__ import annotations

from desktop.domain.models import GroupKind, NoticeChannel, RoleScope
from desktop.i18n import N_, _

_CHANNELS = {
    NoticeChannel.APP: N_("App"),
    NoticeChannel.EMAIL: N_("E-mail"),
    NoticeChannel.PAPER: N_("Paper"),
}
_GROUP_KINDS = {GroupKind.DISTRICT: N_("District (地区)"), GroupKind.HAN: N_("Group (班)")}
_SCOPES = {RoleScope.ASSOCIATION: N_("Whole association"), RoleScope.GROUP: N_("Each 班")}


def channel_label(channel: str) -> str:
    """How a notice channel is shown (アプリ / メール / 紙)."""
    return _(_CHANNELS[NoticeChannel(channel)])


def group_kind_label(kind: str) -> str:
    """How a group kind is shown."""
    return _(_GROUP_KINDS[GroupKind(kind)])


def scope_label(scope: str) -> str:
    """How a role's scope is shown."""
    return _(_SCOPES[RoleScope(scope)])
