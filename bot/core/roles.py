"""Roles: everyone in a group is a member; moderators, secretaries and liaisons come from
config (per platform user id), from what the platform itself vouches for (a DingTalk group
admin, a local tab's choice) and from grants stored per group.

`Role` itself is stored with members' grants, so its values live in `storage.enums`; the
rooms above storage take it from here.
"""

from __future__ import annotations

from bot.core.messages import IncomingMessage
from bot.core.settings import RoleSettings
from storage.enums import Role, labels

__all__ = ["Role", "RoleBook", "labels"]


class RoleBook:
    """The roles config gives people, by `platform:user id`."""

    def __init__(self, settings: RoleSettings) -> None:
        self._people = {
            Role.MODERATOR: frozenset(settings.moderators),
            Role.SECRETARY: frozenset(settings.secretaries),
            Role.LIAISON: frozenset(settings.liaisons),
        }

    def roles_of(self, message: IncomingMessage) -> frozenset[Role]:
        """The sender's roles before any grant stored in the group: member, what the
        platform vouches for, and what config says."""
        roles = {Role.MEMBER, *message.platform_roles}
        who = f"{message.platform}:{message.sender_id}"
        roles.update(role for role, people in self._people.items() if who in people)
        return frozenset(roles)
