"""May this message change its sender's settings without a confirmation round-trip? (pure)

Yes when it carries a token of ours that belongs to the sender, or when our own
receiving server (a configured authserv-id, the first word of an
Authentication-Results header) says DMARC or an aligned DKIM signature passed.
Authentication-Results added by anyone else are ignored: they are trivial to forge.
"""
from __future__ import annotations

import re

_RESULT = re.compile(r"\b(dmarc|dkim)=pass\b[^;]*", re.IGNORECASE)
_DOMAIN = re.compile(r"header\.(?:d|i|from)=@?([\w.-]+)", re.IGNORECASE)


def authenticated(auth_results: list[str], sender: str, trusted_ids: str) -> bool:
    trusted = {t.strip().lower() for t in trusted_ids.split(",") if t.strip()}
    domain = sender.rpartition("@")[2].lower()
    if not trusted or not domain:
        return False
    for header in auth_results:
        authserv = header.split(";", 1)[0].split()[0].lower() if header.strip() else ""
        if authserv in trusted and _passes_for(header, domain):
            return True
    return False


def _passes_for(header: str, domain: str) -> bool:
    for result in _RESULT.finditer(header):
        signer = _DOMAIN.search(result.group(0))
        if signer and (signer.group(1).lower() == domain or domain.endswith("." + signer.group(1).lower())):
            return True
    return False
