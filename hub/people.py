"""Admin views of people (CONTRACT §2 ``GET /admin/users``, ``GET /admin/users/{id}``):
accounts with booking, seat, cancellation and organized-event counts and the last log-in.
Definitions: :class:`hub.ports.people.UserStats`."""

from __future__ import annotations

from hub.errors import ValidationFailed
from hub.model import Actor
from hub.policy import require_admin
from hub.ports.people import SORT_KEYS, PeopleSource, Person, PersonQuery

__all__ = ["PeopleService"]


class PeopleService:
    """Reads accounts with their stats. Admins only."""

    def __init__(self, source: PeopleSource) -> None:
        self.source = source

    async def search(self, actor: Actor, query: PersonQuery) -> tuple[list[Person], int]:
        """A page of accounts with stats, and the number matching.

        Raises: Forbidden (not an admin), ValidationFailed (``sort`` not a
        :data:`~hub.ports.people.SORT_KEYS` name).
        """
        require_admin(actor)
        if query.sort not in SORT_KEYS:
            raise ValidationFailed(fields=[{"field": "sort",
                                            "message": f"one of {', '.join(SORT_KEYS)}"}])
        return await self.source.people(query)

    async def profile(self, actor: Actor, user_id: int) -> Person:
        """One account with stats. Raises: Forbidden (not an admin), NotFound."""
        require_admin(actor)
        return await self.source.person(user_id)
