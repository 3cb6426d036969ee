"""Settings: one TOML file, secrets also from the environment, one clear line per mistake.

Every key can be overridden by an environment variable named
``UNMENTORING_<SECTION>_<KEY>`` (for example ``UNMENTORING_SMTP_PASSWORD``), so
passwords never need to sit in the file.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date
from functools import cached_property
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rounds.closed_days import ClosedDaysError, calendar_for, check_region, parse_closed_days
from rounds.schedule import CadenceError, Calendar, parse_cadence

DEFAULT_PATH = Path("unmentoring.toml")
ENV_PATH = "UNMENTORING_CONFIG"
TLS_MODES = ("none", "starttls", "implicit")
AUTH_MODES = ("password", "oauth2")
MAX_CLOSED_DAYS = 200
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
UNCONFIRMED_DAYS = 30
KEEP_UNCONFIRMED = (7, 3650)  # from the day a confirmation link expires, to ten years


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the key and what to put there."""


@dataclass(frozen=True)
class ServiceSettings:
    address: str = "coffee@localhost"
    name: str = "Coffee Roulette"
    organiser: str = "organiser@localhost"
    timezone: str = "Europe/London"
    data_dir: str = "data"
    max_auto_replies_per_day: int = 5
    trusted_authserv_id: str = ""
    bounce_limit: int = 3
    bounce_stale_days: int = 90
    templates_dir: str = ""
    unsubscribe_url: str = ""
    retention_days: int = 365
    unconfirmed_days: int = UNCONFIRMED_DAYS
    digest: bool = True

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def local_part(self) -> str:
        return self.address.rpartition("@")[0]


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""


@dataclass(frozen=True)
class ImapSettings:
    host: str = "localhost"
    port: int = 993
    tls: str = "implicit"
    user: str = ""
    password: str = ""
    inbox: str = "INBOX"
    processed: str = "unmentoring/processed"
    quarantine: str = "unmentoring/quarantine"
    batch_size: int = 200
    max_message_bytes: int = 10_000_000
    auth: str = "password"


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    tls: str = "starttls"
    user: str = ""
    password: str = ""
    rate_per_minute: int = 0
    timeout_seconds: int = 30
    verp: bool = False
    auth: str = "password"


@dataclass(frozen=True)
class OAuth2Settings:
    """An OAuth 2.0 token endpoint, for mailboxes that refuse passwords (Microsoft 365, Gmail).

    With only a client secret, the client-credentials grant (an app registered in the
    organisation's Entra ID); with a refresh token as well, the refresh-token grant.
    """

    token_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""
    scope: str = MICROSOFT_SCOPE


@dataclass(frozen=True)
class RoundSettings:
    cadence: str = "monthly"
    start: str = ""
    open_hour: int = 9
    odd: str = "trio"
    holidays: str = "GB-ENG"
    closed_days: str = ""


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings = field(default_factory=ServiceSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    imap: ImapSettings = field(default_factory=ImapSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    rounds: RoundSettings = field(default_factory=RoundSettings)
    oauth2: OAuth2Settings = field(default_factory=OAuth2Settings)
    source: Path | None = None

    @property
    def data_path(self) -> Path:
        base = self.source.parent if self.source else Path.cwd()
        return (base / self.service.data_dir).resolve()

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.data_path / 'unmentoring.sqlite3'}"

    @property
    def templates_path(self) -> str | None:
        if not self.service.templates_dir:
            return None
        base = self.source.parent if self.source else Path.cwd()
        return str((base / self.service.templates_dir).resolve())

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.service.timezone)

    @cached_property
    def calendar(self) -> Calendar:
        """Working days for the schedule: weekdays less public holidays and the organiser's closed days."""
        return calendar_for(self.rounds.holidays, self.rounds.closed_days)


SECTIONS: dict[str, type] = {
    "service": ServiceSettings,
    "database": DatabaseSettings,
    "imap": ImapSettings,
    "smtp": SmtpSettings,
    "rounds": RoundSettings,
    "oauth2": OAuth2Settings,
}


def config_path(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(ENV_PATH) or DEFAULT_PATH)


def load(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any), apply environment overrides, validate."""
    source = config_path(path)
    env = os.environ if env is None else env
    if not source.exists():
        raise ConfigError(
            f"no configuration file at {source}: copy unmentoring.example.toml there "
            f"or point --config / {ENV_PATH} at yours"
        )
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from exc
    return from_mapping(raw, env, source)


def from_mapping(raw: Mapping[str, Any], env: Mapping[str, str], source: Path | None = None) -> Settings:
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"[{unknown[0]}]: unknown section; the sections are {', '.join(SECTIONS)}")
    built = {name: _section(name, cls, raw.get(name, {}), env) for name, cls in SECTIONS.items()}
    settings = Settings(**built, source=source)
    validate(settings)
    return settings


def _section(name: str, cls: type, values: Any, env: Mapping[str, str]) -> Any:
    if not isinstance(values, Mapping):
        raise ConfigError(f"[{name}]: expected a table of settings, e.g. [{name}] then key = value lines")
    known = {f.name: f for f in fields(cls)}
    for key in values:
        if key not in known:
            raise ConfigError(f"{name}.{key}: unknown setting; known keys are {', '.join(known)}")
    merged = dict(values)
    for key in known:
        env_value = env.get(f"UNMENTORING_{name}_{key}".upper())
        if env_value is not None:
            merged[key] = env_value
    return cls(**{key: _coerce(f"{name}.{key}", known[key].type, value) for key, value in merged.items()})


def _coerce(key: str, kind: Any, value: Any) -> Any:
    if kind in (bool, "bool"):
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in ("true", "yes", "1", "false", "no", "0"):
            return str(value).strip().lower() in ("true", "yes", "1")
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if kind in (int, "int"):
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: expected a whole number such as 993, got {value!r}") from None
    if not isinstance(value, str):
        raise ConfigError(f'{key}: expected text in quotes, e.g. {key.split(".")[1]} = "...", got {value!r}')
    return value


def validate(settings: Settings) -> None:
    _check_address("service.address", settings.service.address)
    _check_address("service.organiser", settings.service.organiser)
    if "+" in settings.service.local_part:
        raise ConfigError("service.address: use the plain address without a +tag; tags are added per person")
    try:
        settings.tz
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"service.timezone: {settings.service.timezone!r} is not a known time zone; use a name like Europe/London"
        ) from None
    for section in ("imap", "smtp"):
        auth = getattr(settings, section).auth
        if auth not in AUTH_MODES:
            raise ConfigError(f"{section}.auth: {auth!r}; use password, or oauth2 with an [oauth2] section")
        tls = getattr(settings, section).tls
        if tls not in TLS_MODES:
            raise ConfigError(f"{section}.tls: {tls!r} is not a TLS mode; use one of {', '.join(TLS_MODES)}")
        port = getattr(settings, section).port
        if not 0 < port < 65536:
            raise ConfigError(f"{section}.port: {port} is not a port number; use e.g. 993 for IMAP, 587 for SMTP")
    _check_rounds(settings.rounds)
    _check_service_extras(settings)
    _check_unconfirmed_days(settings.service.unconfirmed_days)
    _check_oauth2(settings)
    if settings.imap.batch_size < 1:
        raise ConfigError("imap.batch_size: must be at least 1 (200 is a good value)")


def _check_service_extras(settings: Settings) -> None:
    url = settings.service.unsubscribe_url
    if url and (not url.startswith("https://") or "{token}" not in url):
        raise ConfigError(
            f"service.unsubscribe_url: {url!r}; use an https:// address containing {{token}}, "
            "e.g. https://coffee.example.org/unsubscribe/{token}, or leave it empty"
        )
    if settings.templates_path and not Path(settings.templates_path).is_dir():
        raise ConfigError(f"service.templates_dir: {settings.templates_path} is not a folder; create it or leave it empty")


def _check_unconfirmed_days(days: int) -> None:
    low, high = KEEP_UNCONFIRMED
    if not low <= days <= high:
        raise ConfigError(f"service.unconfirmed_days: {days}; use a number of days from {low} (when a confirmation "
                          f"link expires) to {high}, e.g. {UNCONFIRMED_DAYS}")


def _check_oauth2(settings: Settings) -> None:
    if "oauth2" not in (settings.imap.auth, settings.smtp.auth):
        return
    url = settings.oauth2.token_url
    loopback = url.startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:"))
    if not (url.startswith("https://") or loopback):
        raise ConfigError(
            f"oauth2.token_url: {url!r}; use your provider's https:// token endpoint, e.g. "
            "https://login.microsoftonline.com/<tenant id>/oauth2/v2.0/token"
        )


def _check_rounds(rounds: RoundSettings) -> None:
    try:
        parse_cadence(rounds.cadence)
    except CadenceError as exc:
        raise ConfigError(f"rounds.cadence: {rounds.cadence!r} is not a cadence; {exc}") from None
    if rounds.start:
        try:
            date.fromisoformat(rounds.start)
        except ValueError:
            raise ConfigError(f"rounds.start: {rounds.start!r} is not a date; write it like 2027-01-04") from None
    if not 0 <= rounds.open_hour <= 23:
        raise ConfigError(f"rounds.open_hour: {rounds.open_hour} is not an hour; use 0 to 23, e.g. 9")
    try:
        check_region(rounds.holidays)
    except ClosedDaysError as exc:
        raise ConfigError(f"rounds.holidays: {exc}, or \"\" for none") from None
    try:
        closed = parse_closed_days(rounds.closed_days)
    except ClosedDaysError as exc:
        raise ConfigError(f"rounds.closed_days: {exc}") from None
    if len(closed) > MAX_CLOSED_DAYS:
        raise ConfigError(f"rounds.closed_days: {len(closed)} days closed; rounds need working days, "
                          f"so list at most {MAX_CLOSED_DAYS} (pause the service instead: stop running tick)")
    if rounds.odd not in ("trio", "sit_out"):
        raise ConfigError(f"rounds.odd: {rounds.odd!r}; use trio (one group of three) or sit_out (one person waits)")


def _check_address(key: str, value: str) -> None:
    _, addr = parseaddr(value)
    if not addr or "@" not in addr or addr != value.strip():
        raise ConfigError(f"{key}: {value!r} is not an email address; put a plain address like coffee@example.org")


def require_login(settings: Settings, section: str) -> None:
    """Raise when what a server's login needs is unset: checked only by commands that log in."""
    part = getattr(settings, section)
    needed = [(section, "user")]
    if part.auth == "oauth2":
        secret = "refresh_token" if settings.oauth2.refresh_token else "client_secret"
        needed += [("oauth2", "client_id"), ("oauth2", secret)]
    else:
        needed.append((section, "password"))
    for name, key in needed:
        if not getattr(getattr(settings, name), key):
            env = f"UNMENTORING_{name}_{key}".upper()
            raise ConfigError(f"{name}.{key}: not set; put it in the config file or in {env}")
