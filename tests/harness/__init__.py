"""Real servers on loopback for tests, demos and benches.

`dovecot.Dovecot` (IMAP), `postgres.Postgres` (PostgreSQL 15) and
`smtpsink.SmtpSink` (aiosmtpd) each start with `.start()` or `with`, and stop
with `.stop()`. `fixtures` wraps them for pytest. This module holds what they
share: picking a free port, making a work dir, and dropping root for servers
that refuse to run as root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import tempfile
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_root() -> bool:
    return os.geteuid() == 0


def make_workdir(prefix: str, owner: str | None = None) -> str:
    """A fresh short-path temp dir (unix sockets allow ~108 chars), owned by
    `owner` when running as root."""
    path = tempfile.mkdtemp(prefix=prefix)
    if owner is not None and is_root():
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def run_as(user: str) -> dict[str, Any]:
    """`subprocess.Popen` keyword arguments that run the child as `user`
    (with its primary group only) when we are root, and as ourselves otherwise."""
    if not is_root():
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def server_env() -> dict[str, str]:
    """The environment for a server we test against: ours without a shifted clock (libfaketime,
    which `make test-future` puts on our code), since the real servers keep real time."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}


def remove_tree(path: str | None) -> None:
    if path:
        shutil.rmtree(path, ignore_errors=True)
