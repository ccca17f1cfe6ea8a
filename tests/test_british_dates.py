"""Dates typed and shown the British way ("7 December 2026", "07/12/2026") and times on the
24-hour clock in the portal's time zone, whatever the browser's language."""

import datetime
import re

import pytest
from django import forms
from django.template.loader import render_to_string

from alc_portal.dates import (
    DATE_DAY_FIRST,
    DATE_HINT,
    DATE_IMPOSSIBLE,
    DATE_INVALID,
    DATE_SHORT_YEAR,
    DATETIME_MISSING,
    TIME_IMPOSSIBLE,
    TIME_INVALID,
    TIME_MISSING,
    BritishDateField,
    BritishDateTimeField,
)
from alc_portal.forms import DescribedFieldsMixin

DECEMBER_7 = datetime.date(2026, 12, 7)
UTC = datetime.UTC


class DateForm(DescribedFieldsMixin, forms.Form):
    day = BritishDateField(label="Start date", help_text="No more than a year ahead.")


class OptionalDateForm(forms.Form):
    day = BritishDateField(label="From", required=False)


class WhenForm(DescribedFieldsMixin, forms.Form):
    when = BritishDateTimeField(label="Send at")


def _input(html: str, name: str) -> str:
    return re.search(rf'<input\b[^>]*\bname="{name}"[^>]*>', html).group(0)


def _errors(form, name) -> list[str]:
    assert not form.is_valid()
    return form.errors[name]


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "7 December 2026",
        "7 Dec 2026",
        "07/12/2026",
        "7/12/2026",
        "2026-12-07",
        "  7  december  2026 ",
        "7th December 2026",
        "Monday 7 December 2026",
        "7-Dec-2026",
        "7.12.2026",
        "December 7, 2026",
    ],
)
def test_it_reads_each_way_of_writing_a_date(typed):
    form = DateForm({"day": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == DECEMBER_7


def test_slashed_dates_are_always_day_first():
    form = DateForm({"day": "12/07/2026"})
    assert form.is_valid()
    assert form.cleaned_data["day"] == datetime.date(2026, 7, 12)


def test_it_shows_a_date_as_day_month_name_and_year_in_a_plain_text_box():
    html = str(DateForm(initial={"day": DECEMBER_7})["day"])
    assert 'type="text"' in html
    assert 'value="7 December 2026"' in html
    assert 'autocomplete="off"' in html
    assert 'type="date"' not in html
    march = DateForm(initial={"day": datetime.date(2027, 3, 2)})
    assert 'value="2 March 2027"' in str(march["day"])


def test_a_date_typed_wrongly_comes_back_as_it_was_typed():
    form = DateForm({"day": "31/02/2026"})
    assert not form.is_valid()
    assert 'value="31/02/2026"' in str(form["day"])


def test_the_hint_gives_british_examples_after_the_fields_own_help_and_is_announced():
    form = DateForm()
    assert form.fields["day"].help_text == f"No more than a year ahead. {DATE_HINT}"
    assert DATE_HINT == "For example, 7 December 2026 or 07/12/2026."
    field = _input(str(form["day"]), "day")
    assert 'aria-describedby="id_day_helptext"' in field


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31/02/2026", DATE_IMPOSSIBLE),
        ("31 February 2026", DATE_IMPOSSIBLE),
        ("0/12/2026", DATE_IMPOSSIBLE),
        ("12/31/2026", DATE_DAY_FIRST),
        ("7/12/26", DATE_SHORT_YEAR),
        ("7 Dec 26", DATE_SHORT_YEAR),
        ("next Tuesday", DATE_INVALID),
        ("7 Decembre 2026", DATE_INVALID),
        ("December 2026", DATE_INVALID),
    ],
)
def test_it_refuses_dates_that_are_not_real_or_not_readable_and_says_how_to_write_one(
    typed, message
):
    assert _errors(DateForm({"day": typed}), "day") == [message]


def test_the_refusal_messages_read_well():
    assert DATE_IMPOSSIBLE == "Enter a real date, for example 7 December 2026."
    assert DATE_DAY_FIRST == "Write the day before the month: 7 December 2026 is 07/12/2026."


def test_an_optional_date_may_be_left_blank():
    form = OptionalDateForm({"day": " "})
    assert form.is_valid()
    assert form.cleaned_data["day"] is None


def test_an_invalid_date_is_marked_invalid_and_pointed_at_its_error():
    form = DateForm({"day": "nonsense"})
    assert not form.is_valid()
    field = _input(str(form["day"]), "day")
    assert 'aria-invalid="true"' in field
    assert 'aria-describedby="id_day_helptext id_day_error"' in field


# --- dates with times -------------------------------------------------------------------------


def test_a_date_and_a_24_hour_time_in_winter_are_greenwich_mean_time():
    form = WhenForm({"when_0": "07/12/2026", "when_1": "14:30"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["when"] == datetime.datetime(2026, 12, 7, 14, 30, tzinfo=UTC)


def test_a_date_and_a_24_hour_time_in_summer_are_british_summer_time():
    form = WhenForm({"when_0": "1 July 2026", "when_1": "14:30"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["when"] == datetime.datetime(2026, 7, 1, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "day", "time"),
    [
        (datetime.datetime(2026, 12, 7, 14, 30, tzinfo=UTC), "7 December 2026", "14:30"),
        (datetime.datetime(2026, 7, 1, 13, 30, tzinfo=UTC), "1 July 2026", "14:30"),
        (datetime.datetime(2026, 7, 1, 8, 5, tzinfo=UTC), "1 July 2026", "09:05"),
        # Just before midnight in London is the next day's date there.
        (datetime.datetime(2026, 6, 30, 23, 15, tzinfo=UTC), "1 July 2026", "00:15"),
    ],
)
def test_it_shows_a_moment_as_the_clocks_here_show_it_on_the_24_hour_clock(moment, day, time):
    html = str(WhenForm(initial={"when": moment})["when"])
    assert f'value="{day}"' in _input(html, "when_0")
    assert f'value="{time}"' in _input(html, "when_1")


@pytest.mark.parametrize(
    "data",
    [
        {"when": "2026-12-07T14:30"},
        {"when": "2026-12-07 14:30"},
        {"when": "2026-12-07 14:30:00"},
        {"when": "2026-12-7T14:30"},
        {"when": "07/12/2026 14:30"},
        {"when": "7 December 2026 14:30"},
        {"when_0": "2026-12-07", "when_1": "14:30"},
        {"when_0": "7 Dec 2026", "when_1": "14.30"},
        {"when_0": "7 December 2026", "when_1": "1430"},
        {"when_0": "7 December 2026", "when_1": "2:30pm"},
    ],
)
def test_it_reads_the_single_value_posted_before_and_the_two_boxes(data):
    form = WhenForm(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["when"] == datetime.datetime(2026, 12, 7, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"when_0": "7 December 2026", "when_1": "25:00"}, TIME_IMPOSSIBLE),
        ({"when_0": "7 December 2026", "when_1": "14:60"}, TIME_IMPOSSIBLE),
        ({"when_0": "7 December 2026", "when_1": "13pm"}, TIME_IMPOSSIBLE),
        ({"when_0": "7 December 2026", "when_1": "14"}, TIME_INVALID),
        ({"when_0": "7 December 2026", "when_1": "teatime"}, TIME_INVALID),
        ({"when_0": "7 December 2026", "when_1": ""}, TIME_MISSING),
        ({"when_0": "7 December 2026", "when_1": "  "}, TIME_MISSING),
        ({"when_0": "", "when_1": "14:30"}, "Enter the date, for example 7 December 2026."),
        ({"when_0": "", "when_1": ""}, DATETIME_MISSING),
        ({"when_0": "31/11/2026", "when_1": "14:30"}, DATE_IMPOSSIBLE),
        ({"when": "2026-12-07T25:00"}, TIME_IMPOSSIBLE),
    ],
)
def test_it_refuses_times_and_dates_that_are_not_real_or_missing(data, message):
    assert _errors(WhenForm(data), "when") == [message]


def test_the_hour_skipped_when_the_clocks_go_forward_is_refused():
    # 29 March 2026: the clocks go from 01:00 GMT straight to 02:00 BST.
    form = WhenForm({"when_0": "29 March 2026", "when_1": "01:30"})
    assert _errors(form, "when") == [
        "There is no 01:30 on 29 March 2026: the clocks go forward an hour that night. "
        "Choose another time."
    ]


def test_the_hour_repeated_when_the_clocks_go_back_means_the_first_one():
    # 25 October 2026: 01:30 happens in BST, then again in GMT.
    form = WhenForm({"when_0": "25 October 2026", "when_1": "01:30"})
    assert form.is_valid()
    assert form.cleaned_data["when"] == datetime.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_the_date_and_time_boxes_each_have_a_label_and_share_the_hint_and_error():
    form = WhenForm({"when_0": "7 December 2026", "when_1": "25:00"})
    assert not form.is_valid()
    html = str(form["when"])
    assert '<label for="id_when_0">Date</label>' in html
    assert '<label for="id_when_1">Time</label>' in html
    for name in ("when_0", "when_1"):
        field = _input(html, name)
        assert 'type="text"' in field
        assert 'aria-describedby="id_when_helptext id_when_error"' in field
    assert 'value="25:00"' in _input(html, "when_1")
    assert "datetime-local" not in html


def test_the_field_is_a_fieldset_whose_legend_is_its_label():
    html = render_to_string("includes/field.html", {"field": WhenForm()["when"]})
    assert re.search(r"<fieldset[^>]*>\s*<legend>Send at</legend>", html)
    assert '<p class="help" id="id_when_helptext">' in html
    assert "24-hour clock" in html


def test_the_error_summary_links_to_the_date_box():
    form = WhenForm({"when_0": "", "when_1": ""})
    assert not form.is_valid()
    summary = render_to_string("members/error_summary.html", {"form": form})
    assert f'<a href="#id_when_0">Send at: {DATETIME_MISSING}</a>' in summary
    assert 'id="id_when_0"' in str(form["when"])
    date_form = DateForm({"day": "nonsense"})
    assert not date_form.is_valid()
    summary = render_to_string("members/error_summary.html", {"form": date_form})
    assert '<a href="#id_day">' in summary
