"""Settings: one TOML file, secrets also from the environment, one clear line per mistake.

Every key can be overridden by an environment variable named
``UNMENTORING_<SECTION>_<KEY>`` (for example ``UNMENTORING_SMTP_PASSWORD``), so
passwords never need to sit in the file.

A setting is declared once, as a field of its section below: its type (text, whole
number, true/false) and, with `setting(...)`, what else it accepts (a range, a list of
choices, not empty). Every value, from the file or the environment, is checked against
that declaration; a whole number is at least 0 unless declared otherwise.
"""
from __future__ import annotations

import difflib
import os
import re
import tomllib
import unicodedata
from dataclasses import MISSING, Field, dataclass, field, fields
from datetime import date
from functools import cached_property
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clock import ENV_CLOCK
from database_url import DatabaseUrlError, sqlite_file, usable
from rounds.closed_days import ClosedDaysError, calendar_for, check_region, parse_closed_days
from rounds.holiday_cache import HolidayCache
from rounds.schedule import CadenceError, Calendar, parse_cadence

DEFAULT_PATH = Path("unmentoring.toml")
ENV_PATH = "UNMENTORING_CONFIG"
ENV_PREFIX = "UNMENTORING_"
SERVICE_VARIABLES = (ENV_PATH, ENV_CLOCK, "UNMENTORING_PG_BINDIR", "UNMENTORING_CHROMIUM")
"""The environment variables that are not settings (the only list of them): the two the service
reads, and the two the test suite reads to find PostgreSQL and the browser."""
TLS_MODES = ("none", "starttls", "implicit")
AUTH_MODES = ("password", "oauth2")
ODD_MODES = ("trio", "sit_out")
MAX_CLOSED_DAYS = 200
MAX_DAYS = 36_500
MAX_INT = 2**31 - 1
MAX_FILE_BYTES = 1_000_000
PLACEHOLDER = re.compile(r"(?:^|[@./])(example\.(?:org|com|net))(?![\w.-])", re.IGNORECASE)
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
UNCONFIRMED_DAYS = 30
KEEP_UNCONFIRMED = (7, 3650)  # from the day a confirmation link expires, to ten years


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the key and what to put there."""


@dataclass(frozen=True)
class Rule:
    """What a setting accepts beyond its type. Whole numbers: `low` to `high`; text: at most
    `max_chars`, not empty when `required`, one of `choices` when given (`hint` explains them);
    a `secret` is never repeated in an error."""

    low: int = 0
    high: int = MAX_INT
    required: bool = False
    choices: tuple[str, ...] = ()
    hint: str = ""
    max_chars: int = 1000
    secret: bool = False
    lines: bool = False  # several lines (a TOML ''' string): line breaks allowed, other control characters not


DEFAULT_RULE = Rule()


def setting(default: Any, **rule: Any) -> Any:
    """A settings field with its rule: `port: int = setting(993, low=1, high=65535)`."""
    return field(default=default, metadata={"rule": Rule(**rule)})


@dataclass(frozen=True)
class ServiceSettings:
    address: str = setting("coffee@localhost", required=True, max_chars=254)
    name: str = setting("Coffee Roulette", required=True, max_chars=100)
    organiser: str = setting("organiser@localhost", required=True, max_chars=254)
    timezone: str = setting("Europe/London", required=True)
    data_dir: str = setting("data", required=True, max_chars=4096)
    max_auto_replies_per_day: int = 5
    stranger_answers_per_hour: int = 30
    trusted_authserv_id: str = ""
    bounce_limit: int = setting(3, low=1)
    bounce_stale_days: int = setting(90, low=1, high=MAX_DAYS)
    templates_dir: str = setting("", max_chars=4096)
    unsubscribe_url: str = ""
    retention_days: int = setting(365, high=MAX_DAYS)
    unconfirmed_days: int = setting(UNCONFIRMED_DAYS, high=MAX_DAYS)
    digest: bool = True

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def local_part(self) -> str:
        return self.address.rpartition("@")[0]


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = setting("", max_chars=4096, secret=True)


@dataclass(frozen=True)
class ImapSettings:
    host: str = setting("localhost", required=True)
    port: int = setting(993, low=1, high=65535)
    tls: str = setting("implicit", choices=TLS_MODES)
    user: str = ""
    password: str = setting("", secret=True)
    inbox: str = setting("INBOX", required=True)
    processed: str = setting("unmentoring/processed", required=True)
    quarantine: str = setting("unmentoring/quarantine", required=True)
    batch_size: int = setting(200, low=1, high=10_000)
    max_message_bytes: int = setting(10_000_000, low=1)
    auth: str = setting("password", choices=AUTH_MODES, hint="oauth2 needs an [oauth2] section")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = setting("localhost", required=True)
    port: int = setting(587, low=1, high=65535)
    tls: str = setting("starttls", choices=TLS_MODES)
    user: str = ""
    password: str = setting("", secret=True)
    rate_per_minute: int = 0
    timeout_seconds: int = setting(30, low=1, high=3600)
    verp: bool = False
    auth: str = setting("password", choices=AUTH_MODES, hint="oauth2 needs an [oauth2] section")


@dataclass(frozen=True)
class OAuth2Settings:
    """An OAuth 2.0 token endpoint, for mailboxes that refuse passwords (Microsoft 365, Gmail).

    With only a client secret, the client-credentials grant (an app registered in the
    organisation's Entra ID); with a refresh token as well, the refresh-token grant.
    """

    token_url: str = ""
    client_id: str = ""
    client_secret: str = setting("", max_chars=8000, secret=True)
    refresh_token: str = setting("", max_chars=8000, secret=True)
    scope: str = MICROSOFT_SCOPE


@dataclass(frozen=True)
class RoundSettings:
    cadence: str = setting("monthly", required=True)
    start: str = ""
    open_hour: int = setting(9, high=23)
    odd: str = setting("trio", choices=ODD_MODES,
                       hint="trio makes one group of three, sit_out has one person wait")
    holidays: str = "GB-ENG"
    closed_days: str = setting("", max_chars=10_000)
    group_size: int = setting(2, low=2, high=4, hint="people per group: 2, 3 or 4")


@dataclass(frozen=True)
class MeetingSettings:
    """Options to book, invitations and conversation starters (issue 16)."""
    slot_minutes: int = setting(30, low=10, high=240)
    options: int = setting(3, low=1, high=5)
    day_start: int = setting(9, high=23, hint="the first hour a slot may start, in the reader's own time zone")
    day_end: int = setting(17, low=1, high=24, hint="slots end by this hour")
    video_link: str = setting("", max_chars=500, hint="a link template for online meetings, e.g. https://meet.example.org/coffee-{token}")
    starters: str = setting("", max_chars=20_000, lines=True, hint="conversation starters, one per line")


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings = field(default_factory=ServiceSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    imap: ImapSettings = field(default_factory=ImapSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    rounds: RoundSettings = field(default_factory=RoundSettings)
    oauth2: OAuth2Settings = field(default_factory=OAuth2Settings)
    meetings: MeetingSettings = field(default_factory=MeetingSettings)
    source: Path | None = None

    @property
    def base(self) -> Path:
        """The folder relative paths in the settings start from: the config file's."""
        return self.source.parent if self.source else Path.cwd()

    @property
    def data_path(self) -> Path:
        return (self.base / self.service.data_dir).resolve()

    @property
    def database_url(self) -> str:
        """The URL the engine is built from (see database_url.usable): SQLite in data_dir by default."""
        if self.database.url.strip():
            return usable(self.database.url, self.base)
        return f"sqlite:///{self.data_path / 'unmentoring.sqlite3'}"

    @property
    def templates_path(self) -> str | None:
        if not self.service.templates_dir:
            return None
        return str((self.base / self.service.templates_dir).resolve())

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.service.timezone)

    @cached_property
    def calendar(self) -> Calendar:
        """Working days for the schedule: weekdays less public holidays and the organiser's closed days."""
        return calendar_for(self.rounds.holidays, self.rounds.closed_days, self.data_path)


SECTIONS: dict[str, type] = {
    "service": ServiceSettings,
    "database": DatabaseSettings,
    "imap": ImapSettings,
    "smtp": SmtpSettings,
    "rounds": RoundSettings,
    "oauth2": OAuth2Settings,
    "meetings": MeetingSettings,
}


def config_path(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(ENV_PATH) or DEFAULT_PATH)


def load(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file, apply environment overrides, validate."""
    source = config_path(path)
    env = os.environ if env is None else env
    try:
        raw = tomllib.loads(_read(source))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from exc
    return from_mapping(raw, env, source)


def _read(source: Path) -> str:
    """The file's text; a UTF-8 byte-order mark (Notepad adds one) is dropped."""
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"no configuration file at {source}: copy unmentoring.example.toml there "
                          f"or point --config / {ENV_PATH} at yours") from None
    except IsADirectoryError:
        raise ConfigError(f"{source} is a folder: point --config / {ENV_PATH} at the settings file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {source}: {exc.strerror}; check the file's permissions") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{source} is over {MAX_FILE_BYTES // 1000} kB: is it the settings file?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{source} is not UTF-8 text (line {line}): open it in your editor and save it "
                          "with the UTF-8 encoding") from None


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
    merged = {key: f.default for key, f in known.items() if f.default is not MISSING} | dict(values)
    for key in known:
        env_value = env.get(variable(name, key))
        if env_value is not None:
            merged[key] = env_value
    return cls(**{key: _checked(f"{name}.{key}", known[key], value) for key, value in merged.items()})


def variable(section: str, key: str) -> str:
    """The environment variable that overrides a setting: UNMENTORING_SMTP_PASSWORD for smtp.password."""
    return f"{ENV_PREFIX}{section}_{key}".upper()


def _checked(key: str, declared: Field[Any], value: Any) -> Any:
    """The value as its declared type, within its rule; else one line naming the key."""
    rule = declared.metadata.get("rule", DEFAULT_RULE)
    kind = declared.type if isinstance(declared.type, str) else declared.type.__name__
    if kind == "bool":
        return _as_bool(key, value)
    if kind == "int":
        return _in_range(key, _as_int(key, value, declared.default), rule, declared.default)
    if rule.secret and not isinstance(value, str):
        raise ConfigError(f'{key}: expected text in quotes, e.g. {key.split(".")[1]} = "..."')
    return _as_text(key, value, rule, declared.default)


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("true", "yes", "1", "false", "no", "0"):
        return word in ("true", "yes", "1")
    raise ConfigError(f"{key}: expected true or false, got {_shown(value)}")


def _as_int(key: str, value: Any, example: int) -> int:
    """A whole number: a TOML integer, or digits in text (as every environment variable is)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,18}", value.strip()):
        return int(value.strip())
    raise ConfigError(f"{key}: expected a whole number such as {example}, got {_shown(value)}")


def _in_range(key: str, value: int, rule: Rule, example: int) -> int:
    if rule.low <= value <= rule.high:
        return value
    span = f"from {rule.low} to {rule.high}" if rule.high < MAX_INT else f"of at least {rule.low}"
    raise ConfigError(f"{key}: {value} is out of range; use a whole number {span}, e.g. {example}")


def _as_text(key: str, value: Any, rule: Rule, example: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f'{key}: expected text in quotes, e.g. {key.split(".")[1]} = "...", got {_shown(value)}')
    if any(unicodedata.category(char) == "Cc" and not (rule.lines and char in "\r\n") for char in value):
        raise ConfigError(f"{key}: contains a control character (a line break, tab or the like); "
                          "write it on one line without them")
    if len(value) > rule.max_chars:
        raise ConfigError(f"{key}: {len(value)} characters long; at most {rule.max_chars} fit")
    if rule.required and not value.strip():
        raise ConfigError(f'{key}: is empty; give it a value, e.g. {key.split(".")[1]} = "{example}"')
    if rule.choices and value not in rule.choices:
        hint = f" ({rule.hint})" if rule.hint else ""
        raise ConfigError(f"{key}: {_shown(value)} is not an option; use one of {', '.join(rule.choices)}{hint}")
    return value


def _shown(value: Any) -> str:
    """A value for an error line: short, on one line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
    _check_rounds(settings.rounds, settings.data_path)
    _check_meetings(settings.meetings)
    _check_service_extras(settings)
    _check_unconfirmed_days(settings.service.unconfirmed_days)
    _check_oauth2(settings)
    _check_storage(settings)


def _check_storage(settings: Settings) -> None:
    """The data folder and the database file can be created where they are meant to be."""
    blocking = file_in_the_way(settings.data_path)
    if blocking:
        raise ConfigError(f"service.data_dir: {blocking} is a file, not a folder; point data_dir "
                          "at a folder (it is created if missing)")
    try:
        url = settings.database_url
    except DatabaseUrlError as exc:
        raise ConfigError(f"database.url: {exc}") from None
    path = sqlite_file(url)
    if path is not None and path.is_dir():
        raise ConfigError(f"database.url: {path} is a folder; name the database file in it, "
                          f"e.g. sqlite:///{path / 'unmentoring.sqlite3'}")
    blocking = file_in_the_way(path.parent) if path is not None else None
    if blocking:
        raise ConfigError(f"database.url: {blocking} is a file, so the database cannot be made inside it; "
                          "point the URL at a file in a folder")


def file_in_the_way(folder: Path) -> Path | None:
    """The file, if any, standing where `folder` or one of the folders above it should be."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def _check_service_extras(settings: Settings) -> None:
    _check_stranger_cap(settings.service.stranger_answers_per_hour, settings.smtp.rate_per_minute)
    url = settings.service.unsubscribe_url
    if url and (not url.startswith("https://") or "{token}" not in url):
        raise ConfigError(
            f"service.unsubscribe_url: {url!r}; use an https:// address containing {{token}}, "
            "e.g. https://coffee.example.org/unsubscribe/{token}, or leave it empty"
        )
    if settings.templates_path and not Path(settings.templates_path).is_dir():
        raise ConfigError(f"service.templates_dir: {settings.templates_path} is not a folder; create it or leave it empty")


def _check_stranger_cap(cap: int, rate_per_minute: int) -> None:
    """Answers to people not taking part (anyone can forge a JOIN) may use at most half the sending rate."""
    key = "service.stranger_answers_per_hour"
    if cap < 1:
        raise ConfigError(f"{key}: {cap}; use at least 1 (30 is a good value): it caps answers to people "
                          "not taking part, such as confirmations of JOIN")
    if rate_per_minute > 0 and cap > rate_per_minute * 30:
        raise ConfigError(f"{key}: {cap} is more than half of what smtp.rate_per_minute sends in an hour; use at most "
                          f"{rate_per_minute * 30}, so round mail keeps room")


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


def _check_rounds(rounds: RoundSettings, data_path: Path) -> None:
    try:
        parse_cadence(rounds.cadence)
    except CadenceError as exc:
        raise ConfigError(f"rounds.cadence: {rounds.cadence!r} is not a cadence; {exc}") from None
    if rounds.start:
        try:
            date.fromisoformat(rounds.start)
        except ValueError:
            raise ConfigError(f"rounds.start: {rounds.start!r} is not a date; write it like 2027-01-04") from None
    try:
        check_region(rounds.holidays, HolidayCache(data_path, rounds.holidays))
    except ClosedDaysError as exc:
        raise ConfigError(f"rounds.holidays: {exc}, or \"\" for none") from None
    try:
        closed = parse_closed_days(rounds.closed_days)
    except ClosedDaysError as exc:
        raise ConfigError(f"rounds.closed_days: {exc}") from None
    if len(closed) > MAX_CLOSED_DAYS:
        raise ConfigError(f"rounds.closed_days: {len(closed)} days closed; rounds need working days, "
                          f"so list at most {MAX_CLOSED_DAYS} (pause the service instead: stop running tick)")


def _check_meetings(meetings: MeetingSettings) -> None:
    if meetings.day_end * 60 - meetings.day_start * 60 < meetings.slot_minutes:
        raise ConfigError(f"meetings.day_end: {meetings.day_end} leaves no {meetings.slot_minutes}-minute slot after "
                          f"day_start = {meetings.day_start}; make it later, e.g. day_end = 17")
    if meetings.video_link and not meetings.video_link.startswith("https://"):
        raise ConfigError(f"meetings.video_link: {meetings.video_link!r}; use an https:// link, e.g. "
                          '"https://meet.example.org/coffee-{token}" ({token} becomes the group\'s), or "" for none')


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
            raise ConfigError(f"{name}.{key}: not set; put it in the config file or in {variable(name, key)}")


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """A warning for each UNMENTORING_* variable that is neither a setting nor one the service
    reads (SERVICE_VARIABLES): a mistyped name would otherwise be ignored without a word."""
    known = {variable(name, f.name) for name, cls in SECTIONS.items() for f in fields(cls)} | set(SERVICE_VARIABLES)
    warnings = []
    for name in sorted(env):
        if name.upper().startswith(ENV_PREFIX) and name not in known:
            close = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.85)
            advice = f"did you mean {close[0]}?" if close else "settings are named UNMENTORING_<SECTION>_<KEY>, e.g. UNMENTORING_SMTP_PASSWORD"
            warnings.append(f"{name[:80]} is not a setting, so it is ignored; {advice}")
    return warnings


def placeholders(settings: Settings) -> list[str]:
    """A warning for each setting still naming the example's domains (example.org and the like),
    where no mail arrives: most likely a line of unmentoring.example.toml left unedited."""
    warnings = []
    for name in SECTIONS:
        part = getattr(settings, name)
        for f in fields(part):
            found = PLACEHOLDER.search(str(getattr(part, f.name)))
            if found:
                warnings.append(f"{name}.{f.name} uses {found.group(1)}, the example's placeholder domain: "
                                "put your own there (mail for it goes nowhere)")
    return warnings
