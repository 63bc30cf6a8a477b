"""``evently demo``: a realistic sample to click through.

* The Grand Theatre (Stalls 20×50, Circle 12×50, Balcony 10×40 = 2,000 seats): two evenings.
* Blue Note Jazz Night (120 seats), a Sunday workshop (30 seats).
* Comedy Cellar (60 seats), nearly sold out, with people on its waitlist.

Accounts (password ``demo-pass-1``): admin@demo.evently (admin), organizer@demo.evently
(organizer), alice@… bob@… carol@… dave@… (users). Loading twice changes nothing.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hub.model import Role
from hub.ports import ConfirmCommand, NewEvent
from hub.seatmap import SeatSpec, Section, seats_for_capacity, seats_for_map
from storage.bookings import PgBookings
from storage.db import Database
from storage.events import PgEvents
from storage.migrate import upgrade
from storage.models import EventRow, WaitlistRow
from storage.settings import Settings
from storage.users import PgUsers

__all__ = ["DEMO_PASSWORD", "load_demo"]

DEMO_PASSWORD = "demo-pass-1"
THEATRE = "The Grand Theatre: Hamlet"


async def load_demo(settings: Settings) -> str:
    """Load the sample unless it is there; returns a summary to print."""
    import asyncio

    import bcrypt

    assert settings.database_url
    await asyncio.to_thread(upgrade, settings.database_url)
    db = Database.from_settings(settings, 2)
    users_store, events_store, bookings_store = PgUsers(db), PgEvents(db), PgBookings(db)
    now = datetime.now(UTC)
    try:
        async with db.transaction() as s:
            if await s.scalar(select(EventRow.id).where(EventRow.name == THEATRE)):
                return "evently demo: already loaded"
        hashed = (await asyncio.to_thread(bcrypt.hashpw, DEMO_PASSWORD.encode(),
                                          bcrypt.gensalt(settings.bcrypt_rounds))).decode()
        users = {}
        for name, role in [("admin", Role.ADMIN), ("organizer", Role.ORGANIZER),
                           ("alice", Role.USER), ("bob", Role.USER), ("carol", Role.USER),
                           ("dave", Role.USER)]:
            users[name] = await users_store.upsert_user(
                name.title(), f"{name}@demo.evently", hashed, role, now)
        org = users["organizer"].id
        day = (now + timedelta(days=7)).replace(hour=19, minute=30, second=0, microsecond=0)

        def new(name: str, venue: str, start: datetime, seats: list[SeatSpec],
                hours: int = 3) -> NewEvent:
            return NewEvent(name=name, venue=venue, start_time=start,
                            end_time=start + timedelta(hours=hours),
                            hold_ttl_seconds=settings.hold_ttl_seconds,
                            waitlist_offer_seconds=settings.waitlist_offer_seconds,
                            auto_promote=False, organizer_id=org, seats=seats, now=now)

        theatre = [Section("Stalls", 20, 50), Section("Circle", 12, 50),
                   Section("Balcony", 10, 40)]
        events = [
            await events_store.create_event(new(THEATRE, "The Grand Theatre", day,
                                         list(seats_for_map(theatre)))),
            await events_store.create_event(new("The Grand Theatre: Macbeth", "The Grand Theatre",
                                         day + timedelta(days=1), list(seats_for_map(theatre)))),
            await events_store.create_event(new("Blue Note Jazz Night", "Blue Note",
                                         day + timedelta(days=2),
                                         list(seats_for_capacity(120)))),
            await events_store.create_event(new("Sourdough Workshop", "Community Kitchen",
                                         day + timedelta(days=3, hours=-8),
                                         list(seats_for_capacity(30)), hours=4)),
        ]
        comedy = await events_store.create_event(new("Comedy Cellar: Late Show", "Comedy Cellar",
                                              day + timedelta(days=1, hours=3),
                                              list(seats_for_capacity(60)), hours=2))
        seats = await events_store.list_seats(comedy.id)
        buyers = [users["alice"], users["bob"], users["carol"]]
        for i in range(0, 58, 2):
            await bookings_store.confirm(ConfirmCommand(
                event_id=comedy.id, user_id=buyers[(i // 2) % 3].id,
                hold_id=f"demo.{secrets.token_urlsafe(6)}",
                seat_ids=[seats[i].id, seats[i + 1].id], fence=0, now=now))
        theatre_seats = await events_store.list_seats(events[0].id)
        for i in range(0, 300, 4):  # a scattering of sales in the stalls
            await bookings_store.confirm(ConfirmCommand(
                event_id=events[0].id, user_id=buyers[i % 3].id,
                hold_id=f"demo.{secrets.token_urlsafe(6)}",
                seat_ids=[theatre_seats[i].id, theatre_seats[i + 1].id], fence=0, now=now))
        async with db.transaction() as s:
            s.add(WaitlistRow(event_id=comedy.id, user_id=users["dave"].id, qty=2,
                              status="WAITING", created_at=now, updated_at=now))
            s.add(WaitlistRow(event_id=comedy.id, user_id=users["carol"].id, qty=4,
                              status="WAITING", created_at=now + timedelta(seconds=1),
                              updated_at=now))
        names = ", ".join(f"#{e.id} {e.name}" for e in [*events, comedy])
        return (f"evently demo: loaded {names}.\n"
                f"Sign in as admin@demo.evently, organizer@demo.evently or "
                f"alice@demo.evently with password {DEMO_PASSWORD}.")
    finally:
        await db.close()
