"""Dates and times as people in Britain write them, whatever their browser's language.

A browser's own date and time pickers (`<input type="date">`, `datetime-local`) show dates in
the order of the computer's locale: 7 December 2026 appears as 12/07/2026 in a browser set to
US English, and times gain an am/pm box. Every date a person types into the portal is therefore
a plain text box that shows "7 December 2026" and reads the ways people here write a date:

    7 December 2026, 7 Dec 2026, 07/12/2026, 7/12/2026, 7.12.2026, 7 12 2026, 2026-12-07

(ISO last, because links, tests and other programs post it). Slashed dates are always day
first: 12/07/2026 is 12 July. Times are on the 24-hour clock ("14:30"); "14.30", "1430" and
"2:30pm" are read too. A date and time is two boxes in a fieldset, as the GOV.UK date input
pattern groups its parts, and is taken in the portal's time zone (Europe/London), so that
"14:30" means 14:30 on the clocks here in summer (BST) and in winter (GMT) alike. It still reads
the single value the earlier datetime-local box posted ("2026-12-07T14:30").
"""

from __future__ import annotations

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html

MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DATE_HINT = "For example, 7 December 2026 or 07/12/2026."
DATETIME_HINT = "For example, 7 December 2026 or 07/12/2026, and 14:30 (24-hour clock)."
DATE_INVALID = "Enter a date like 7 December 2026 or 07/12/2026."
DATE_IMPOSSIBLE = "Enter a real date, for example 7 December 2026."
DATE_SHORT_YEAR = "Enter the year in full, for example 7 December 2026 or 07/12/2026."
DATE_DAY_FIRST = "Write the day before the month: 7 December 2026 is 07/12/2026."
TIME_INVALID = "Enter a time on the 24-hour clock, for example 14:30."
TIME_IMPOSSIBLE = "Enter a real time on the 24-hour clock, for example 14:30."
DATE_MISSING = "Enter the date, for example 7 December 2026."
TIME_MISSING = "Enter the time, for example 14:30."
DATETIME_MISSING = "Enter a date and a time, for example 7 December 2026 and 14:30."

_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_NUMBERS = re.compile(r"(\d{1,2})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d+)")
_DAY_MONTH = re.compile(
    r"(?:([a-z]+)\.?,?\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?[\s\-/]*([a-z]+)\.?,?[\s\-/]*(\d+)"
)
_MONTH_DAY = re.compile(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d+)")
_TIME = re.compile(r"(\d{1,2})(?:\s*[:.h]?\s*(\d{2}))?(?::(\d{2}))?(?:\s*([ap])\.?m\.?)?")
_TIME_WORDS = {"midday": datetime.time(12), "noon": datetime.time(12), "midnight": datetime.time()}


def date_display(value: datetime.date) -> str:
    """The date as "7 December 2026": the day without a leading zero, the month in full."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def time_display(value: datetime.time) -> str:
    """The time on the 24-hour clock: "14:30", "09:05"."""
    return f"{value:%H:%M}"


def _month(word: str) -> int | None:
    word = word.lower()
    for number, name in enumerate(MONTHS, start=1):
        name = name.lower()
        if word == name or word == name[:3] or (number == 9 and word == "sept"):
            return number
    return None


def _date(year: str, month: int | None, day: str, *, numeric: bool = False) -> datetime.date:
    if month is None:
        raise ValidationError(DATE_INVALID, code="invalid")
    if len(year) != 4:
        raise ValidationError(DATE_SHORT_YEAR, code="invalid")
    try:
        return datetime.date(int(year), month, int(day))
    except ValueError:
        # 12/31/2026: written month first. Say so rather than only "not a real date".
        if numeric and month > 12 and 1 <= int(day) <= 12:
            raise ValidationError(DATE_DAY_FIRST, code="invalid") from None
        raise ValidationError(DATE_IMPOSSIBLE, code="invalid") from None


def date_parse(text: str) -> datetime.date:
    """The date `text` writes, or ValidationError saying how to write one."""
    text = " ".join(text.strip().lower().split())
    if match := _ISO.fullmatch(text):
        year, month, day = match.groups()
        return _date(year, int(month), day)
    if match := _NUMBERS.fullmatch(text):
        day, month, year = match.groups()
        return _date(year, int(month), day, numeric=True)
    if match := _DAY_MONTH.fullmatch(text):
        weekday, day, month, year = match.groups()
        if weekday is None or weekday[:3] in WEEKDAYS:
            return _date(year, _month(month), day)
    if match := _MONTH_DAY.fullmatch(text):
        month, day, year = match.groups()
        return _date(year, _month(month), day)
    raise ValidationError(DATE_INVALID, code="invalid")


def time_parse(text: str) -> datetime.time:
    """The time `text` writes ("14:30", "14.30", "1430", "2:30pm", "midday"), or
    ValidationError."""
    text = " ".join(text.strip().lower().split())
    if text in _TIME_WORDS:
        return _TIME_WORDS[text]
    match = _TIME.fullmatch(text)
    # A bare number ("14") could be an hour or a mistyped time; only "2pm" reads as an hour.
    if match is None or (match.group(2) is None and match.group(4) is None):
        raise ValidationError(TIME_INVALID, code="invalid")
    hour, minute, second, half = match.groups()
    hour, minute, second = int(hour), int(minute or 0), int(second or 0)
    if half:
        if not 1 <= hour <= 12:
            raise ValidationError(TIME_IMPOSSIBLE, code="invalid")
        hour = hour % 12 + (12 if half == "p" else 0)
    try:
        return datetime.time(hour, minute, second)
    except ValueError:
        raise ValidationError(TIME_IMPOSSIBLE, code="invalid") from None


def _joined(help_text: str, hint: str) -> str:
    return f"{help_text} {hint}".strip()


class BritishDateInput(forms.TextInput):
    """A text box showing a date as "7 December 2026" (and what was typed, if it was wrong)."""

    def __init__(self, attrs=None):
        defaults = {"class": "date-input", "autocomplete": "off", "spellcheck": "false"}
        super().__init__({**defaults, **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, datetime.date):
            return date_display(value)
        return super().format_value(value)


class BritishTimeInput(forms.TextInput):
    """A text box showing a time on the 24-hour clock, as "14:30"."""

    def __init__(self, attrs=None):
        defaults = {"class": "time-input", "autocomplete": "off", "spellcheck": "false"}
        super().__init__({**defaults, **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, datetime.time):
            return time_display(value)
        return super().format_value(value)


class BritishDateField(forms.DateField):
    """A date typed the British way (see the module's docstring). Its help text ends with an
    example of how to write one."""

    widget = BritishDateInput
    default_error_messages = {"invalid": DATE_INVALID}

    def __init__(self, *, help_text="", **kwargs):
        super().__init__(help_text=_joined(help_text, DATE_HINT), **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        return date_parse(str(value))


class BritishTimeField(forms.TimeField):
    widget = BritishTimeInput
    default_error_messages = {"invalid": TIME_INVALID}

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.time):
            return value
        return time_parse(str(value))


def _split_datetime(text: str) -> list[str]:
    """A date and time posted as one value, as the earlier datetime-local box sent it
    ("2026-12-07T14:30") or typed in one ("07/12/2026 14:30"): its date and its time."""
    text = (text or "").strip()
    if iso := re.fullmatch(r"(\d{4}-\d{1,2}-\d{1,2})[tT ]\s*(.*)", text):
        return list(iso.groups())
    parts = text.rsplit(None, 1)
    return parts if len(parts) == 2 else [text, ""]


class BritishDateTimeWidget(forms.MultiWidget):
    """A date box and a 24-hour time box, each with its own label, inside the field's fieldset
    (its legend is the field's label). POSTed as `<name>_0` and `<name>_1`; a single `<name>`,
    as posted before, is still read."""

    use_fieldset = True

    def __init__(self, attrs=None):
        super().__init__([BritishDateInput(), BritishTimeInput()], attrs)

    def decompress(self, value):
        if value is None:
            return [None, None]
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return [value.date(), value.time().replace(microsecond=0)]

    def value_from_datadict(self, data, files, name):
        parts = [f"{name}_{i}" for i in range(len(self.widgets))]
        if name in data and not any(part in data for part in parts):
            return _split_datetime(data.get(name))
        return super().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data, files, name):
        return name not in data and super().value_omitted_from_data(data, files, name)

    def render(self, name, value, attrs=None, renderer=None):
        subwidgets = self.get_context(name, value, attrs)["widget"]["subwidgets"]
        parts = [
            format_html(
                '<div class="date-time-part"><label for="{}">{}</label>{}</div>',
                sub["attrs"].get("id", ""),
                label,
                widget.render(sub["name"], sub["value"], sub["attrs"], renderer),
            )
            for label, widget, sub in zip(("Date", "Time"), self.widgets, subwidgets, strict=True)
        ]
        return format_html('<div class="date-time">{}{}</div>', *parts)


class BritishDateTimeField(forms.MultiValueField):
    """A moment in time, typed as a British date and a 24-hour time in the portal's time zone.
    Its help text gives an example of each."""

    widget = BritishDateTimeWidget
    default_error_messages = {"required": DATETIME_MISSING}

    def __init__(self, *, help_text="", **kwargs):
        fields = (
            BritishDateField(error_messages={"incomplete": DATE_MISSING, "required": DATE_MISSING}),
            BritishTimeField(error_messages={"incomplete": TIME_MISSING, "required": TIME_MISSING}),
        )
        super().__init__(
            fields, require_all_fields=False, help_text=_joined(help_text, DATETIME_HINT), **kwargs
        )

    def compress(self, data_list):
        if not data_list or None in data_list[:2]:
            return None
        day, time = data_list[:2]
        return local_datetime(day, time)


def local_datetime(day: datetime.date, time: datetime.time) -> datetime.datetime:
    """The moment the clocks here show `time` on `day`, or ValidationError on the night the
    clocks go forward, whose missing hour never happens. In the hour that happens twice, when
    the clocks go back, the first (summer time) is meant."""
    zone = timezone.get_current_timezone()
    naive = datetime.datetime.combine(day, time)
    moment = naive.replace(tzinfo=zone, fold=0)
    if moment.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValidationError(
            f"There is no {time_display(time)} on {date_display(day)}: the clocks go forward an "
            "hour that night. Choose another time.",
            code="imaginary",
        )
    # In UTC: a local time in the repeated hour is never equal (==) to any time in another
    # zone (PEP 495), which would surprise whoever compares it.
    return moment.astimezone(datetime.UTC)
