"""Time zones as people write them (pure): "Europe/Paris", "UK", "London", "CET", "New York".

Names become IANA keys: an exact key in any case, a common name or abbreviation
from our short list, or a city that ends exactly one key ("paris" -> Europe/Paris).
"""
from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

COMMON = {
    "uk": "Europe/London", "gb": "Europe/London", "britain": "Europe/London", "great britain": "Europe/London",
    "england": "Europe/London", "scotland": "Europe/London", "wales": "Europe/London", "bst": "Europe/London",
    "gmt": "Europe/London", "uk time": "Europe/London", "british time": "Europe/London", "ireland": "Europe/Dublin",
    "ist": "Europe/Dublin", "northern ireland": "Europe/London", "cet": "Europe/Paris", "cest": "Europe/Paris",
    "central european": "Europe/Paris", "central european time": "Europe/Paris", "eet": "Europe/Athens",
    "eest": "Europe/Athens", "wet": "Europe/Lisbon", "utc": "UTC", "z": "UTC", "est": "America/New_York",
    "edt": "America/New_York", "et": "America/New_York", "eastern": "America/New_York", "cst": "America/Chicago",
    "central": "America/Chicago", "mst": "America/Denver", "mountain": "America/Denver",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles", "india": "Asia/Kolkata", "germany": "Europe/Berlin",
    "france": "Europe/Paris", "spain": "Europe/Madrid", "netherlands": "Europe/Amsterdam",
    "aest": "Australia/Sydney", "nz": "Pacific/Auckland", "new zealand": "Pacific/Auckland",
}
EXAMPLE = "Time zone: Europe/London (or UK, CET, New York)"


@lru_cache(maxsize=1)
def _known() -> dict[str, str]:
    """Lower-case key -> key, and each city that ends a single key ("new york" -> America/New_York)."""
    keys = sorted(available_timezones())
    known = {key.lower(): key for key in keys}
    cities: dict[str, list[str]] = {}
    for key in keys:
        if "/" in key and not key.startswith(("Etc/", "SystemV/")):
            cities.setdefault(key.rsplit("/", 1)[1].replace("_", " ").lower(), []).append(key)
    for city, found in cities.items():
        if len(found) == 1 or any(k.startswith(("Europe/", "America/", "Asia/")) for k in found):
            known.setdefault(city, next((k for k in found if k.split("/")[0] in ("Europe", "America", "Asia")),
                                        found[0]))
    return known


def parse_time_zone(text: str) -> str | None:
    """The IANA key for `text`, or None when we do not know it."""
    cleaned = " ".join(text.lower().replace("_", " ").split()).removesuffix(" time").strip(" .")
    if not cleaned or len(cleaned) > 64:
        return None
    key = COMMON.get(cleaned) or _known().get(cleaned) or _known().get(cleaned.replace(" ", "_"))
    return key if key and _usable(key) else None


def _usable(key: str) -> bool:
    try:
        ZoneInfo(key)
    except (ValueError, OSError):
        return False
    return True


def zone_of(key: str, default: ZoneInfo) -> ZoneInfo:
    """The stored key as a zone; "" or a key no longer known gives the service's."""
    return ZoneInfo(key) if key and _usable(key) else default


def zone_label(zone: ZoneInfo) -> str:
    """"London time", "New York time", "UTC": how each time in an email names its zone."""
    key = str(zone.key)
    if "/" not in key:
        return key
    return key.rsplit("/", 1)[1].replace("_", " ") + " time"
