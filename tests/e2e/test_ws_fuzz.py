"""A fuzzer for ``/ws`` against a live hub: hypothesis draws frames (known and unknown ops,
fields of every JSON type, huge and negative numbers, long and odd unicode, arrays, deep
nesting, non-JSON text, binary frames, oversize frames) and sends them over real sockets, as
an authenticated user and as an anonymous viewer.

For every frame (CONTRACT §3): exactly one reply (``ok``, ``error`` or ``pong``) comes back,
an ``error`` carries a contract code that is not a server fault (never ``INTERNAL`` or
``UNAVAILABLE``), a frame that is not a JSON object gets ``BAD_REQUEST``, and the session
survives (a ``ping`` sent after it answers ``pong``). An oversize frame is closed with 1009,
as documented. The hub's log must have no traceback. The frame count and the failures are
printed at the end. ``EVENTLY_WS_FUZZ_FRAMES`` sets the number of frames.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support import stores as test_stores
from tests.support.api import PASSWORD
from tests.support.servers import HubProcess
from tests.support.stores import run_sync, set_role

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FRAMES = int(os.environ.get("EVENTLY_WS_FUZZ_FRAMES", "600"))
SEED = int(os.environ.get("EVENTLY_FUZZ_SEED", "20261125"))
LIMIT = 64 * 1024  # CONTRACT §3: 1009 above this
REPLY_TIMEOUT = 10.0
OPS = ["auth", "subscribe", "unsubscribe", "ping", "hold", "extend", "release", "confirm",
       "cancel", "booking.update", "waitlist.join", "waitlist.leave", "analytics.subscribe"]
FIELDS = ["event_id", "seat_ids", "qty", "hold_id", "booking_id", "entry_id", "since", "epoch",
          "seq", "idempotency_key", "guest", "token", "release_seat_ids", "name", "email"]
CONTRACT_CODES = {
    "BAD_REQUEST", "UNAUTHENTICATED", "TOKEN_EXPIRED", "TOKEN_REVOKED", "INVALID_CREDENTIALS",
    "FORBIDDEN", "NOT_FOUND", "SEAT_UNAVAILABLE", "NOT_ENOUGH_SEATS", "SOLD_OUT",
    "HOLD_EXPIRED", "EVENT_INACTIVE", "CAPACITY_BELOW_SOLD", "EVENT_HAS_BOOKINGS",
    "IDEMPOTENCY_KEY_IN_USE", "ALREADY_EXISTS", "SEATS_AVAILABLE", "PAYLOAD_TOO_LARGE",
    "VALIDATION_ERROR", "IDEMPOTENCY_KEY_REUSED", "RATE_LIMITED", "HOLD_LIMIT"}
REPLY_TYPES = {"ok", "error", "pong"}
EDGE_INTS = [0, -1, -5, 1, 2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -2**63, -2**63 - 1,
             2**64 - 1, 2**64, 2**70, -2**70, 10**30]

BIG_IDS = [2**31 - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1]

# -- strategies ---------------------------------------------------------------------------------

surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
texts = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=200, max_size=4000),
    st.sampled_from(["", "\x00", "a\x00b", "1", "1.abcdefgh", "²", "١٢", "9" * 40, "k" * 300,
                     "9999-12-31T23:59:59-14:00", "null", "[]", "{}"]),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(EDGE_INTS),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([2.0, -0.0, 1e308]),
    texts,
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=6)
                      | st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)),
                                        inner, max_size=5), max_leaves=25)


@dataclass
class Known:
    """Ids of rows that exist, so some frames reach real objects."""

    event_ids: list[int]
    hold_ids: list[str]
    booking_ids: list[int]
    seat_ids: list[int]


OP_FIELDS = {
    "auth": ["token"], "subscribe": ["event_id", "since"], "unsubscribe": ["event_id"],
    "ping": [], "hold": ["event_id", "seat_ids", "qty"], "extend": ["hold_id"],
    "release": ["hold_id"], "confirm": ["hold_id", "idempotency_key", "guest"],
    "cancel": ["booking_id"], "booking.update": ["booking_id", "guest", "release_seat_ids"],
    "waitlist.join": ["event_id", "qty"], "waitlist.leave": ["entry_id"],
    "analytics.subscribe": [],
}


def plausible(name: str, known: Known) -> st.SearchStrategy[Any]:
    """Values of the right type for field ``name``, at and past the edges."""
    real = st.sampled_from(known.event_ids + known.booking_ids)
    past_columns = st.sampled_from(BIG_IDS)  # past int4 / int8, still JSON integers
    ids = st.one_of(real, real, real, past_columns, past_columns, st.sampled_from(EDGE_INTS),
                    st.integers())
    seat_lists = st.lists(st.sampled_from(known.seat_ids) | st.sampled_from(EDGE_INTS),
                          max_size=60)
    return {
        "event_id": ids, "booking_id": ids, "entry_id": ids,
        "seat_ids": seat_lists, "release_seat_ids": seat_lists,
        "qty": st.one_of(st.integers(1, 4), st.integers(-5, 100), st.sampled_from(EDGE_INTS)),
        "hold_id": st.one_of(st.sampled_from(known.hold_ids), st.sampled_from(known.hold_ids),
                             texts),
        "since": st.fixed_dictionaries({"epoch": st.sampled_from(EDGE_INTS) | values,
                                        "seq": st.sampled_from(EDGE_INTS) | values}),
        "guest": st.fixed_dictionaries({"name": texts, "email": texts})
        | st.just({"name": "Guest", "email": "guest@example.test"}),
    }.get(name, texts)


@st.composite
def op_messages(draw: st.DrawFn, known: Known) -> dict[str, Any]:
    """A known op with its fields: each one missing, of any JSON type, or of the right type
    at or past its edges; sometimes with unknown fields besides."""
    op = draw(st.sampled_from(OPS))
    msg: dict[str, Any] = {"op": op}
    for name in OP_FIELDS[op]:
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue
        msg[name] = draw(values if choice == 1 else plausible(name, known))
    if draw(st.integers(0, 4)) == 0:
        msg.update(draw(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8),
                                        values, max_size=3)))
    msg["op"] = op
    msg["ref"] = draw(st.one_of(st.integers(), texts, values))
    return msg


def messages(known: Known) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly well-aimed (:func:`op_messages`), sometimes anything with an ``op``."""
    anything = st.builds(lambda f, o, r: {**f, "op": o, "ref": r},
                         st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), values,
                                         max_size=6),
                         st.sampled_from(OPS).map(str.upper) | values, values)
    return st.one_of(op_messages(known), op_messages(known), op_messages(known), anything)


def _deep(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    if kind == "ref":  # a valid op whose ref is nested too deep to echo as is
        return '{"op": "ping", "ref": ' + "[" * depth + "]" * depth + "}"
    return '{"a":' * depth + "1" + "}" * depth


@dataclass(frozen=True)
class Frame:
    """One frame to send: ``data`` (text or bytes) and what kind of input it is."""

    kind: str
    data: str | bytes

    @property
    def must_fail(self) -> bool:
        """Not a JSON object (or not JSON at all): the reply must be ``BAD_REQUEST``."""
        return self.kind in {"scalar", "garbage", "binary", "deep", "surrogate"}

    def show(self) -> str:
        text = self.data if isinstance(self.data, str) else repr(self.data)
        return f"{self.kind}: {text[:300]}"


def frames(known: Known) -> st.SearchStrategy[Frame]:
    dumps = json.dumps  # stdlib: writes ints past 64 bits and escapes lone surrogates
    return st.one_of(
        messages(known).map(lambda m: Frame("message", dumps(m))),
        messages(known).map(lambda m: Frame("message",  # as binary, raw UTF-8
                                            dumps(m, ensure_ascii=False).encode())),
        st.tuples(texts, surrogates).map(  # a lone surrogate ("\ud800") is not text
            lambda t: Frame("surrogate", dumps({"op": "ping", "ref": t[0] + t[1]}))),
        values.filter(lambda v: not isinstance(v, dict)).map(lambda v: Frame("scalar",
                                                                              dumps(v))),
        st.text(max_size=200).filter(_not_json).map(lambda t: Frame("garbage", t)),
        st.binary(min_size=1, max_size=200).filter(_not_utf8_json).map(
            lambda b: Frame("binary", b)),
        st.tuples(st.integers(256, 1100), st.sampled_from(["list", "dict"])).map(
            lambda d: Frame("deep", _deep(*d))),
        st.integers(256, 400).map(lambda d: Frame("deep-ref", _deep(d, "ref"))),
        st.sampled_from([LIMIT + 1, 3 * LIMIT]).map(
            lambda n: Frame("oversize", '{"op": "ping", "ref": "' + "x" * n + '"}')),
    )


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def _not_utf8_json(data: bytes) -> bool:
    try:
        return _not_json(data.decode())
    except UnicodeDecodeError:
        return True


# -- the live side ------------------------------------------------------------------------------


@dataclass
class Report:
    frames: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    replies: dict[str, int] = field(default_factory=dict)


class Sessions:
    """The two live sockets (a user's and an anonymous one), reopened after a 1009."""

    def __init__(self, ws_url: str, token: str) -> None:
        self.ws_url, self.token = ws_url, token
        self.socks: dict[str, ClientConnection] = {}
        self.pings = itertools.count(1)

    def get(self, who: str) -> ClientConnection:
        if who not in self.socks:
            headers = {"Authorization": f"Bearer {self.token}"} if who == "user" else {}
            self.socks[who] = connect(self.ws_url, additional_headers=headers,
                                      max_size=2**24, open_timeout=10, legacy=True)
        return self.socks[who]

    def drop(self, who: str) -> None:
        sock = self.socks.pop(who, None)
        if sock is not None:
            sock.close()

    def close(self) -> None:
        for who in list(self.socks):
            self.drop(who)


def _messages(raw: str | bytes) -> list[dict[str, Any]]:
    data = json.loads(raw)
    return data if isinstance(data, list) else [data]


def exchange(sessions: Sessions, who: str, frame: Frame, report: Report) -> str | None:
    """Send ``frame`` then a ping; return what is wrong, or None."""
    sock = sessions.get(who)
    sentinel = f"sentinel-{next(sessions.pings)}"
    try:
        sock.send(frame.data)
        if frame.kind == "oversize":
            try:
                while True:
                    sock.recv(timeout=REPLY_TIMEOUT)
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                sessions.drop(who)
                return None if code == 1009 else f"closed with {code}, not 1009"
        sock.send(json.dumps({"op": "ping", "ref": sentinel}))
        replies: list[dict[str, Any]] = []
        while True:
            for msg in _messages(sock.recv(timeout=REPLY_TIMEOUT)):
                if msg.get("type") == "pong" and msg.get("ref") == sentinel:
                    for r in replies:
                        key = str(r.get("code", r["type"]))
                        report.replies[key] = report.replies.get(key, 0) + 1
                    return _judge(frame, replies)
                if msg.get("type") in REPLY_TYPES:
                    replies.append(msg)
    except ConnectionClosed as closed:
        sessions.drop(who)
        return f"session closed ({closed.rcvd.code if closed.rcvd else None})"
    except TimeoutError:
        sessions.drop(who)
        return "no pong within the timeout"


def _judge(frame: Frame, replies: list[dict[str, Any]]) -> str | None:
    if len(replies) != 1:
        return f"{len(replies)} replies: {str(replies)[:300]}"
    reply = replies[0]
    if reply["type"] == "error":
        if reply.get("code") not in CONTRACT_CODES:
            return f"error code {reply.get('code')!r}: {reply.get('message')}"
        if frame.must_fail and reply["code"] != "BAD_REQUEST":
            return f"{reply['code']} for a frame that is not a JSON object"
    elif frame.must_fail:
        return f"{reply['type']} reply for a frame that is not a JSON object"
    return None


#: The frames issue 10 found answered with a server fault; always among the frames sent.
ISSUE_FRAMES = [
    {"op": "subscribe", "event_id": 2**63}, {"op": "hold", "event_id": 2**63, "qty": 1},
    {"op": "cancel", "booking_id": 2**63}, {"op": "waitlist.join", "event_id": 2**63, "qty": 1},
    {"op": "waitlist.leave", "entry_id": 2**63}, {"op": "subscribe", "event_id": 2**31},
    {"op": "subscribe", "event_id": 1, "since": {"epoch": 1, "seq": -5}},
    {"op": "subscribe", "event_id": 1, "since": {"epoch": 2**63, "seq": 2**64 - 1}},
    {"op": "confirm", "hold_id": "1.abcdefghijkl", "idempotency_key": "k" * 300},
    {"op": "confirm", "hold_id": "1.abcdefghijkl", "idempotency_key": "k\x00"},
    {"op": "extend", "hold_id": "1\x00.abcdefghijkl"},
    {"op": "release", "hold_id": "².abcdefghijkl"},
    {"op": "hold", "event_id": 1, "qty": 2.0}, {"op": "auth", "token": "\x00"},
]


def _issue_examples(test: Any) -> Any:
    for msg in ISSUE_FRAMES:
        test = example(frame=Frame("message", json.dumps({**msg, "ref": "issue-10"})),
                       who="user")(test)
    return test


# -- fixtures and tests -------------------------------------------------------------------------


def _token(url: str, email: str) -> str:
    r = httpx.post(url + "/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def seeded(fuzz_hub: HubProcess, stores: test_stores.TestStores) -> tuple[str, Known]:
    """A user's token, and an event (plus a small one) with a hold and a booking in it."""
    url = fuzz_hub.url
    for email in ("ws-admin@example.test", "ws-user@example.test"):
        r = httpx.post(url + "/auth/signup", json={"name": "WS Fuzz", "email": email,
                                                   "password": PASSWORD})
        assert r.status_code == 201, r.text
        if email.startswith("ws-admin"):
            run_sync(set_role(stores, int(r.json()["id"]), "admin"))
    admin = {"Authorization": f"Bearer {_token(url, 'ws-admin@example.test')}"}
    user_token = _token(url, "ws-user@example.test")
    user = {"Authorization": f"Bearer {user_token}"}
    start = datetime.now(UTC) + timedelta(days=30)
    event_ids = []
    for capacity in (60, 2):
        r = httpx.post(url + "/admin/events", headers=admin, json={
            "name": "WS Fuzz", "venue": "Hall", "start_time": start.isoformat(),
            "end_time": (start + timedelta(hours=2)).isoformat(), "capacity": capacity})
        assert r.status_code == 201, r.text
        event_ids.append(int(r.json()["id"]))
    seats = httpx.get(f"{url}/events/{event_ids[0]}/seats").json()["seats"]
    r = httpx.post(f"{url}/events/{event_ids[0]}/book", headers=user, json={"qty": 2})
    assert r.status_code == 201, r.text
    booking_id = int(r.json()["id"])
    r = httpx.post(f"{url}/events/{event_ids[0]}/holds", headers=user, json={"qty": 2})
    assert r.status_code == 201, r.text
    return user_token, Known(event_ids, [r.json()["hold_id"]], [booking_id],
                             [s["id"] for s in seats])


def test_every_bad_frame_gets_an_error_and_the_session_lives(
        fuzz_hub: HubProcess, seeded: tuple[str, Known],
        capsys: pytest.CaptureFixture[str]) -> None:
    token, known = seeded
    sessions = Sessions(fuzz_hub.ws_url, token)
    report = Report()

    @seed(SEED)
    @_issue_examples
    @settings(max_examples=FRAMES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(frame=frames(known), who=st.sampled_from(["user", "user", "anonymous"]))
    def fuzz(frame: Frame, who: str) -> None:
        report.frames += 1
        report.by_kind[frame.kind] = report.by_kind.get(frame.kind, 0) + 1
        problem = exchange(sessions, who, frame, report)
        if problem is not None:
            report.failures.append(f"[{who}] {problem} <- {frame.show()}")

    try:
        fuzz()
    finally:
        sessions.close()
    with capsys.disabled():
        print(f"\nws fuzz: {report.frames} frames, {len(report.failures)} failures; "
              f"by kind {dict(sorted(report.by_kind.items()))}; "
              f"replies {dict(sorted(report.replies.items()))}")
        for failure in report.failures[:30]:
            print("  " + failure)
    assert report.frames >= FRAMES // 2
    assert not report.failures
    log = fuzz_hub.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[log.index("Traceback") - 1000:][:6000]
