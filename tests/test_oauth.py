"""Mailboxes that refuse passwords (Microsoft 365, Gmail): IMAP and SMTP log in with OAuth tokens.

Real parts: a token endpoint on loopback, Dovecot checking each token against it (its
oauth2 passdb, as a provider does), an aiosmtpd sink that takes XOAUTH2, and `tick`.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailer import oauth
from tests.app import Service, running, settings_table
from tests.harness.dovecot import Dovecot, dovecot_available
from tests.harness.smtpsink import OAuthSmtpSink
from tests.harness.tokens import TokenServer
from tests.mail import incoming

SAM = "Sam Jones <sam.jones@leeds.gov.uk>"


@pytest.fixture(autouse=True)
def no_held_tokens() -> None:
    """Each test's mailbox is new, so a token held from the last test would not open it."""
    oauth._tokens.clear()


@pytest.fixture(scope="module")
def tokens() -> Iterator[TokenServer]:
    with TokenServer() as server:
        yield server


@pytest.fixture(scope="module")
def oauth_imap(tokens: TokenServer) -> Iterator[Dovecot]:
    if not dovecot_available():
        pytest.fail("Dovecot is not installed: run `bash scripts/install-test-servers`", pytrace=False)
    with Dovecot(introspection_url=tokens.url) as server:
        yield server


@pytest.fixture
def oauth_service(tmp_path: Path, tokens: TokenServer, oauth_imap: Dovecot) -> Iterator[Service]:
    account = oauth_imap.account()
    tokens.mailbox, tokens.grants = account.user, []
    with OAuthSmtpSink(tokens.owner) as sink:
        url = f"sqlite:///{tmp_path}/unmentoring.sqlite3"
        table = settings_table(url, tmp_path / "data", account, sink)
        table["imap"] |= {"auth": "oauth2", "password": ""}
        table["smtp"] |= {"auth": "oauth2", "user": account.user}
        table["oauth2"] = {"token_url": f"{tokens.url}/token", "client_id": tokens.client_id,
                           "client_secret": tokens.client_secret}
        with running(table, tmp_path, account, sink) as service:
            yield service


def set_oauth(service: Service, **values: Any) -> None:
    for key, value in values.items():
        service.set("oauth2", key, value)


def test_join_is_read_and_answered_over_oauth_logins(oauth_service: Service, tokens: TokenServer) -> None:
    oauth_service.imap.deliver(incoming(SAM, "JOIN"))
    oauth_service.tick()
    [confirmation] = oauth_service.smtp.wait_for(1)
    assert confirmation.rcpt_tos == ["sam.jones@leeds.gov.uk"]
    assert oauth_service.smtp.logins == [oauth_service.imap.user], "SMTP AUTH XOAUTH2 as the mailbox"
    assert oauth_service.imap.fetch_all("INBOX") == []
    assert [g["grant_type"] for g in tokens.grants] == ["client_credentials"], "one token serves IMAP and SMTP"
    assert "logged in" in oauth_service.cli("config", "check").output


def test_a_refused_secret_says_what_to_check_and_loses_nothing(oauth_service: Service, tokens: TokenServer) -> None:
    set_oauth(oauth_service, client_secret="wrong-secret")
    oauth_service.imap.deliver(incoming(SAM, "JOIN"))
    result = oauth_service.cli("tick")
    assert result.exit_code == 1
    assert "token endpoint refused (invalid_client: AADSTS7000215" in result.output
    assert "check oauth2.client_id and oauth2.client_secret" in result.output and "wrong-secret" not in result.output
    assert len(oauth_service.imap.fetch_all("INBOX")) == 1 and oauth_service.smtp.messages == []

    set_oauth(oauth_service, client_secret=tokens.client_secret)
    oauth_service.tick()
    assert len(oauth_service.smtp.wait_for(1)) == 1, "the next run handles it"


def test_refresh_token_grant_and_a_revoked_one(oauth_service: Service, tokens: TokenServer) -> None:
    set_oauth(oauth_service, client_secret="", refresh_token=tokens.refresh_token)
    oauth_service.imap.deliver(incoming(SAM, "JOIN"))
    oauth_service.tick()
    assert len(oauth_service.smtp.wait_for(1)) == 1
    assert [g["grant_type"] for g in tokens.grants] == ["refresh_token"]

    set_oauth(oauth_service, refresh_token="revoked")
    result = oauth_service.cli("tick")
    assert result.exit_code == 1 and "check oauth2.refresh_token (it may have expired" in result.output


def test_a_token_the_mail_server_rejects_is_reported_as_a_login_problem(oauth_service: Service,
                                                                          tokens: TokenServer) -> None:
    """The endpoint gives a token, but the mailbox is not the one the app may open."""
    tokens.mailbox = "someone-else"
    oauth_service.imap.deliver(incoming(SAM, "JOIN"))
    result = oauth_service.cli("tick")
    assert result.exit_code == 1
    assert "IMAP login refused" in result.output and "[oauth2] settings and the app's IMAP permission" in result.output
    assert len(oauth_service.imap.fetch_all("INBOX")) == 1


def test_missing_oauth_settings_name_the_key(oauth_service: Service) -> None:
    set_oauth(oauth_service, client_id="")
    result = oauth_service.cli("tick")
    assert result.exit_code == 1 and "oauth2.client_id: not set" in result.output
    set_oauth(oauth_service, client_id="x", token_url="http://auth.example.org/token")
    result = oauth_service.cli("tick")
    assert result.exit_code == 1 and "oauth2.token_url" in result.output and "https://" in result.output
