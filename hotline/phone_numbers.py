"""Phone numbers: normalise to E.164 with `phonenumbers`, and mask them for logs."""
from __future__ import annotations

import hashlib
import hmac

import phonenumbers

WITHHELD = {"", "anonymous", "unknown", "restricted", "private", "unavailable"}


def normalise(raw: str | None, region: str = "BG") -> str | None:
    """E.164 form of `raw`, or None when it is withheld, garbage or not a valid number."""
    if raw is None or raw.strip().lower().lstrip("+") in WITHHELD:
        return None
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(number: str | None, key: str) -> str:
    """A log-safe stand-in: the country code and a short keyed hash, never the number itself.

    The hash tells repeat callers apart in the logs; it is keyed (HMAC with SECRET_KEY) because a
    plain hash of a phone number is undone by hashing every possible number.
    """
    if not number:
        return "withheld"
    digest = hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()[:8]
    try:
        country = f"+{phonenumbers.parse(number, None).country_code}"
    except phonenumbers.NumberParseException:
        country = "?"
    return f"{country}…#{digest}"


def caller_key(number: str | None, key: str) -> str | None:
    """The pseudonymous key of a caller's number (E.164): a keyed hash (HMAC-SHA256 with
    SECRET_KEY, 32 hex digits) that links a caller's calls for staff who may not see the number;
    None for a withheld number. Keyed, like mask(), so that it cannot be undone by hashing every
    possible number; the number itself is not needed again to compare two calls."""
    if not number:
        return None
    return hmac.new(key.encode(), b"caller:" + number.encode(), hashlib.sha256).hexdigest()[:32]
