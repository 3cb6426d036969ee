"""Normalising organisations into keys that compare equal when they should.

A stated organisation wins: its key is the name with case and runs of
whitespace ignored. Without one, the organisation is inferred from the email
domain, trimmed to the part that names the organisation: for a known
public-sector or national suffix (``gov.uk``, ``nhs.uk``, ``co.uk``...) one
label before it, otherwise the last two labels. So
``ana@digital.cabinet-office.gov.uk`` and ``bo@cabinet-office.gov.uk`` share
``cabinet-office.gov.uk``, and ``cy@mail.example.org`` becomes ``example.org``.
"""
from __future__ import annotations

MULTI_LABEL_SUFFIXES = frozenset({
    "gov.uk", "nhs.uk", "police.uk", "mod.uk", "parliament.uk", "ac.uk",
    "sch.uk", "org.uk", "co.uk", "ltd.uk", "plc.uk", "me.uk", "gov.scot",
    "gov.wales", "llyw.cymru", "gov.ie", "gc.ca", "gov.au", "govt.nz",
    "gov.in", "europa.eu",
})


def organisation_key(organisation: str | None, email: str) -> str:
    """The key under which two people count as the same organisation."""
    name = " ".join((organisation or "").split()).casefold()
    if name:
        return name
    return email_domain_key(email)


def email_domain_key(email: str) -> str:
    """The organisation part of an email's domain (see the module docstring)."""
    _, at, domain = email.strip().rpartition("@")
    labels = [label for label in domain.casefold().strip(".").split(".") if label]
    if not at or not labels:
        raise ValueError(f"cannot infer an organisation from {email!r}")
    keep = 3 if ".".join(labels[-2:]) in MULTI_LABEL_SUFFIXES else 2
    return ".".join(labels[-keep:])
