"""May this message change its sender's settings without a confirmation round-trip? (pure)

Yes when it carries a token of ours that belongs to the sender, or when our own
receiving server (a configured authserv-id, the first word of an
Authentication-Results header) says DMARC or an aligned DKIM signature passed.
Authentication-Results added by anyone else are ignored: they are trivial to forge.
The same server's DMARC failure unmasks a group member writing in another member's name.
"""
from __future__ import annotations

import re

_RESULT = re.compile(r"\b(dmarc|dkim)=pass\b[^;]*", re.IGNORECASE)
_DMARC_FAIL = re.compile(r"\bdmarc=fail\b[^;]*", re.IGNORECASE)
_DOMAIN = re.compile(r"header\.(?:d|i|from)=@?([\w.-]+)", re.IGNORECASE)


def authenticated(auth_results: list[str], sender: str, trusted_ids: str) -> bool:
    domain = sender.rpartition("@")[2].lower()
    return bool(domain) and any(_passes_for(header, domain) for header in _ours(auth_results, trusted_ids))


def dmarc_failed(auth_results: list[str], sender: str, trusted_ids: str) -> bool:
    """Our server found the From address's domain failing DMARC: the sender is not who it says."""
    domain = sender.rpartition("@")[2].lower()
    return bool(domain) and any(_signer_is(m.group(0), domain) for header in _ours(auth_results, trusted_ids)
                                for m in _DMARC_FAIL.finditer(header))


def _ours(auth_results: list[str], trusted_ids: str) -> list[str]:
    """The headers written by one of our configured servers (named first, as the authserv-id)."""
    trusted = {t.strip().lower() for t in trusted_ids.split(",") if t.strip()}
    return [h for h in auth_results if h.strip() and h.split(";", 1)[0].split()[0].lower() in trusted]


def _passes_for(header: str, domain: str) -> bool:
    return any(_signer_is(result.group(0), domain) for result in _RESULT.finditer(header))


def _signer_is(result: str, domain: str) -> bool:
    signer = _DOMAIN.search(result)
    return bool(signer) and (signer.group(1).lower() == domain or domain.endswith("." + signer.group(1).lower()))
