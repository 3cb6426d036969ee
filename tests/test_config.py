"""Settings: a mistake gives one line naming the key and what to put there."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

import config
from config import ConfigError
from database_url import POSTGRES, POSTGRES_DRIVERS, SQLITE_DRIVERS, DatabaseUrlError, sqlite_file, usable


def load_text(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> config.Settings:
    path = tmp_path / "unmentoring.toml"
    path.write_text(text)
    return config.load(path, env=env or {})


def test_defaults_give_an_embedded_sqlite_database(tmp_path: Path) -> None:
    settings = load_text(tmp_path, '[service]\naddress = "coffee@example.org"\n')
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'unmentoring.sqlite3'}"
    assert settings.imap.processed == "unmentoring/processed"


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    settings = load_text(tmp_path, "[smtp]\nport = 2525\n",
                         env={"UNMENTORING_SMTP_PASSWORD": "s3cret", "UNMENTORING_IMAP_PORT": "143"})
    assert settings.smtp.password == "s3cret" and settings.imap.port == 143 and settings.smtp.port == 2525


def test_missing_file_says_where_to_put_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no configuration file at .*unmentoring.example.toml"):
        config.load(tmp_path / "nope.toml", env={})


@pytest.mark.parametrize("text, key, hint", [
    ('[imap]\nport = "abc"\n', "imap.port", "whole number"),
    ('[smtp]\ntls = "ssl"\n', "smtp.tls", "none, starttls, implicit"),
    ('[service]\naddress = "not an address"\n', "service.address", "plain address"),
    ('[service]\ntimezone = "Mars/Olympus"\n', "service.timezone", "Europe/London"),
    ('[imap]\nhots = "x"\n', "imap.hots", "known keys are host"),
    ('[mail]\nx = 1\n', "[mail]", "unknown section"),
    ('[service]\naddress = "coffee+x@example.org"\n', "service.address", "without a +tag"),
    ("[imap\n", "not valid TOML", ""),
    ('[service]\nunconfirmed_days = 3\n', "service.unconfirmed_days", "from 7"),
    ('[service]\nunconfirmed_days = -1\n', "service.unconfirmed_days", "e.g. 30"),
    ('[rounds]\nholidays = "GB-XX"\n', "rounds.holidays", "GB-SCT"),
    ('[rounds]\nholidays = "England"\n', "rounds.holidays", "GB-ENG"),
    ('[rounds]\nclosed_days = "24/12/2026"\n', "rounds.closed_days", "2026-12-29 to 2026-12-31"),
    ('[rounds]\nclosed_days = "2027-01-01 to 2027-09-01, 2027-09-02 to 2028-03-01"\n', "rounds.closed_days",
     "at most 200"),
    ("[smtp]\nport = 587.5\n", "smtp.port", "whole number such as 587, got 587.5"),
    ("[imap]\nport = true\n", "imap.port", "whole number such as 993, got True"),
    ("[imap]\nport = 0\n", "imap.port", "from 1 to 65535"),
    ("[service]\nbounce_limit = -1\n", "service.bounce_limit", "of at least 1"),
    ("[service]\nretention_days = -5\n", "service.retention_days", "from 0 to 36500"),
    ("[rounds]\nopen_hour = 24\n", "rounds.open_hour", "from 0 to 23"),
    ('[service]\nname = ""\n', "service.name", 'is empty; give it a value, e.g. name = "Coffee Roulette"'),
    ('[service]\nname = "  "\n', "service.name", "is empty"),
    ('[service]\nname = "Coffee\\r\\nBcc: everyone@example.org"\n', "service.name", "control character"),
    ('[rounds]\nodd = "pairs"\n', "rounds.odd", "use one of trio, sit_out"),
    ("[meetings]\nday_start = 17\nday_end = 9\n", "meetings.day_end", "make it later, e.g. day_end = 17"),
    ('[meetings]\nvideo_link = "meet.example.org/{token}"\n', "meetings.video_link", "use an https:// link"),
    ('[meetings]\nstarters = "What\tnext?"\n', "meetings.starters", "control character"),
    ('[service]\ndigest = "sometimes"\n', "service.digest", "true or false"),
    ('[database]\nurl = "mysql://coffee@db/coffee"\n', "database.url", "mysql:// is not a database the service"),
    ('[database]\nurl = "not a url at all"\n', "database.url", "not a database URL"),
    ('[database]\nurl = "postgresql://coffee@db:port/coffee"\n', "database.url", "not a database URL"),
    ('[database]\nurl = "postgresql+psycopg2://coffee@db/coffee"\n', "database.url", "postgres://user@host/db"),
    ('[database]\nurl = "sqlite://"\n', "database.url", "SQLite needs a file"),
])
def test_a_wrong_setting_names_the_key(tmp_path: Path, text: str, key: str, hint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    message = str(caught.value)
    assert key in message and hint in message and "\n" not in message


def test_login_settings_are_required_only_to_log_in(tmp_path: Path) -> None:
    settings = load_text(tmp_path, "")
    with pytest.raises(ConfigError, match="imap.user: not set.*UNMENTORING_IMAP_USER"):
        config.require_login(settings, "imap")


def test_the_example_config_is_valid_and_names_every_key() -> None:
    example = Path(__file__).resolve().parent.parent / "unmentoring.example.toml"
    settings = config.load(example, env={})
    assert settings.imap.tls == "implicit" and settings.smtp.port == 587
    text = example.read_text()
    for section, cls in config.SECTIONS.items():
        for name in cls.__dataclass_fields__:
            assert f"\n{name} = " in text, f"{section}.{name} missing from the example"


@pytest.mark.parametrize("variable, value, hint", [
    ("UNMENTORING_SMTP_PORT", "587.5", "whole number"),
    ("UNMENTORING_SERVICE_BOUNCE_LIMIT", "-1", "of at least 1"),
    ("UNMENTORING_SERVICE_NAME", "", "is empty"),
    ("UNMENTORING_SMTP_VERP", "perhaps", "true or false"),
])
def test_the_environment_is_checked_like_the_file(tmp_path: Path, variable: str, value: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=hint):
        load_text(tmp_path, "", env={variable: value})


def wrong_values(kind: str) -> list[object]:
    return {"int": [1.5, True, "ten", "2.0"], "bool": ["maybe", 2], "str": [5, 1.5, True, ["a"]]}[kind]


SETTINGS = [(section, f) for section, cls in config.SECTIONS.items() for f in dataclasses.fields(cls)]


@pytest.mark.parametrize("section, declared", SETTINGS, ids=[f"{s}.{f.name}" for s, f in SETTINGS])
def test_every_setting_is_checked_for_its_type_and_range(tmp_path: Path, section: str,
                                                         declared: dataclasses.Field) -> None:
    """Walks every declared setting, so one added later is covered without a new test."""
    key = f"{section}.{declared.name}"
    rule = declared.metadata.get("rule", config.DEFAULT_RULE)
    wrong = wrong_values(str(declared.type))
    if declared.type == "int":
        wrong += [rule.low - 1, rule.high + 1]
        assert not declared.name.endswith("_days") or rule.high <= config.MAX_DAYS, f"{key}: bound it (dates overflow)"
    if rule.required:
        wrong.append("")
    for value in wrong:
        with pytest.raises(ConfigError) as caught:
            config.from_mapping({section: {declared.name: value}}, {})
        assert str(caught.value).startswith(f"{key}: ") and "\n" not in str(caught.value), value


def test_postgres_urls_use_psycopg_3_and_sqlite_paths_start_at_the_config_file(tmp_path: Path) -> None:
    for written in ("postgres://coffee:pw@db/coffee", "postgresql://coffee:pw@db/coffee"):
        settings = load_text(tmp_path, f'[database]\nurl = "{written}"\n')
        assert settings.database_url == "postgresql+psycopg://coffee:pw@db/coffee"
    settings = load_text(tmp_path, '[database]\nurl = "sqlite:///db/coffee.sqlite3"\n')
    assert settings.database_url == f"sqlite:///{tmp_path / 'db' / 'coffee.sqlite3'}"


def test_a_wrong_database_url_or_password_is_never_repeated(tmp_path: Path) -> None:
    for url in ("mysql://coffee:s3cret@db/coffee", "postgresql://coffee:s3cret@db:port/coffee"):
        with pytest.raises(ConfigError) as caught:
            load_text(tmp_path, f'[database]\nurl = "{url}"\n')
        assert "s3cret" not in str(caught.value) and "sqlite:///path" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, "[smtp]\npassword = 735211\n")
    assert str(caught.value) == 'smtp.password: expected text in quotes, e.g. password = "..."'


def test_a_notepad_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "unmentoring.toml"
    path.write_bytes("\ufeff[service]\nname = \"Café Roulette\"\n".encode("utf-8"))
    assert config.load(path, env={}).service.name == "Café Roulette"


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_a_file_in_another_encoding_is_to_be_saved_as_utf8(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "unmentoring.toml"
    path.write_bytes('[service]\nname = "Café Roulette"\n'.encode(encoding))
    with pytest.raises(ConfigError, match="is not UTF-8 text .*save it with the UTF-8 encoding"):
        config.load(path, env={})


def test_file_and_folder_mistakes_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    with pytest.raises(ConfigError, match="service.data_dir: .*afile is a file, not a folder"):
        load_text(tmp_path, '[service]\ndata_dir = "afile"\n')
    (tmp_path / "db").mkdir()
    with pytest.raises(ConfigError, match="database.url: .*db is a folder; name the database file in it"):
        load_text(tmp_path, '[database]\nurl = "sqlite:///db"\n')
    with pytest.raises(ConfigError, match="is a folder: point --config"):
        config.load(tmp_path, env={})


def test_unknown_environment_variables_are_warned_about() -> None:
    every_setting = {config.variable(s, f.name): "" for s, f in SETTINGS}
    env = {**every_setting, **{name: "" for name in config.SERVICE_VARIABLES}, "PATH": "/bin",
           "UNMENTORING_SMTP_PASWORD": "x", "UNMENTORING_VERBOSE": "1"}
    assert config.unknown_variables(env) == [
        "UNMENTORING_SMTP_PASWORD is not a setting, so it is ignored; did you mean UNMENTORING_SMTP_PASSWORD?",
        "UNMENTORING_VERBOSE is not a setting, so it is ignored; settings are named UNMENTORING_<SECTION>_<KEY>, "
        "e.g. UNMENTORING_SMTP_PASSWORD",
    ]


def test_the_example_addresses_are_warned_about(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "unmentoring.example.toml"
    warned = [line.split(" ")[0] for line in config.placeholders(config.load(example, env={}))]
    assert warned == ["service.address", "service.organiser", "imap.host", "imap.user", "smtp.host", "smtp.user"]
    own = load_text(tmp_path, '[service]\naddress = "coffee@leeds.gov.uk"\norganiser = "ann@myexample.org"\n')
    assert config.placeholders(own) == []


def test_conversation_starters_take_one_line_each(tmp_path: Path) -> None:
    text = "[meetings]\nstarters = \"\"\"\nWhat surprised you this year?\nWho should we both meet?\n\"\"\"\n"
    starters = load_text(tmp_path, text).meetings.starters
    assert starters.strip().splitlines() == ["What surprised you this year?", "Who should we both meet?"]


URLS = ("postgres://coffee:pw@db/coffee", "postgresql://coffee:p%40ss@db:5432/coffee?host=/run/pg",
        "postgresql://coffee@[::1]:5433/coffee", "postgresql+psycopg://c:p@s@h/d", "postgresql:///coffee",
        "sqlite:///a%20b.sqlite3", "sqlite:///café.db", "sqlite:////srv/data/x.db?timeout=3", "sqlite://h/x.db",
        "sqlite+pysqlite:///x.db", "sqlite://", "sqlite:///:memory:", "postgresql://c@db:port/x", "mysql://m/x",
        "not a url", "postgresql://c@db:/x")


@pytest.mark.parametrize("url", URLS)
def test_database_urls_are_read_as_sqlalchemy_reads_them(url: str, tmp_path: Path) -> None:
    """database_url reads URLs without SQLAlchemy; the engine is then built by SQLAlchemy from what it gives."""
    try:
        theirs = make_url(url)
    except (ArgumentError, ValueError):
        with pytest.raises(DatabaseUrlError, match="not a database URL"):
            usable(url, tmp_path)
        return
    if theirs.drivername in SQLITE_DRIVERS:
        assert sqlite_file(url) == (Path(theirs.database) if theirs.database else None)
    try:
        ours = make_url(usable(url, tmp_path))
    except DatabaseUrlError:
        assert theirs.drivername not in POSTGRES_DRIVERS
        return
    if theirs.drivername in POSTGRES_DRIVERS:
        assert ours == theirs.set(drivername=POSTGRES)
        assert sqlite_file(usable(url, tmp_path)) is None
    else:
        assert ours.database == str((tmp_path / theirs.database).resolve()) and ours.query == theirs.query
