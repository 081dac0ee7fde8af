"""Phone numbers: one normal form (E.164) for search, one masked form for the screen.

Finnish defaults: `040 123 4567`, `+358401234567` and `00358401234567` are one
number. Parsing is `phonenumbers`'; this module only fixes the region and says
what is wrong in one line.
"""

from __future__ import annotations

import phonenumbers

from kaiku_tui.errors import UsageError

DEFAULT_REGION = "FI"
_MASK = "\u2022"  # •


def normalise(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return the E.164 form of `raw`, or raise UsageError naming it."""
    text = raw.strip()
    if text.startswith("00"):
        # The international prefix from Finland (and most of Europe).
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise UsageError(f"phone number {raw!r} is not a phone number ({exc})") from None
    if not phonenumbers.is_possible_number(number):
        raise UsageError(f"phone number {raw!r} has the wrong length for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_normalise(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164, or None for an anonymous, withheld or unusable number (importers)."""
    try:
        return normalise(raw, region)
    except UsageError:
        return None


def mask(e164: str | None) -> str:
    """`+358 40 ••• ••67`: country and operator prefix, and the last two digits."""
    if not e164:
        return ""
    head, rest = _split(e164)
    hidden = _MASK * (len(rest) - 2) + rest[-2:]
    return f"{head} {_group(hidden)}"


def display(e164: str) -> str:
    """The whole number, grouped as the masked form is: `+358 40 123 4567`."""
    head, rest = _split(e164)
    return f"{head} {_group(rest)}"


def _split(e164: str) -> tuple[str, str]:
    """(`+358 40`, `1234567`): the part that identifies no one, and the subscriber part."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "", e164.lstrip("+")
    nsn = phonenumbers.national_significant_number(number)
    ndc = phonenumbers.length_of_national_destination_code(number)
    head = f"+{number.country_code}" + (f" {nsn[:ndc]}" if ndc else "")
    return head, nsn[ndc:]


def _group(digits: str) -> str:
    return f"{digits[:3]} {digits[3:]}" if len(digits) > 4 else digits
