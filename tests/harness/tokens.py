"""A throwaway OAuth 2.0 authorisation server on loopback: token endpoint and introspection.

`POST /token` grants client credentials (or a refresh token) to the one registered client,
answering errors as Microsoft's and Google's endpoints do (JSON with `error`,
`error_description`). `POST /introspect` (RFC 7662) is what Dovecot's oauth2 passdb asks
to check a token; the SMTP sink checks tokens with `owner`.
"""
from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class TokenServer:
    client_id: str = "unmentoring-test"
    client_secret: str = field(default_factory=lambda: secrets.token_hex(8))
    refresh_token: str = field(default_factory=lambda: secrets.token_hex(8))
    scope: str = "https://outlook.office365.com/.default"
    mailbox: str = ""
    lifetime: int = 3599
    grants: list[dict[str, str]] = field(default_factory=list)
    issued: dict[str, str] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def owner(self, token: str) -> str | None:
        """The mailbox a token was issued for, or None for a token we never issued."""
        return self.issued.get(token)

    def start(self) -> TokenServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.grants.append(form)
        if form.get("client_id") != self.client_id:
            return 400, {"error": "unauthorized_client", "error_description": "AADSTS700016: unknown application"}
        if form.get("scope") != self.scope:
            return 400, {"error": "invalid_scope", "error_description": "AADSTS70011: the scope is not valid"}
        kind = form.get("grant_type")
        if kind == "client_credentials" and form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."}
        if kind == "refresh_token" and form.get("refresh_token") != self.refresh_token:
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        if kind not in ("client_credentials", "refresh_token"):
            return 400, {"error": "unsupported_grant_type"}
        token = secrets.token_urlsafe(24)
        self.issued[token] = self.mailbox
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime}

    def introspect(self, form: dict[str, str]) -> dict[str, Any]:
        owner = self.owner(form.get("token", ""))
        return {"active": True, "username": owner} if owner is not None else {"active": False}

    def __enter__(self) -> TokenServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path == "/token":
                status, body = server.grant(form)
            elif self.path == "/introspect":
                status, body = 200, server.introspect(form)
            else:
                status, body = 404, {"error": "not_found"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
