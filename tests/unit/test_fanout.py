"""The fan-out router's ordering rules, driven without Redis (the channel driver records
what it would subscribe to)."""

import asyncio

import orjson

from hub.fanout import Broadcaster, Outbox, Subscription


class RecordingDriver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    async def subscribe_event(self, event_id: int) -> None:
        self.calls.append(("sub", "event", event_id))

    async def unsubscribe_event(self, event_id: int) -> None:
        self.calls.append(("unsub", "event", event_id))

    async def subscribe_user(self, user_id: int) -> None:
        self.calls.append(("sub", "user", user_id))

    async def unsubscribe_user(self, user_id: int) -> None:
        self.calls.append(("unsub", "user", user_id))


def delta(seq: int, epoch: int = 1, event_id: int = 4) -> bytes:
    return orjson.dumps({"type": "delta", "event_id": event_id, "epoch": epoch, "seq": seq,
                         "changes": [{"seat_id": seq, "status": "held"}]})


def seqs(items: list[str]) -> list[int]:
    return [orjson.loads(t)["seq"] for t in items]


async def test_one_channel_per_event_per_process() -> None:
    driver = RecordingDriver()
    b = Broadcaster(driver)
    subs = [Subscription(4, Outbox(), lambda s: None) for _ in range(3)]
    for s in subs:
        await b.add_subscription(s)
    for s in subs:
        await b.remove_subscription(s)
    assert driver.calls == [("sub", "event", 4), ("unsub", "event", 4)]


async def test_pending_subscription_buffers_then_skips_what_the_snapshot_covers() -> None:
    b = Broadcaster(RecordingDriver())
    box = Outbox()
    sub = Subscription(4, box, lambda s: None)
    await b.add_subscription(sub)
    for seq in (5, 6, 7):
        b.dispatch_event(delta(seq))
    assert len(box) == 0
    assert seqs(sub.activate(1, 6)) == [7]
    b.dispatch_event(delta(8))
    b.dispatch_event(delta(8))  # a duplicate is dropped
    assert seqs(await box.take()) == [8]


async def test_gap_or_new_epoch_asks_for_a_resync() -> None:
    b = Broadcaster(RecordingDriver())
    asked: list[int] = []
    sub = Subscription(4, Outbox(), lambda s: asked.append(s.event_id))
    await b.add_subscription(sub)
    sub.activate(1, 10)
    b.dispatch_event(delta(12))
    assert asked == [4] and sub.pending
    sub.activate(1, 12)
    b.dispatch_event(delta(1, epoch=2))
    assert asked == [4, 4]


async def test_a_full_outbox_overflows_without_blocking_others() -> None:
    b = Broadcaster(RecordingDriver())
    slow, fast = Outbox(limit=2), Outbox(limit=100)
    s1, s2 = Subscription(4, slow, lambda s: None), Subscription(4, fast, lambda s: None)
    for s in (s1, s2):
        await b.add_subscription(s)
        s.activate(1, 0)
    for seq in range(1, 6):
        b.dispatch_event(delta(seq))
    assert slow.overflowed and not fast.overflowed
    assert seqs(await asyncio.wait_for(fast.take(), 1)) == [1, 2, 3, 4, 5]


async def test_a_family_revocation_reaches_only_that_logins_sessions() -> None:
    driver = RecordingDriver()
    b = Broadcaster(driver)
    phone, laptop, legacy = Outbox(), Outbox(), Outbox()
    await b.add_user(7, phone, "fam-a")
    await b.add_user(7, laptop, "fam-b")
    await b.add_user(7, legacy)  # a token without a family
    b.dispatch_user(7, orjson.dumps({"type": "session.revoked", "family": "fam-a"}))
    assert [len(phone), len(laptop), len(legacy)] == [1, 0, 0]
    # Re-authenticating with a token of another login moves the session to that family.
    await b.add_user(7, laptop, "fam-a")
    b.dispatch_user(7, orjson.dumps({"type": "session.revoked", "family": "fam-a"}))
    assert [len(phone), len(laptop), len(legacy)] == [2, 1, 0]
    # A user-wide revocation (ban, role change) and other pushes reach every session.
    b.dispatch_user(7, orjson.dumps({"type": "session.revoked"}))
    b.dispatch_user(7, orjson.dumps({"type": "notification", "text": "session.revoked"}))
    assert [len(phone), len(laptop), len(legacy)] == [4, 3, 2]
    for box in (phone, laptop, legacy):
        await b.remove_user(7, box)
    assert driver.calls == [("sub", "user", 7), ("unsub", "user", 7)]
    assert b.family_of == {}
