"""A throwaway PostgreSQL cluster on loopback, with a database per caller.

    with Postgres() as pg:
        url = pg.create_database()   # postgresql+psycopg://postgres@127.0.0.1:<port>/t_<hex>

The server is the one installed: $UNMENTORING_PG_BINDIR if set, else the newest
/usr/lib/postgresql/<version>/bin (Debian, Ubuntu), else `pg_config --bindir`, else the PATH.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import time
import uuid

import psycopg

from tests.harness import dies_with_parent, free_port, is_root, make_workdir, remove_tree, run_as

BINDIR_VARIABLE = "UNMENTORING_PG_BINDIR"
PROGRAMS = ("initdb", "postgres", "pg_isready")
SUPERUSER = "postgres"
SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


def postgres_available(bindir: str | None = None) -> bool:
    bindir = find_bindir() if bindir is None else bindir
    return bool(bindir) and all(os.access(os.path.join(bindir, name), os.X_OK) for name in PROGRAMS)


def find_bindir() -> str:
    """The directory holding the server's programs (see the module docstring), or "" if none has them all."""
    chosen = os.environ.get(BINDIR_VARIABLE, "").strip()
    if chosen:
        return chosen
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True):
        if postgres_available(bindir):
            return bindir
    for bindir in (_pg_config_bindir(), os.path.dirname(shutil.which("initdb") or "")):
        if bindir and postgres_available(bindir):
            return bindir
    return ""


def _version(bindir: str) -> tuple[int, ...]:
    name = os.path.basename(os.path.dirname(bindir))
    return tuple(int(part) for part in name.split(".")) if name.replace(".", "").isdigit() else (-1,)


def _pg_config_bindir() -> str:
    pg_config = shutil.which("pg_config")
    if not pg_config:
        return ""
    result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def missing_message() -> str:
    return (f"PostgreSQL's initdb, postgres and pg_isready were not found: run `bash scripts/install-test-servers`, "
            f"or set {BINDIR_VARIABLE} to the directory that holds them")


def ensure_system_user(name: str) -> None:
    """Create the unprivileged system user the server runs as (root only)."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
            check=True,
        )


class Postgres:
    """initdb + postgres in a temp dir, listening on 127.0.0.1 and a free port."""

    def __init__(self, bindir: str | None = None, host: str = "127.0.0.1") -> None:
        self.bindir = find_bindir() if bindir is None else bindir
        self.host = host
        self.port = 0
        self.dir: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.os_user = SUPERUSER if is_root() else pwd.getpwuid(os.getuid()).pw_name

    def start(self, timeout: float = 30) -> Postgres:
        if not postgres_available(self.bindir):
            raise FileNotFoundError(missing_message())
        if is_root():
            ensure_system_user(self.os_user)
        self.dir = make_workdir("pg-", owner=self.os_user)
        self.port = free_port(self.host)
        self._run([f"{self.bindir}/initdb", "--no-sync", "--locale=C", "-E", "UTF8",
                   "-A", "trust", "-U", SUPERUSER, "-D", f"{self.dir}/data"])
        self._launch()
        self._wait_ready(timeout)
        return self

    def _run(self, argv: list[str]) -> None:
        result = subprocess.run(argv, capture_output=True, env=self._env(), **run_as(self.os_user))
        if result.returncode != 0:
            self.stop()
            raise RuntimeError(f"{argv[0]} failed:\n{result.stdout.decode()}{result.stderr.decode()}")

    def _env(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": self.dir or "/"}

    def _launch(self) -> None:
        settings = {**SETTINGS, "listen_addresses": self.host, "port": str(self.port),
                    "unix_socket_directories": self.dir}
        argv = [f"{self.bindir}/postgres", "-D", f"{self.dir}/data"]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        with open(f"{self.dir}/postgres.log", "wb") as log:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self._env(),
                start_new_session=True, preexec_fn=dies_with_parent(signal.SIGINT), **run_as(self.os_user),
            )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        probe = [f"{self.bindir}/pg_isready", "-q", "-h", self.host, "-p", str(self.port), "-U", SUPERUSER]
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                break
            if subprocess.run(probe).returncode == 0:
                return
            time.sleep(0.02)
        logs = self._logs()
        self.stop()
        raise RuntimeError(f"PostgreSQL did not start on {self.host}:{self.port}:\n{logs}")

    def _logs(self) -> str:
        try:
            with open(f"{self.dir}/postgres.log", errors="replace") as file:
                return file.read()[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        remove_tree(self.dir)
        self.dir = None

    def url_for(self, dbname: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(host=self.host, port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True)

    def create_database(self) -> str:
        """The URL of a brand-new empty database."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by `create_database`, closing its connections."""
        name = url.rsplit("/", 1)[1]
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
