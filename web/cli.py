"""The ``evently`` command line (the README's "Command line"), built with Typer."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer
import uvicorn

from storage.settings import Settings
from web.request_log import configure_logging

__all__ = ["main"]

cli = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Evently Hub: a real-time seat booking hub.")
user_cli = typer.Typer(no_args_is_help=True, help="Manage accounts.")
cli.add_typer(user_cli, name="user")


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """A stop signal arrived (SIGINT from Ctrl-C, SIGTERM from ``kill``, SIGHUP from a closed
    terminal); raised in the main thread so every ``finally`` runs. ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Within the block SIGINT, SIGTERM and SIGHUP all raise :class:`Stopped`; on the way out
    they are ignored (see :func:`ignore_stop_signals`)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_stopped)
    try:
        yield
    finally:
        ignore_stop_signals()


def ignore_stop_signals() -> None:
    """From now on stop signals are ignored: called before the stores stop, so a second
    Ctrl-C (or the copy of it that ``uv run`` forwards) cannot cut that short."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


@contextlib.contextmanager
def stores(settings: Settings, stopped_code: int = 130) -> Iterator[Settings]:
    """Settings with ``DATABASE_URL`` / ``REDIS_URL`` filled in: the configured servers, or the
    embedded ones under ``EVENTLY_DATA_DIR`` (started here, stopped on exit unless another live
    ``evently`` process still uses them). A stop signal ends the command with
    ``stopped_code`` (130 by default; ``serve`` exits 0) after the stores stop."""
    try:
        with stop_signals():
            if settings.database_url and settings.redis_url:
                yield settings
                return
            from storage.embedded import start_embedded

            embedded = start_embedded(settings.evently_data_dir)
            try:
                yield settings.model_copy(update={
                    "database_url": settings.database_url or embedded.database_url,
                    "redis_url": settings.redis_url or embedded.redis_url})
            finally:
                ignore_stop_signals()
                embedded.stop()
    except Stopped as stop:
        typer.echo(f"evently: stopped ({signal.Signals(stop.signum).name})", err=True)
        raise typer.Exit(stopped_code) from None


@cli.command()
def serve(host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
          workers: Annotated[int | None, typer.Option(
              min=1, envvar="WEB_CONCURRENCY",
              help="Worker processes (default: one per CPU core).")] = None) -> None:
    """Migrate, then serve REST + WebSocket + pages (embedded stores when no URLs are set).

    ``workers``: ``--workers``, else ``WEB_CONCURRENCY``, else ``os.cpu_count()`` — every core,
    since one worker's event loop is the limit of the booking path (docs/benchmarks.md).
    """
    import shutil
    import tempfile

    from storage.migrate import upgrade

    base = Settings()
    # Every worker writes its metrics to files here and /metrics sums them (web/metrics.py),
    # so it is set before any worker imports prometheus_client. Our own dir is
    # <data dir>/metrics/<pid> (dirs of dead pids are pruned), emptied at start and removed
    # at exit; an operator's PROMETHEUS_MULTIPROC_DIR is emptied at start and kept.
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    own_metrics_dir = not metrics_dir
    if own_metrics_dir:
        parent = base.evently_data_dir.absolute() / "metrics"
        try:
            parent.mkdir(parents=True, exist_ok=True)
            for old in parent.iterdir():
                if old.name.isdigit() and old.name != str(os.getpid()):
                    try:
                        os.kill(int(old.name), 0)
                    except ProcessLookupError:
                        shutil.rmtree(old, ignore_errors=True)
                    except OSError:
                        pass
            metrics_dir = str(parent / str(os.getpid()))
        except OSError:
            metrics_dir = tempfile.mkdtemp(prefix="evently-metrics-")
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        with stores(base, stopped_code=0) as settings:
            assert settings.database_url and settings.redis_url
            os.environ["DATABASE_URL"] = settings.database_url
            os.environ["REDIS_URL"] = settings.redis_url
            os.environ["JWT_SECRET"] = settings.secret()
            upgrade(settings.database_url)
            typer.echo(banner(host, port, base, settings,
                              asyncio.run(_event_count(settings))))
            # LOG_FORMAT=json: uvicorn's own lines go through the hub's JSON formatter too.
            extra: dict[str, Any] = {}
            if settings.log_format == "json":
                configure_logging(settings.log_level, "json")
                extra["log_config"] = None
            config = uvicorn.Config(
                "web.app:asgi", factory=True, host=host, port=port,
                workers=workers or os.cpu_count() or 1, **extra,
                ws_max_size=settings.ws_max_message_bytes, log_level=settings.log_level,
                lifespan="on", access_log=False,
                proxy_headers=bool(settings.forwarded_allow_ips),
                forwarded_allow_ips=settings.forwarded_allow_ips or None)
            _run(config)
    finally:
        if own_metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _run(config: uvicorn.Config) -> None:
    """Serve until a stop signal. One worker: uvicorn's server in this process (SIGHUP is
    turned into SIGTERM, which uvicorn handles gracefully and then re-raises, so
    :class:`Stopped` reaches :func:`stores`). Several: uvicorn's supervisor, told to treat
    SIGHUP like SIGTERM instead of restarting the workers."""
    if config.workers > 1:
        from uvicorn.supervisors import Multiprocess

        supervisor = Multiprocess(config, sockets=[config.bind_socket()])
        supervisor.handle_hup = supervisor.handle_term  # type: ignore[method-assign]
        supervisor.run()
        return
    signal.signal(signal.SIGHUP, lambda signum, frame: os.kill(os.getpid(), signal.SIGTERM))
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise typer.Exit(3)


async def _event_count(settings: Settings) -> int:
    """How many events the database lists (the banner suggests ``evently demo`` at 0)."""
    from hub.ports import EventQuery
    from storage.db import Database
    from storage.events import PgEvents
    from web.clock import utcnow

    db = Database.from_settings(settings, 1)
    try:
        _, total = await PgEvents(db).list_events(EventQuery(limit=1), utcnow())
        return total
    finally:
        await db.close()


def _public(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def banner(host: str, port: int, base: Settings, settings: Settings, events: int) -> str:
    """What ``evently serve`` prints once it is about to listen: where to go (picker,
    dashboard, docs), where the data lives, and ``evently demo`` while there are no events."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    root = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"
    if base.database_url and base.redis_url:
        data = (f"PostgreSQL {_public(settings.database_url or '')}, "
                f"Redis {_public(settings.redis_url or '')}")
    else:
        data = (f"{base.evently_data_dir.resolve()} (embedded PostgreSQL in pg/, "
                f"Redis in redis.rdb)")
    lines = [f"evently: serving on {root}",
             f"  seat picker   {root}/",
             f"  dashboard     {root}/admin",
             f"  API docs      {root}/docs  (REST; WebSocket: {root}/docs/ws)",
             f"  data          {data}"]
    if events == 0:
        lines.append("  no events yet: run `uv run evently demo` for a sample "
                     "(admin@demo.evently / demo-pass-1)")
    lines.append("  Ctrl-C stops everything it started.")
    return "\n".join(lines)


@cli.command()
def migrate() -> None:
    """``alembic upgrade head`` against the configured database."""
    from storage.migrate import upgrade

    with stores(Settings()) as settings:
        assert settings.database_url
        upgrade(settings.database_url)
        typer.echo("evently: database is at head")


@user_cli.command("add")
def user_add(email: str,
             password: Annotated[str, typer.Option(help="The account's password.")],
             name: Annotated[str, typer.Option(help="Display name.")] = "",
             role: Annotated[str, typer.Option(help="user, organizer or admin.")] = "user",
             ) -> None:
    """Create an account, or update the role and password of an existing one."""
    from hub.errors import Evently
    from hub.model import Role

    try:
        role_value = Role(role)
    except ValueError:
        typer.echo(f"evently: role must be one of user, organizer, admin (got {role!r})",
                   err=True)
        raise typer.Exit(2) from None

    async def run(settings: Settings) -> None:
        from hub.accounts import AccountService
        from storage.db import Database
        from storage.migrate import upgrade
        from storage.users import PgUsers
        from web.context import utcnow
        from web.security import BcryptHasher

        assert settings.database_url
        await asyncio.to_thread(upgrade, settings.database_url)
        db = Database.from_settings(settings, 1)
        try:
            accounts = AccountService(PgUsers(db), BcryptHasher(settings.bcrypt_rounds))
            user = await accounts.add_or_update(email, password, name, role_value, utcnow())
            typer.echo(f"evently: user {user.id} {user.email} is {user.role}")
        finally:
            await db.close()

    with stores(Settings()) as settings:
        try:
            asyncio.run(run(settings))
        except Evently as err:
            typer.echo(f"evently: {err.code}: {err.message} {err.details or ''}", err=True)
            raise typer.Exit(2) from None


@cli.command()
def demo() -> None:
    """Load a sample: a 2,000-seat theatre and smaller events, one nearly sold out."""
    from storage.demo import load_demo

    with stores(Settings()) as settings:
        summary = asyncio.run(load_demo(settings))
        typer.echo(summary)


@cli.command()
def verify(event: Annotated[int | None, typer.Option("--event", help="Only this event.")] = None,
           repair: Annotated[bool, typer.Option(help="Rebuild wrong views from PostgreSQL.")]
           = False) -> None:
    """Check every invariant of docs/invariants.md; exit 1 on any violation, 0 when clean.

    Both PostgreSQL and Redis are checked; docs/invariants.md explains each invariant.
    """
    from storage.verify import run_verify

    with stores(Settings()) as settings:
        problems = asyncio.run(run_verify(settings, event, repair=repair))
    for p in problems:
        typer.echo(f"VIOLATION: {p}")
    if problems:
        typer.echo(f"evently verify: {len(problems)} violation(s)")
        raise typer.Exit(1)
    typer.echo("evently verify: clean")


def main() -> None:
    """Run the CLI; a setting that fails validation (e.g. a short ``JWT_SECRET``) ends it with
    one clear line and exit status 2, not a traceback."""
    from pydantic import ValidationError

    try:
        cli(prog_name="evently")
    except ValidationError as err:
        for e in err.errors():
            field = ".".join(str(p) for p in e["loc"]).upper() or "settings"
            typer.echo(f"evently: bad setting {field}: {e['msg']}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    sys.exit(main())
