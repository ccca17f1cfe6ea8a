"""Attack on the equality-monitoring totals: working out a hidden count from those shown.

Each table's counts add up to the number of people who answered, which the page shows. The test
reads the page as a visitor would, then tries every subtraction: the total minus every set of
counts shown in a table. A hidden count is given away when such a difference is certain to be
that count alone, that is when everything left over is that one hidden cell."""

import html
import itertools
import random
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from factories import StaffFactory, UserFactory

from members.equality import SMALL_COUNT, counts_to_hide
from members.forms.profile import EQUALITY_QUESTIONS, PREFER_NOT
from members.models import EqualityMonitoring, User

pytestmark = pytest.mark.django_db

TABLE = re.compile(r"<caption[^>]*>(.*?)</caption>(.*?)</table>", re.S)
ROW = re.compile(r'<th scope="row">(.*?)</th><td class="num">(.*?)</td>', re.S)


def _answers(rng: random.Random) -> dict:
    """One person's answers, skewed so that most tables have small groups."""
    answers = {}
    for key, (_label, choices) in EQUALITY_QUESTIONS.items():
        values = [value for value, _text in [*choices, PREFER_NOT]] + [None]
        weights = [rng.choice([1, 1, 2, 12]) for _ in values]
        value = rng.choices(values, weights)[0]
        if value is not None:
            answers[key] = value
    return answers


def _read_page(client):
    text = client.get(reverse("decisions_equality")).text
    total = int(re.search(r"<p>(\d+) members? have given answers", text).group(1))
    tables = {}
    for caption, body in TABLE.findall(text):
        tables[html.unescape(caption)] = [
            (html.unescape(label), None if value == "hidden" else int(value))
            for label, value in ROW.findall(body)
        ]
    return total, tables


def _true_counts(label) -> dict:
    key = next(k for k, (text, _c) in EQUALITY_QUESTIONS.items() if text == label)
    _label, choices = EQUALITY_QUESTIONS[key]
    counts = {text: 0 for _v, text in [*choices, PREFER_NOT]} | {"Not answered": 0}
    names = dict([*choices, PREFER_NOT])
    for answers in EqualityMonitoring.objects.values_list("answers", flat=True):
        value = answers.get(key)
        counts[names[value] if value else "Not answered"] += 1
    return counts


def _given_away(total, rows, truth) -> list[str]:
    shown = [(label, n) for label, n in rows if n is not None]
    hidden = [label for label, n in rows if n is None]
    found = []
    for size in range(len(shown) + 1):
        for subtracted in itertools.combinations(shown, size):
            difference = total - sum(n for _label, n in subtracted)
            rest = [label for label, _n in rows if (label, _n) not in subtracted]
            # The difference is the sum of the cells not subtracted: it gives a hidden cell away
            # only when that cell is all that is left.
            if len(rest) == 1 and rest[0] in hidden:
                assert difference == truth[rest[0]]
                found.append(rest[0])
    return found


@pytest.fixture
def equality_client(client):
    staff = StaffFactory()
    staff.user_permissions.add(Permission.objects.get(codename="view_equality_monitoring"))
    client.force_login(User.objects.get(pk=staff.pk))
    return client


@pytest.mark.parametrize("seed", range(12))
def test_no_hidden_count_can_be_worked_out_from_those_shown(equality_client, seed):
    rng = random.Random(seed)
    people = rng.randint(1, 40)
    for _ in range(people):
        EqualityMonitoring.objects.create(
            user=UserFactory(), consented_at=timezone.now(), answers=_answers(rng)
        )
    total, tables = _read_page(equality_client)
    assert total == people
    assert len(tables) == len(EQUALITY_QUESTIONS)
    for label, rows in tables.items():
        truth = _true_counts(label)
        assert sum(truth.values()) == total
        for answer, count in rows:
            if count is not None:
                assert count == truth[answer]
            if 0 < truth[answer] < SMALL_COUNT:
                assert count is None, f"{label}: {answer} ({truth[answer]}) is shown"
        assert _given_away(total, rows, truth) == [], label


def test_a_lone_small_count_takes_the_smallest_other_with_it():
    assert counts_to_hide([40, 3, 12, 0]) == {1, 3}
    assert counts_to_hide([40, 3, 2, 0]) == {1, 2}
    assert counts_to_hide([40, 30, 12, 9]) == set()
