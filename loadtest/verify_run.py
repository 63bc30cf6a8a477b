"""Post-run verifier: proves a load test oversold nothing and every client ended with the true map.

Usage (after a Locust run; DATABASE_URL/REDIS_URL as for the hubs)::

    uv run python -m loadtest.verify_run --host http://127.0.0.1:8401 [--event ID]

Checks, each a violation when it fails (exit status 1; 0 when clean, 2 on bad usage):

1. ``evently verify --event ID`` (subprocess) exits 0 — every DESIGN.md invariant holds in
   PostgreSQL and Redis.
2. Server bookings (``GET /admin/bookings?event_id=`` as the admin, else every prepared user's
   ``GET /me/bookings``): no seat is in two CONFIRMED bookings; the ``sold`` seats of
   ``GET /events/{id}/seats`` are exactly the seats of CONFIRMED bookings; no more seats are sold
   than the event has.
3. Client ledger (``loadtest.ledger``): every booking a client was told is confirmed exists exactly
   once on the server, CONFIRMED, for the same event and seats; no seat was confirmed to two
   clients.
4. Every WebSocket client's final seat map equals ``GET /events/{id}/seats`` seat for seat.

Prints a summary and writes it as JSON to ``LT_OUT_DIR/verify.json``::

    {"event_id": int, "ok": bool, "violations": [str], "stats": {name: number}}
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import httpx
import orjson

from loadtest.accounts import TokenFile, read_token_file
from loadtest.config import load_settings
from loadtest.ledger import read_ledger

__all__ = ["main", "verify"]

MAX_LISTED = 20  # violations of one kind printed before summarising the rest


class Report:
    def __init__(self) -> None:
        self.violations: list[str] = []
        self.stats: dict[str, Any] = {}
        self._per_kind: Counter[str] = Counter()

    def violation(self, kind: str, text: str) -> None:
        self._per_kind[kind] += 1
        if self._per_kind[kind] <= MAX_LISTED:
            self.violations.append(f"[{kind}] {text}")
        elif self._per_kind[kind] == MAX_LISTED + 1:
            self.violations.append(f"[{kind}] … more of this kind (see stats)")
        self.stats[f"violations.{kind}"] = self._per_kind[kind]


def run_cli_verify(cmd: str, event_id: int, report: Report) -> None:
    argv = [*shlex.split(cmd), "verify", "--event", str(event_id)]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    report.stats["cli_verify_seconds"] = round(time.perf_counter() - t0, 2)
    report.stats["cli_verify_exit"] = proc.returncode
    output = (proc.stdout + proc.stderr).strip()
    if output:
        print(f"--- {' '.join(argv)}\n{output}\n---")
    if proc.returncode != 0:
        report.violation("cli", f"`{' '.join(argv)}` exited {proc.returncode}")


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return body
    return list(body.get("items", []))


def fetch_bookings_admin(
    client: httpx.Client, tokens: TokenFile, event_id: int
) -> list[dict[str, Any]] | None:
    """All bookings of the event via ``GET /admin/bookings``; None when not allowed/available."""
    if tokens.admin is None:
        return None
    headers = tokens.admin.auth_header
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        r = client.get(
            "/admin/bookings",
            params={"event_id": event_id, "page": page, "page_size": 100},
            headers=headers,
        )
        if r.status_code != 200:
            print(f"verify: /admin/bookings → {r.status_code}; falling back to /me/bookings")
            return None
        body = r.json()
        items = _items(body)
        out.extend(items)
        total = body.get("total") if isinstance(body, dict) else None
        if not items or isinstance(body, list) or (total is not None and len(out) >= total):
            break
        page += 1
        if page > 10_000:
            break
    return [b for b in out if int(b.get("event_id", event_id)) == event_id]


def fetch_bookings_per_user(
    client: httpx.Client, tokens: TokenFile, event_id: int
) -> list[dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for account in tokens.users:
        r = client.get("/me/bookings", headers=account.auth_header)
        r.raise_for_status()
        for booking in _items(r.json()):
            if int(booking.get("event_id", -1)) == event_id:
                out[int(booking["id"])] = booking
    return list(out.values())


def check_server_bookings(
    bookings: list[dict[str, Any]], seats: dict[int, str], report: Report
) -> dict[int, dict[str, Any]]:
    """Checks 2; returns bookings by id."""
    by_id: dict[int, dict[str, Any]] = {}
    owner: dict[int, int] = {}
    for booking in bookings:
        bid = int(booking["id"])
        if bid in by_id:
            report.violation("server-duplicate", f"booking {bid} listed twice")
        by_id[bid] = booking
        if booking.get("status") != "CONFIRMED":
            continue
        for seat_id in booking.get("seat_ids", []):
            if seat_id in owner and owner[seat_id] != bid:
                report.violation(
                    "oversell", f"seat {seat_id} in CONFIRMED bookings {owner[seat_id]} and {bid}"
                )
            owner[int(seat_id)] = bid
    sold = {sid for sid, st in seats.items() if st == "sold"}
    if sold != set(owner):
        report.violation(
            "sold-mismatch",
            f"seat map says {len(sold)} sold, CONFIRMED bookings hold {len(owner)} seats "
            f"(only in map: {sorted(sold - set(owner))[:10]}, "
            f"only in bookings: {sorted(set(owner) - sold)[:10]})",
        )
    if len(owner) > len(seats):
        report.violation("oversell", f"{len(owner)} seats sold of {len(seats)}")
    report.stats["server_bookings"] = len(by_id)
    report.stats["server_confirmed_bookings"] = sum(
        1 for b in by_id.values() if b.get("status") == "CONFIRMED"
    )
    report.stats["server_seats_sold"] = len(owner)
    return by_id


def check_ledger(
    records: list[dict[str, Any]],
    by_id: dict[int, dict[str, Any]],
    event_id: int,
    report: Report,
) -> None:
    """Checks 3."""
    cancelled = {int(r["booking_id"]) for r in records if r["kind"] == "cancelled"}
    told: Counter[int] = Counter()
    first_told: dict[int, list[int]] = {}
    seat_owner: dict[int, int] = {}
    via: Counter[str] = Counter()
    for rec in records:
        if rec["kind"] != "confirmed" or int(rec.get("event_id", event_id)) != event_id:
            continue
        if rec.get("booking_id") is None:
            report.violation("ledger", f"a confirmation without a booking id: {rec}")
            continue
        bid = int(rec["booking_id"])
        told[bid] += 1
        via[rec.get("via", "?")] += 1
        seats_told = sorted(rec.get("seat_ids", []))
        if told[bid] > 1:
            # An idempotent retry may repeat a booking, but never with other seats.
            if seats_told != first_told[bid]:
                report.violation(
                    "seat-mismatch",
                    f"booking {bid} confirmed to clients with seats {first_told[bid]} "
                    f"and {seats_told}",
                )
            continue
        first_told[bid] = seats_told
        server = by_id.get(bid)
        if server is None:
            report.violation("lost-booking", f"booking {bid} ({rec.get('email')}) not on server")
            continue
        if bid not in cancelled and server.get("status") != "CONFIRMED":
            report.violation("lost-booking", f"booking {bid} is {server.get('status')} on server")
        if sorted(server.get("seat_ids", [])) != sorted(rec.get("seat_ids", [])):
            report.violation(
                "seat-mismatch",
                f"booking {bid}: client told {sorted(rec.get('seat_ids', []))}, "
                f"server has {sorted(server.get('seat_ids', []))}",
            )
        if bid in cancelled:
            continue
        for seat_id in rec.get("seat_ids", []):
            if seat_id in seat_owner and seat_owner[seat_id] != bid:
                report.violation(
                    "double-confirm",
                    f"seat {seat_id} confirmed to clients in bookings {seat_owner[seat_id]} "
                    f"and {bid}",
                )
            seat_owner[int(seat_id)] = bid
    report.stats["ledger_confirmations"] = sum(told.values())
    report.stats["ledger_bookings"] = len(told)
    report.stats["ledger_seats"] = len(seat_owner)
    for name, count in via.items():
        report.stats[f"ledger_via_{name}"] = count


def check_maps(
    records: list[dict[str, Any]], seats: dict[int, str], epoch: Any, seq: Any, report: Report
) -> None:
    """Checks 4."""
    maps = [r for r in records if r["kind"] == "map"]
    lag_seq = 0
    gaps = resyncs = 0
    for rec in maps:
        client_seats = {int(k): v for k, v in rec["seats"].items()}
        gaps += int(rec.get("gaps", 0))
        resyncs += int(rec.get("resyncs", 0))
        diff = [
            sid
            for sid in seats.keys() | client_seats.keys()
            if seats.get(sid) != client_seats.get(sid)
        ]
        if rec.get("seq") != seq or rec.get("epoch") != epoch:
            lag_seq += 1
        if diff:
            sample = ", ".join(
                f"{sid}: client {client_seats.get(sid)} server {seats.get(sid)}"
                for sid in sorted(diff)[:5]
            )
            report.violation(
                "map",
                f"client {rec.get('client')} (seq {rec.get('seq')} vs server {seq}) differs on "
                f"{len(diff)} seats: {sample}",
            )
    report.stats["client_maps"] = len(maps)
    report.stats["client_maps_other_seq"] = lag_seq
    report.stats["client_gaps"] = gaps
    report.stats["client_resyncs"] = resyncs


def verify(args: argparse.Namespace) -> Report:
    settings = load_settings()
    report = Report()
    event_id = args.event if args.event is not None else settings.resolve_event_id()
    report.stats["event_id"] = event_id
    tokens = read_token_file(settings.tokens_file)

    if not args.skip_cli:
        run_cli_verify(args.evently_cmd, event_id, report)

    with httpx.Client(base_url=args.host, timeout=60.0) as client:
        r = client.get(f"/events/{event_id}/seats")
        r.raise_for_status()
        seat_body = r.json()
        seats = {int(s["id"]): s["status"] for s in seat_body["seats"]}
        event = client.get(f"/events/{event_id}").json()
        counts = Counter(seats.values())
        report.stats.update(
            {f"seats_{k}": v for k, v in sorted(counts.items())} | {"seats": len(seats)}
        )
        if args.expect_sold_out and counts.get("sold", 0) != len(seats):
            report.violation("not-sold-out", f"{counts.get('sold', 0)} of {len(seats)} sold")
        booked = event.get("booked_count")
        if booked is not None and booked != counts.get("sold", 0):
            report.violation(
                "counts", f"event booked_count {booked} != {counts.get('sold', 0)} sold seats"
            )

        bookings = fetch_bookings_admin(client, tokens, event_id)
        report.stats["bookings_source"] = "admin"
        if bookings is None:
            bookings = fetch_bookings_per_user(client, tokens, event_id)
            report.stats["bookings_source"] = "me"
    by_id = check_server_bookings(bookings, seats, report)

    records = list(read_ledger(settings.ledger_dir))
    if not records:
        report.violation("ledger", f"no ledger records in {settings.ledger_dir}")
    check_ledger(records, by_id, event_id, report)
    check_maps(
        [r for r in records if int(r.get("event_id", event_id)) == event_id],
        seats,
        seat_body.get("epoch"),
        seat_body.get("seq"),
        report,
    )
    if args.min_maps and report.stats.get("client_maps", 0) < args.min_maps:
        report.violation("map", f"only {report.stats.get('client_maps', 0)} client maps recorded")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", required=True, help="base URL of any hub")
    parser.add_argument("--event", type=int, help="event id (default: LT_EVENT_ID / event file)")
    parser.add_argument(
        "--evently-cmd", default="uv run evently", help="how to call the CLI (default: %(default)s)"
    )
    parser.add_argument("--skip-cli", action="store_true", help="skip `evently verify`")
    parser.add_argument(
        "--expect-sold-out", action="store_true", help="also require every seat sold"
    )
    parser.add_argument(
        "--min-maps", type=int, default=1, help="require at least this many client maps (default 1)"
    )
    args = parser.parse_args(argv)
    args.host = args.host.rstrip("/")
    try:
        report = verify(args)
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"verify: {exc}", file=sys.stderr)
        return 2
    ok = not report.violations
    settings = load_settings()
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    (settings.out_dir / "verify.json").write_bytes(
        orjson.dumps(
            {
                "event_id": report.stats.get("event_id"),
                "ok": ok,
                "violations": report.violations,
                "stats": report.stats,
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    width = max(len(k) for k in report.stats)
    for key, value in report.stats.items():
        print(f"  {key:<{width}}  {value}")
    for line in report.violations:
        print(f"VIOLATION {line}")
    print(
        "verify: OK — no oversell, ledger matches, maps converged"
        if ok
        else f"verify: FAILED with {len(report.violations)} violation(s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
