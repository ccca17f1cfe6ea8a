"""Kinds of council control in plain English, shared by the dashboard and the composer."""

import csv
from pathlib import Path

import pytest
from factories import CouncilFactory

from regions import control
from regions.models import Council

DATA = Path(control.__file__).parent / "data" / "councils.csv"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("lab_minority", "lab_minority"),
        ("con", "con"),  # a choice's own code: Conservative majority
        ("LAB", "LAB"),
        ("lab", "LAB"),
        (" GRN ", "GRN"),
        ("grn", "grn"),  # Green majority
        ("Labour", "LAB"),
        ("green", "GRN"),
        ("Liberal Democrat", "LD"),
        ("Labour-ish", None),
        ("", None),
    ],
)
def test_control_written_by_hand_is_read_as_a_choice(text, code):
    assert control.control_code_from_text(text) == code


def test_choices_present_follow_the_usual_order_once_each():
    labels = ["CON", "LAB min", "LAB", "LD/GRN", "LAB", "TBC", ""]
    assert control.control_choices_present(labels) == [
        ("lab_majority", "Labour majority"),
        ("lab_minority", "Labour minority"),
        ("noc", "No overall control, Labour not running it"),
        ("con", "Conservative majority"),
        ("other", "Other (a local party, to be confirmed, or not recorded)"),
    ]


@pytest.mark.django_db
def test_each_real_control_label_is_matched_by_the_filter_of_its_one_choice():
    labels = sorted({row["control"] for row in csv.DictReader(DATA.open(encoding="utf-8"))})
    for label in labels:
        CouncilFactory(control=label)
    for code, _name in control.CONTROL_CHOICES:
        matched = set(
            Council.objects.filter(control.control_filter([code], field="control")).values_list(
                "control", flat=True
            )
        )
        assert matched == {label for label in labels if control.control_choice(label) == code}
