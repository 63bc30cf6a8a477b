"""A real PostgreSQL topology for the ``pgscale`` tests: a primary, a streaming replica made by
``pg_basebackup``, and PgBouncer in transaction pooling mode in front of both, every server on
free local ports in its own temporary folder, stopped by :meth:`PgTopology.stop`.

The binaries are the machine's PostgreSQL 15 (``PG_BINDIR``, default
``/usr/lib/postgresql/15/bin``) and Debian's ``pgbouncer``. PostgreSQL refuses to run as root,
so as root every server runs as the ``postgres`` user (``runuser``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import free_port

__all__ = ["PG_BINDIR", "PgTopology", "missing_tools", "start_topology"]

PG_BINDIR = Path(os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin"))
DATABASE = "evently_pgscale"
REPLICA_ALIAS = "evently_pgscale_ro"  # the PgBouncer database name that leads to the replica


def missing_tools() -> str | None:
    """What is missing to start the topology (None: nothing)."""
    for tool in ("initdb", "pg_ctl", "pg_basebackup"):
        if not (PG_BINDIR / tool).exists():
            return f"{PG_BINDIR / tool} (PostgreSQL server binaries)"
    if shutil.which("pgbouncer") is None:
        return "pgbouncer (apt-get install pgbouncer)"
    return None


def _as_pg() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run(*cmd: str | Path) -> None:
    subprocess.run([*_as_pg(), *map(str, cmd)], check=True, capture_output=True, timeout=120)


@dataclass
class PgTopology:
    """Running servers. URLs are plain ``postgresql://`` ones naming :data:`DATABASE`.

    Attributes:
        primary_url, replica_url: direct to each PostgreSQL.
        bouncer_url, bouncer_replica_url: through PgBouncer (transaction pooling) to each.
        pool_size: PgBouncer's ``default_pool_size``: server connections per database.
    """

    root: Path
    primary_port: int
    replica_port: int
    bouncer_port: int
    pool_size: int
    _bouncer: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def _url(self, port: int, name: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{name}"

    @property
    def primary_url(self) -> str:
        return self._url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self._url(self.replica_port)

    @property
    def bouncer_url(self) -> str:
        return self._url(self.bouncer_port)

    @property
    def bouncer_replica_url(self) -> str:
        return self._url(self.bouncer_port, REPLICA_ALIAS)

    def stop(self) -> None:
        """Stop PgBouncer, the replica, the primary; remove the folder. Never raises."""
        if self._bouncer is not None and self._bouncer.poll() is None:
            self._bouncer.terminate()
            try:
                self._bouncer.wait(10)
            except subprocess.TimeoutExpired:
                self._bouncer.kill()
        for name in ("replica", "primary"):
            if (self.root / name / "postmaster.pid").exists():
                subprocess.run([*_as_pg(), str(PG_BINDIR / "pg_ctl"), "-D",
                                str(self.root / name), "-m", "immediate", "-w", "stop"],
                               capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def _start_pg(topo: PgTopology, name: str, port: int) -> None:
    data = topo.root / name
    _run(PG_BINDIR / "pg_ctl", "-D", data, "-w", "-t", "60", "-l", topo.root / f"{name}.log",
         "-o", f"-p {port} -k {topo.root} -c listen_addresses=127.0.0.1", "start")


def _bouncer_ini(topo: PgTopology) -> Path:
    ini = topo.root / "pgbouncer.ini"
    (topo.root / "userlist.txt").write_text('"postgres" ""\n')
    ini.write_text(f"""[databases]
{DATABASE} = host=127.0.0.1 port={topo.primary_port} dbname={DATABASE}
{REPLICA_ALIAS} = host=127.0.0.1 port={topo.replica_port} dbname={DATABASE}
postgres = host=127.0.0.1 port={topo.primary_port} dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {topo.bouncer_port}
unix_socket_dir =
auth_type = trust
auth_file = {topo.root}/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = {topo.pool_size}
max_client_conn = 2000
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = {topo.root}/pgbouncer.log
pidfile = {topo.root}/pgbouncer.pid
""")
    return ini


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not listening on {port} after 30s")


def start_topology(pool_size: int = 8) -> PgTopology:
    """Start primary, replica (``pg_basebackup -R``, hot standby) and PgBouncer, and create
    :data:`DATABASE` on the primary (it reaches the replica by replication).

    Raises: RuntimeError or subprocess.CalledProcessError when a server cannot start.
    """
    root = Path(tempfile.mkdtemp(prefix="evently-pgscale-"))
    topo = PgTopology(root, free_port(), free_port(), free_port(), pool_size)
    try:
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        _run(PG_BINDIR / "initdb", "-D", root / "primary", "-U", "postgres", "--auth=trust",
             "--no-sync", "-E", "UTF8", "--locale=C")
        with open(root / "primary" / "postgresql.conf", "a") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
                       "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                       "max_connections = 200\nshared_buffers = 32MB\n")
        _start_pg(topo, "primary", topo.primary_port)
        _run(PG_BINDIR / "psql", "-h", "127.0.0.1", "-p", str(topo.primary_port), "-U",
             "postgres", "-qc", f'CREATE DATABASE "{DATABASE}"', "postgres")
        _run(PG_BINDIR / "pg_basebackup", "-h", "127.0.0.1", "-p", str(topo.primary_port),
             "-U", "postgres", "-D", root / "replica", "-R", "-X", "stream", "--no-sync",
             "--checkpoint=fast")
        _start_pg(topo, "replica", topo.replica_port)
        ini = _bouncer_ini(topo)
        if os.geteuid() == 0:
            for p in root.iterdir():
                if p.is_file():
                    shutil.chown(p, "postgres", "postgres")
        log = open(root / "pgbouncer.out", "ab")  # closed just below: the child keeps its own
        topo._bouncer = subprocess.Popen([*_as_pg(), "pgbouncer", str(ini)], stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        _wait_port(topo.bouncer_port, topo._bouncer, "pgbouncer")
    except BaseException:
        topo.stop()
        raise
    return topo
