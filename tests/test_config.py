"""Settings: a mistake gives one line naming the key and what to put there."""
from __future__ import annotations

from pathlib import Path

import pytest

import config
from config import ConfigError


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
