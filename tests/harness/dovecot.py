"""A throwaway Dovecot IMAP server on loopback, and accounts on it.

Any user name logs in with `Dovecot.password` and starts with an empty
mailbox, so a fresh name per test needs no setup or cleanup:

    with Dovecot() as server:
        account = server.account()
        account.deliver(b"Subject: hi\\r\\n\\r\\nbody\\r\\n")

Optional modes: `tls=True` (STARTTLS and implicit TLS, with a throwaway CA),
`capabilities=` (what is advertised after login), `rawlog=True` (the commands
each user sent, for `Dovecot.commands`).
"""

from __future__ import annotations

import glob
import grp
import os
import pwd
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from imapclient import IMAPClient

from tests.harness import dies_with_parent, free_port, is_root, make_workdir, remove_tree, run_as, server_env

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "test-pass"

CONFIG = """\
instance_name = {instance}
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_uid = {user}
mail_gid = {group}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
mail_location = mdbox:~/mdbox
mail_fsync = never
imap_idle_notify_interval = 2 secs
mail_max_userip_connections = 100

namespace inbox {{
  inbox = yes
  separator = /
  mailbox Archive {{
    special_use = \\Archive
  }}
  mailbox Drafts {{
    special_use = \\Drafts
  }}
  mailbox Junk {{
    special_use = \\Junk
  }}
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
}}

passdb {{
  driver = static
  args = password={password} nodelay=yes
}}
userdb {{
  driver = static
  args = home={dir}/mail/%u
}}

service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


OAUTH2_SETTINGS = """\
introspection_mode = post
introspection_url = {url}/introspect
username_attribute = username
active_attribute = active
active_value = true
"""

OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {settings}
}}
"""


TLS_SETTINGS = """\
ssl = yes
ssl_cert = <{dir}/cert.pem
ssl_key = <{dir}/key.pem
"""

IMAPS_LISTENER = """\
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
  }}
"""

NO_IMAPS_LISTENER = """\
  inet_listener imaps {
    port = 0
  }
"""


def dovecot_available(binary: str = DOVECOT) -> bool:
    return os.access(binary, os.X_OK)


@dataclass
class ImapAccount:
    """One IMAP user on a running server; each call opens its own connection."""

    host: str
    port: int
    user: str
    password: str = PASSWORD

    @contextmanager
    def client(self) -> Iterator[IMAPClient]:
        imap = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        try:
            imap.login(self.user, self.password)
            yield imap
        finally:
            try:
                imap.logout()
            except Exception:
                imap.shutdown()

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.client() as imap:
            if not imap.folder_exists(folder):
                imap.create_folder(folder)
            imap.append(folder, raw)

    def fetch_all(self, folder: str = "INBOX") -> list[bytes]:
        with self.client() as imap:
            if not imap.folder_exists(folder):
                return []
            imap.select_folder(folder, readonly=True)
            uids = sorted(imap.search("ALL"))
            if not uids:
                return []
            data = imap.fetch(uids, ["BODY.PEEK[]"])
            return [data[uid][b"BODY[]"] for uid in uids]

    def folders(self) -> list[str]:
        with self.client() as imap:
            return [name for _flags, _sep, name in imap.list_folders()]


class Dovecot:
    """A Dovecot master process with a generated config in a temp dir."""

    password = PASSWORD

    def __init__(self, binary: str = DOVECOT, host: str = "127.0.0.1", introspection_url: str = "",
                 tls: bool = False, capabilities: str = "", rawlog: bool = False) -> None:
        """`introspection_url`: also accept XOAUTH2/OAUTHBEARER logins, checking each token
        there (RFC 7662), as a mailbox provider that takes OAuth tokens does.

        `tls`: also offer STARTTLS on `port` and implicit TLS on `tls_port`, with a certificate
        for `host` signed by a throwaway CA whose PEM is at `ca_file` (plaintext logins still work).
        `capabilities`: the exact list advertised after login (Dovecot's `imap_capability`),
        e.g. to play a server without MOVE. `rawlog`: keep each user's commands for `commands()`.
        """
        self.binary = binary
        self.host = host
        self.introspection_url = introspection_url
        self.tls = tls
        self.capabilities = capabilities
        self.rawlog = rawlog
        self.port = 0
        self.tls_port = 0
        self.dir: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.user = "nobody" if is_root() else pwd.getpwuid(os.getuid()).pw_name

    @property
    def log_path(self) -> str:
        return f"{self.dir}/dovecot.log"

    @property
    def ca_file(self) -> str:
        """The PEM of the CA that signed the server's certificate (with `tls`)."""
        return f"{self.dir}/ca.pem"

    def start(self, timeout: float = 10) -> Dovecot:
        if not dovecot_available(self.binary):
            raise FileNotFoundError(f"{self.binary} is missing: run `bash scripts/install-test-servers`")
        self.dir = make_workdir("dc-", owner=self.user)
        self.port = free_port(self.host)
        if self.tls:
            self.tls_port = free_port(self.host)
            self._write_certificate()
        config = f"{self.dir}/dovecot.conf"
        with open(config, "w") as file:
            file.write(self._config())
        with open(f"{self.dir}/stderr.log", "wb") as stderr:
            self.process = subprocess.Popen(
                [self.binary, "-F", "-c", config],
                stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
                start_new_session=True, preexec_fn=dies_with_parent(signal.SIGTERM), env=server_env(),
                **run_as(self.user),
            )
        self._wait_ready(timeout)
        return self

    def _config(self) -> str:
        entry = pwd.getpwnam(self.user)
        config = CONFIG.format(
            instance=f"unmentoring-test-{uuid.uuid4().hex[:8]}", dir=self.dir,
            user=self.user, group=grp.getgrgid(entry.pw_gid).gr_name,
            uid=entry.pw_uid, gid=entry.pw_gid, password=self.password, port=self.port,
        )
        config = self._with_oauth2(config) if self.introspection_url else config
        if self.tls:
            config = config.replace("ssl = no\n", TLS_SETTINGS.format(dir=self.dir), 1)
            config = config.replace(NO_IMAPS_LISTENER, IMAPS_LISTENER.format(port=self.tls_port), 1)
        if self.capabilities:
            config += f"imap_capability = {self.capabilities}\n"
        if self.rawlog:
            config += f"rawlog_dir = {self.dir}/rawlog/%u\n"
        return config

    def _write_certificate(self) -> None:
        import trustme

        ca = trustme.CA()
        ca.cert_pem.write_to_path(self.ca_file)
        issued = ca.issue_cert(self.host)
        issued.private_key_pem.write_to_path(f"{self.dir}/key.pem")
        issued.cert_chain_pems[0].write_to_path(f"{self.dir}/cert.pem")
        for name in ("ca.pem", "key.pem", "cert.pem"):
            os.chmod(f"{self.dir}/{name}", 0o644)

    def _with_oauth2(self, config: str) -> str:
        settings = f"{self.dir}/oauth2.conf.ext"
        with open(settings, "w") as file:
            file.write(OAUTH2_SETTINGS.format(url=self.introspection_url))
        os.chmod(settings, 0o644)
        config = config.replace("auth_mechanisms = plain login", "auth_mechanisms = plain login xoauth2 oauthbearer")
        return config.replace("passdb {", OAUTH2_PASSDB.format(settings=settings) + "passdb {", 1)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                break
            if self._greets():
                return
            time.sleep(0.01)
        logs = self._logs()
        self.stop()
        raise RuntimeError(f"Dovecot did not start on {self.host}:{self.port}:\n{logs}")

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def _logs(self) -> str:
        text = ""
        for name in ("stderr.log", "dovecot.log"):
            try:
                with open(f"{self.dir}/{name}", errors="replace") as file:
                    text += file.read()[-4000:]
            except OSError:
                pass
        return text

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        remove_tree(self.dir)
        self.dir = None

    def account(self, user: str | None = None) -> ImapAccount:
        account = ImapAccount(self.host, self.port, user or f"u{uuid.uuid4().hex[:12]}", self.password)
        if self.rawlog:
            os.makedirs(f"{self.dir}/rawlog/{account.user}", exist_ok=True)
            entry = pwd.getpwnam(self.user)
            os.chown(f"{self.dir}/rawlog/{account.user}", entry.pw_uid, entry.pw_gid)
        return account

    def commands(self, user: str) -> list[str]:
        """Every command `user` sent after login, over all its connections so far (with `rawlog`)."""
        lines: list[str] = []
        for path in sorted(glob.glob(f"{self.dir}/rawlog/{user}/*.in")):
            with open(path, errors="replace") as file:
                lines += file.read().splitlines()
        return lines

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
