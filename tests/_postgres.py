"""A throwaway PostgreSQL server for tests: its own cluster in a temporary directory.

``pg_cluster`` (session scope) runs ``initdb`` and ``pg_ctl start`` with the server listening
on a unix socket inside that directory only (no TCP port), and stops it at the end.
``pg_url`` gives each test a fresh, empty database on it. As root the server runs as the
``postgres`` user (``initdb`` refuses root). Without Debian's server binaries
(``apt-get install postgresql``; ``.ci/run`` installs them) or the ``psycopg`` driver the
tests that use these fixtures skip, saying why.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def _bin_dir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: ``SOCIALLOOP_PG_BIN``, the newest
    ``/usr/lib/postgresql/*/bin`` (Debian), or the ``PATH``."""
    env = os.environ.get("SOCIALLOOP_PG_BIN")
    candidates = [Path(env)] if env else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(found).parent)
    for cand in candidates:
        if (cand / "initdb").exists() and (cand / "pg_ctl").exists():
            return cand
    return None


@dataclass(frozen=True)
class PgCluster:
    socket_dir: Path
    port: int
    user: str

    def url(self, database: str) -> str:
        return (
            f"postgresql+psycopg://{self.user}@/{database}?host={self.socket_dir}&port={self.port}"
        )


def _runner() -> tuple[list[str], str]:
    """The command prefix that runs the server binaries, and the database superuser."""
    if os.geteuid() != 0:
        import getpass

        return [], getpass.getuser()
    if shutil.which("runuser") is None:
        pytest.skip("PostgreSQL tests run as root need `runuser` to start the server as postgres")
    return ["runuser", "-u", "postgres", "--"], "postgres"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    pytest.importorskip("psycopg", reason="PostgreSQL tests need psycopg (extra `postgres`)")
    bindir = _bin_dir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL tests need the server binaries (initdb, pg_ctl): "
            "`apt-get install postgresql`, or set SOCIALLOOP_PG_BIN"
        )
    prefix, user = _runner()
    root = Path(tempfile.mkdtemp(prefix="slpg-"))  # short: a unix socket path is <108 bytes
    data = root / "data"
    log = root / "server.log"
    if prefix:
        shutil.chown(root, user="postgres")
    os.chmod(root, 0o755)
    port = 5432
    try:
        subprocess.run(
            [
                *prefix,
                *(str(bindir / "initdb"), "-D", str(data), "-U", user, "-A", "trust"),
                *("--no-sync", "-E", "UTF8", "--locale=C"),
            ],
            check=True,
            capture_output=True,
        )
        opts = f"-c listen_addresses='' -k {root} -p {port} -c fsync=off"
        subprocess.run(
            [
                *prefix,
                *(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts),
                *("-w", "-t", "60", "start"),
            ],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip()
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"could not start a PostgreSQL test server: {detail}")
    try:
        yield PgCluster(root, port, user)
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def create_database(cluster: PgCluster, prefix: str = "t_", *settings: str) -> str:
    """A fresh, empty database on ``cluster`` (its name starts with ``prefix``; each of
    ``settings``, ``name = value``, becomes its default); returns its URL."""
    import psycopg

    name = prefix + uuid.uuid4().hex[:12]
    with psycopg.connect(
        host=str(cluster.socket_dir),
        port=cluster.port,
        user=cluster.user,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        for setting in settings:
            conn.execute(f'ALTER DATABASE "{name}" SET {setting}')
    return cluster.url(name)


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """A URL to a fresh, empty database on the test server."""
    return create_database(pg_cluster)
