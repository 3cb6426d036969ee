"""OAuth 2.0 access tokens for IMAP and SMTP logins (SASL XOAUTH2).

Microsoft 365 refuses passwords for IMAP, and SMTP AUTH with a password is being
retired; Google Workspace prefers tokens too. So a server whose `auth` is "oauth2"
logs in with an access token from `[oauth2]`'s token endpoint: the client-credentials
grant for an app registered in the organisation's tenant, or the refresh-token grant
when a refresh token is configured. Tokens are kept in memory until shortly before they
expire, so one run (and a long `poll --watch`) asks once an hour, not once a login.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from config import OAuth2Settings, Settings

RENEW_BEFORE_S = 300
TIMEOUT_S = 30


class TokenError(Exception):
    """No access token: the message says which setting to check, never a secret."""


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float


_tokens: dict[OAuth2Settings, AccessToken] = {}


def access_token(oauth: OAuth2Settings, clock: Callable[[], float] = time.monotonic) -> str:
    """A token for these settings, fetched again when they change or it nears its expiry."""
    key = oauth
    held = _tokens.get(key)
    if held is None or held.expires_at - RENEW_BEFORE_S <= clock():
        held = _tokens[key] = request_token(oauth, clock)
    return held.value


def with_access_tokens(settings: Settings) -> Settings:
    """The settings with a current access token as the password of each server using oauth2."""
    changes = {section: replace(getattr(settings, section), password=access_token(settings.oauth2))
               for section in ("imap", "smtp") if getattr(settings, section).auth == "oauth2"}
    return replace(settings, **changes) if changes else settings


def xoauth2(user: str, token: str) -> str:
    """The XOAUTH2 initial response (before base64), as Google and Microsoft define it."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def request_token(oauth: OAuth2Settings, clock: Callable[[], float] = time.monotonic) -> AccessToken:
    import urllib.error  # only for oauth2 logins, not on every run
    import urllib.request

    request = urllib.request.Request(
        oauth.token_url, data=urlencode(_grant(oauth)).encode(),
        headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        raise TokenError(_refusal(exc.code, _json(exc.read()), oauth)) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TokenError(f"cannot reach the token endpoint {oauth.token_url}: {reason}; "
                         "check oauth2.token_url and the network") from None
    except ValueError:
        raise TokenError(f"the token endpoint {oauth.token_url} did not answer with JSON; "
                         "check oauth2.token_url") from None
    value = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise TokenError(f"the token endpoint {oauth.token_url} gave no access_token; check oauth2.scope")
    try:
        lifetime = float(body.get("expires_in", 3600))
    except (TypeError, ValueError):
        lifetime = 3600.0
    return AccessToken(value, clock() + lifetime)


def _grant(oauth: OAuth2Settings) -> dict[str, str]:
    form = {"client_id": oauth.client_id, "scope": oauth.scope}
    if oauth.refresh_token:
        form |= {"grant_type": "refresh_token", "refresh_token": oauth.refresh_token}
    else:
        form["grant_type"] = "client_credentials"
    if oauth.client_secret:
        form["client_secret"] = oauth.client_secret
    return form


def _json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refusal(status: int, body: dict[str, Any], oauth: OAuth2Settings) -> str:
    error = str(body.get("error") or f"HTTP {status}")
    described = str(body.get("error_description") or "").strip().splitlines()
    detail = f": {described[0][:200]}" if described else ""
    if oauth.refresh_token and error == "invalid_grant":
        check = "oauth2.refresh_token (it may have expired or been revoked: get a new one)"
    elif error in ("invalid_scope", "invalid_resource"):
        check = "oauth2.scope"
    else:
        check = "oauth2.client_id and oauth2.client_secret, and the app's mail permissions"
    return f"the token endpoint refused ({error}{detail}); check {check}"
