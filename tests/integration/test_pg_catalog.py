"""The PostgreSQL user and event stores on a real database: what ``hub/`` gets back are
dataclasses with exact counts, and the database's rules become contract errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.errors import AlreadyExists, NotFound
from hub.model import EventStatus, Role
from hub.ports import EventQuery
from storage.db import Database
from storage.events import PgEvents
from storage.users import PgUsers
from tests.support.catalog import NOW, new_event, new_user


@pytest.fixture
def users(db: Database) -> PgUsers:
    return PgUsers(db)


@pytest.fixture
def events(db: Database) -> PgEvents:
    return PgEvents(db)


async def test_emails_are_unique_whatever_their_case(users: PgUsers) -> None:
    ann = await new_user(users, "ann")
    assert (ann.email, ann.role, ann.banned) == ("ann@example.test", Role.USER, False)
    with pytest.raises(AlreadyExists):
        await users.add_user("Other", "ANN@Example.test", "y", "user", NOW)
    found = await users.user_by_email("Ann@EXAMPLE.test")
    assert found is not None and found[0] == ann and found[1] == "x"
    assert await users.user_by_email("nobody@example.test") is None


async def test_upsert_updates_the_existing_account(users: PgUsers) -> None:
    ann = await new_user(users, "ann")
    await users.ban(ann.id, NOW)
    again = await users.upsert_user("", "ann@example.test", "new-hash", "admin", NOW)
    assert (again.id, again.name, again.role, again.banned) == (ann.id, "Ann", Role.ADMIN, False)
    found = await users.user_by_email("ann@example.test")
    assert found is not None and found[1] == "new-hash"


async def test_roles_bans_and_missing_users(users: PgUsers) -> None:
    ann = await new_user(users, "ann")
    assert (await users.set_role(ann.id, Role.ORGANIZER)).role == Role.ORGANIZER
    banned = await users.ban(ann.id, NOW)
    assert banned.banned and (await users.get_user(ann.id)).banned
    for call in (users.get_user(999), users.set_role(999, Role.ADMIN), users.ban(999, NOW)):
        with pytest.raises(NotFound):
            await call


async def test_list_users_filters_and_counts(users: PgUsers) -> None:
    for name in ("ann", "bob", "annette", "carl"):
        await new_user(users, name)
    await users.set_role((await users.user_by_email("carl@example.test"))[0].id,  # type: ignore[index]
                         Role.ADMIN)
    page, total = await users.list_users(0, 1, "ANN", None)
    assert total == 2 and [u.email for u in page] == ["ann@example.test"]
    admins, n = await users.list_users(0, 10, None, Role.ADMIN)
    assert n == 1 and admins[0].email == "carl@example.test"
    _, none = await users.list_users(0, 10, "%", None)  # LIKE wildcards are literal
    assert none == 0


async def test_an_event_is_created_with_its_seats(events: PgEvents) -> None:
    ev = await new_event(events, 12)
    assert (ev.capacity, ev.status, ev.hold_ttl_seconds) == (12, EventStatus.ACTIVE, 600)
    got = await events.get_event(ev.id)
    assert (got.capacity, got.booked_count, got.available_count) == (12, 0, 12)
    seats = await events.list_seats(ev.id)
    assert [s.label for s in seats[:3]] == ["A1", "A2", "A3"] and seats[10].label == "B1"
    assert [s.rank for s in seats] == sorted(s.rank for s in seats)  # best first
    with pytest.raises(NotFound):
        await events.get_event(999_999)


async def test_each_view_source_is_a_new_epoch(events: PgEvents) -> None:
    ev = await new_event(events, 3)
    first, second = await events.view_source(ev.id), await events.view_source(ev.id)
    assert second.epoch == first.epoch + 1
    assert (first.active, first.hold_ttl_ms, first.sold_ids) == (True, 600_000, [])
    assert sorted(s.id for s in first.seats) == sorted(s.id for s in await events.list_seats(
        ev.id))
    with pytest.raises(NotFound):
        await events.view_source(999_999)


async def test_list_events_searches_sorts_and_pages(events: PgEvents) -> None:
    later = await new_event(events, 2, name="Jazz Late", days_ahead=20)
    soon = await new_event(events, 2, name="Jazz Early", days_ahead=5)
    past = await new_event(events, 2, name="Rock", days_ahead=-5)
    found, total = await events.list_events(EventQuery(q="jazz"), NOW)
    assert total == 2 and [e.id for e in found] == [soon.id, later.id]
    upcoming, n = await events.list_events(EventQuery(upcoming_only=True, order="desc"), NOW)
    assert n == 2 and [e.id for e in upcoming] == [later.id, soon.id]
    page, n_all = await events.list_events(EventQuery(offset=1, limit=1), NOW)
    assert n_all == 3 and [e.id for e in page] == [soon.id]
    assert past.start_time < NOW - timedelta(days=1)


async def test_capacity_changes_add_and_remove_free_seats(events: PgEvents) -> None:
    ev = await new_event(events, 10)
    removed = await events.remove_seats(ev.id, 8)
    assert len(removed) == 2
    assert (await events.get_event(ev.id)).capacity == 8
    await events.update_event(ev.id, {"status": "inactive"})
    assert (await events.get_event(ev.id)).status == EventStatus.INACTIVE
    await events.delete_event(ev.id)
    with pytest.raises(NotFound):
        await events.get_event(ev.id)
