"""Load-test setup: sign up and log in N users (and the admin), optionally create the event.

Run before Locust so that password hashing never shows up in the load figures::

    uv run python -m loadtest.prepare --host http://127.0.0.1:8000 --users 200 \\
        --admin-email admin@example.com --admin-password secret \\
        --create-event --sections Floor:10:10,Lower:10:10,Upper:10:10

Writes ``LT_TOKENS_FILE`` (see ``loadtest.accounts``) and, with ``--create-event``,
``LT_EVENT_FILE`` = ``{"event_id": int, "capacity": int, "host": str}``. Accounts are
``lt-00001@example.com`` … with one shared password. A cached file is reused while its tokens
have ``--min-ttl`` seconds to live, refreshed (``POST /auth/refresh``, no password hashing)
when not, and logged in again only when the refresh fails. Exit status 0 on success, 1 on any
failed account or event.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from loadtest.accounts import Account, TokenFile, read_token_file, write_token_file
from loadtest.config import load_settings

__all__ = ["main", "parse_sections"]

PASSWORD = "loadtest-Passw0rd!"


def parse_sections(spec: str) -> list[dict[str, Any]]:
    """Parse a seat map spec.

    ``"Floor:10:10,Balcony:5:20"`` → ``[{"name": "Floor", "rows": 10, "seats_per_row": 10}, …]``.
    """
    sections = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, rows, per_row = part.split(":")
        sections.append({"name": name, "rows": int(rows), "seats_per_row": int(per_row)})
    return sections


def _account_from_login(email: str, password: str, body: dict[str, Any], now: float) -> Account:
    return Account(
        email=email,
        password=password,
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        expires_at=now + float(body.get("expires_in", 900)),
    )


async def _login(client: httpx.AsyncClient, email: str, password: str) -> Account:
    now = time.time()
    r = await client.post(
        "/auth/login", content=orjson.dumps({"email": email, "password": password})
    )
    if r.status_code != 200:
        raise RuntimeError(f"login {email}: {r.status_code} {r.text[:200]}")
    account = _account_from_login(email, password, r.json(), now)
    me = await client.get("/auth/me", headers=account.auth_header)
    if me.status_code == 200:
        account.user_id = me.json().get("id")
    return account


async def _signup_and_login(client: httpx.AsyncClient, email: str, name: str) -> Account:
    body = {"name": name, "email": email, "password": PASSWORD}
    r = await client.post("/auth/signup", content=orjson.dumps(body))
    # 409 ALREADY_EXISTS: a previous run made this account; logging in is enough.
    if r.status_code not in (200, 201, 409):
        raise RuntimeError(f"signup {email}: {r.status_code} {r.text[:200]}")
    return await _login(client, email, PASSWORD)


async def _refresh(client: httpx.AsyncClient, account: Account) -> Account:
    now = time.time()
    r = await client.post(
        "/auth/refresh", content=orjson.dumps({"refresh_token": account.refresh_token})
    )
    if r.status_code != 200:
        return await _login(client, account.email, account.password)
    fresh = _account_from_login(account.email, account.password, r.json(), now)
    fresh.user_id = account.user_id
    return fresh


async def _ensure_user(
    client: httpx.AsyncClient, i: int, cached: Account | None, min_ttl: float
) -> Account:
    if cached is not None:
        if cached.fresh_for(min_ttl):
            return cached
        return await _refresh(client, cached)
    return await _signup_and_login(client, f"lt-{i:05d}@example.com", f"Load Tester {i}")


async def _create_event(
    client: httpx.AsyncClient, admin: Account, sections: list[dict[str, Any]], name: str
) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(days=30)
    body = {
        "name": name,
        "venue": "Load Test Arena",
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(hours=3)).isoformat(),
        "seat_map": {"sections": sections},
    }
    r = await client.post("/admin/events", content=orjson.dumps(body), headers=admin.auth_header)
    if r.status_code != 201:
        raise RuntimeError(f"create event: {r.status_code} {r.text[:300]}")
    return dict(r.json())


async def prepare(args: argparse.Namespace) -> int:
    settings = load_settings()
    tokens_path = settings.tokens_file
    cached: TokenFile | None = None
    if tokens_path.exists() and not args.fresh:
        cached = read_token_file(tokens_path)

    limits = httpx.Limits(max_connections=args.concurrency)
    headers = {"content-type": "application/json"}
    # Password hashing dominates; with LT_HOSTS it is spread over every hub.
    bases = list(settings.hosts) or [args.host]
    clients = [
        httpx.AsyncClient(base_url=b, limits=limits, timeout=60.0, headers=headers) for b in bases
    ]
    async with contextlib.AsyncExitStack() as stack:
        for c in clients:
            await stack.enter_async_context(c)
        client = clients[0]
        sem = asyncio.Semaphore(args.concurrency)
        cached_users = {u.email: u for u in (cached.users if cached else [])}

        async def one(i: int) -> Account:
            async with sem:
                return await _ensure_user(
                    clients[i % len(clients)],
                    i,
                    cached_users.get(f"lt-{i:05d}@example.com"),
                    args.min_ttl,
                )

        t0 = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(args.users)), return_exceptions=True)
        users = [r for r in results if isinstance(r, Account)]
        errors = [r for r in results if isinstance(r, BaseException)]
        for err in errors[:5]:
            print(f"prepare: {err}", file=sys.stderr)

        admin = cached.admin if cached else None
        if args.admin_email:
            if (
                admin is None
                or admin.email != args.admin_email
                or not admin.fresh_for(args.min_ttl)
            ):
                admin = await _login(client, args.admin_email, args.admin_password)
        write_token_file(tokens_path, TokenFile(args.host, time.time(), admin, users))
        print(
            f"prepare: {len(users)}/{args.users} accounts ready in "
            f"{time.perf_counter() - t0:.1f} s → {tokens_path}"
        )

        if args.create_event:
            if admin is None:
                print(
                    "prepare: --create-event needs --admin-email/--admin-password", file=sys.stderr
                )
                return 1
            event = await _create_event(client, admin, parse_sections(args.sections), args.name)
            settings.event_file.parent.mkdir(parents=True, exist_ok=True)
            settings.event_file.write_bytes(
                orjson.dumps(
                    {"event_id": event["id"], "capacity": event.get("capacity"), "host": args.host}
                )
            )
            print(
                f"prepare: event {event['id']} ({event.get('capacity')} seats) → "
                f"{settings.event_file}"
            )
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--host", required=True, help="base URL of any hub, e.g. http://127.0.0.1:8000"
    )
    parser.add_argument("--users", type=int, default=200, help="accounts to prepare")
    parser.add_argument("--concurrency", type=int, default=8, help="parallel signups/logins")
    # (LT_HOSTS, when set, spreads signups/logins over those hubs; --host creates the event)
    parser.add_argument(
        "--min-ttl",
        type=float,
        default=600.0,
        help="reuse a cached token only with this many seconds left",
    )
    parser.add_argument("--fresh", action="store_true", help="ignore the cached token file")
    parser.add_argument("--admin-email")
    parser.add_argument("--admin-password")
    parser.add_argument("--create-event", action="store_true")
    parser.add_argument(
        "--sections",
        default="Floor:10:10,Lower:10:10,Upper:10:10",
        help="NAME:ROWS:SEATS_PER_ROW,… (default 300 seats)",
    )
    parser.add_argument("--name", default="Flash Sale", help="event name")
    args = parser.parse_args(argv)
    args.host = args.host.rstrip("/")
    try:
        return asyncio.run(prepare(args))
    except (RuntimeError, httpx.HTTPError) as exc:
        print(f"prepare: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
