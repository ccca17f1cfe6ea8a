"""The one rule for phone numbers, used by every form and import that takes one (and, at the
end, the one rule for dates people type).

A number may hold digits, spaces, brackets and hyphens, with an optional + at the start, and
must have 10 to 15 digits. Every UK number written in full has 10 or 11 digits with its leading
0 (020 7946 0000, 01632 960 001, 0800 123 456) and 11 to 13 with +44; 15 is the longest
international number there is (ITU-T E.164). A number short enough to be missing its area code
or country code is refused, because nobody could ring it from elsewhere.

Numbers saved under older, looser rules may not pass. Forms accept such a number when it comes
back unchanged, so it does not block saving anything else, and say next to the field that it
needs correcting.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone

PHONE_MAX = 30
PHONE_DIGITS_MIN = 10
PHONE_DIGITS_MAX = 15
PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()\-]+$")
PHONE_MESSAGE = (
    "Enter a phone number using digits, spaces and + ( ) - only, with "
    f"{PHONE_DIGITS_MIN} to {PHONE_DIGITS_MAX} digits, for example 020 7946 0000 or "
    "+44 20 7946 0000."
)
PHONE_STORED_MESSAGE = (
    "The phone number we hold does not look complete or valid. Please correct it: use digits, "
    "spaces and + ( ) - only, with "
    f"{PHONE_DIGITS_MIN} to {PHONE_DIGITS_MAX} digits, for example 020 7946 0000."
)


def phone_normalise(value: str | None) -> str:
    """The number with runs of whitespace made single spaces and the ends trimmed."""
    return " ".join((value or "").split())


def phone_is_valid(value: str | None) -> bool:
    value = phone_normalise(value)
    if not value:
        return True
    digits = sum(ch.isdigit() for ch in value)
    return (
        len(value) <= PHONE_MAX
        and PHONE_CHARACTERS.match(value) is not None
        and PHONE_DIGITS_MIN <= digits <= PHONE_DIGITS_MAX
    )


def phone_validate(value: str | None, *, stored: str | None = None) -> str:
    """The number, tidied, or ValidationError. Blank means no number.

    `stored` is the number already saved: sent back unchanged it is kept even if it breaks the
    rule, so that an old number does not stop someone saving another change.
    """
    value = phone_normalise(value)
    if stored and value == phone_normalise(stored):
        return value
    if not phone_is_valid(value):
        raise ValidationError(PHONE_MESSAGE, code="phone")
    return value


def phone_needs_correcting(stored: str | None) -> bool:
    """Whether a saved number breaks the rule (and a form should say so next to the field)."""
    return not phone_is_valid(stored)


# Dates. A mistyped year (2206, 1026, 0001) is accepted by every date field and then stops other
# rules working: a term that cannot end before it starts, an office nobody can hand on. Every
# date a person types is therefore held to a plausible range.

DATE_EARLIEST = datetime.date(1900, 1, 1)


def years_from_today(years: int) -> datetime.date:
    """The date this many years after today (28 February for a 29 February in another year)."""
    today = timezone.localdate()
    try:
        return today.replace(year=today.year + years)
    except ValueError:
        return today.replace(year=today.year + years, day=28)


def date_validate(
    value: datetime.date | None,
    *,
    latest: datetime.date,
    earliest: datetime.date = DATE_EARLIEST,
    what: str = "date",
) -> datetime.date | None:
    """The date, or ValidationError if it falls outside earliest..latest. None means no date."""
    if value is not None and not earliest <= value <= latest:
        raise ValidationError(
            f"Enter a {what} between {earliest:%-d %B %Y} and {latest:%-d %B %Y}. Check the year.",
            code="date_range",
        )
    return value
