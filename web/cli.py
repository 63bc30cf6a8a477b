"""The ``evently`` command line (CONTRACT.md §1), built with Typer."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Annotated

import typer

from storage.settings import Settings

__all__ = ["main"]

cli = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Evently Hub: a real-time seat booking hub.")
user_cli = typer.Typer(no_args_is_help=True, help="Manage accounts.")
cli.add_typer(user_cli, name="user")


@contextlib.contextmanager
def stores(settings: Settings) -> Iterator[Settings]:
    """Settings with ``DATABASE_URL`` / ``REDIS_URL`` filled in: the configured servers, or the
    embedded ones under ``EVENTLY_DATA_DIR`` (started here, stopped on exit unless a running
    ``evently serve`` still uses them)."""
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
        embedded.stop()


@cli.command()
def serve(host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
          workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1) -> None:
    """Migrate, then serve REST + WebSocket + pages (embedded stores when no URLs are set)."""
    import shutil
    import tempfile

    import uvicorn

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
        with stores(base) as settings:
            assert settings.database_url and settings.redis_url
            os.environ["DATABASE_URL"] = settings.database_url
            os.environ["REDIS_URL"] = settings.redis_url
            os.environ["JWT_SECRET"] = settings.secret()
            upgrade(settings.database_url)
            typer.echo(f"evently: serving on http://{host}:{port} "
                       f"({'embedded' if not base.database_url else 'configured'} stores)")
            uvicorn.run("web.app:asgi", factory=True, host=host, port=port, workers=workers,
                        ws_max_size=settings.ws_max_message_bytes, log_level=settings.log_level,
                        lifespan="on", proxy_headers=True, access_log=False)
    finally:
        if own_metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


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
        db = Database(settings.database_url, 1)
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
    """Check every invariant of DESIGN.md; exit 1 on any violation, 0 when clean."""
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
    cli(prog_name="evently")


if __name__ == "__main__":
    sys.exit(main())
