"""Equality-monitoring totals that cannot be unpicked.

Each question's answers are a table whose counts add up to the number of people who gave
answers, which is shown. A count below SMALL_COUNT (but not nought) could point to a person, so
it is hidden; and since a table with one hidden count would give it away (the total minus the
counts shown), a second count is hidden with it: the smallest of the others. This is secondary
suppression, as the Office for National Statistics practises it. Every hidden count is shown
the same way, so nobody can tell which was small and which was hidden to protect it.
"""

from django.db.models import Count
from django.db.models.fields.json import KT

from members.forms.profile import EQUALITY_QUESTIONS, PREFER_NOT

SMALL_COUNT = 5


def counts_to_hide(counts: list[int]) -> set[int]:
    """The positions of the counts in one table that must not be shown."""
    hidden = {i for i, n in enumerate(counts) if 0 < n < SMALL_COUNT}
    if len(hidden) == 1:
        shown = sorted((n, i) for i, n in enumerate(counts) if i not in hidden)
        if shown:
            hidden.add(shown[0][1])
    return hidden


def equality_tables(answers) -> list[dict]:
    """For each question: its label and rows of (answer, count or None where it is hidden)."""
    tables = []
    for key, (label, choices) in EQUALITY_QUESTIONS.items():
        found = dict(
            answers.annotate(answer=KT(f"answers__{key}"))
            .values_list("answer")
            .annotate(n=Count("pk"))
            .values_list("answer", "n")
        )
        labels = [text for _value, text in [*choices, PREFER_NOT]] + ["Not answered"]
        counts = [found.get(value, 0) for value, _text in [*choices, PREFER_NOT]]
        counts.append(found.get(None, 0))
        hidden = counts_to_hide(counts)
        rows = [
            (text, None if i in hidden else count)
            for i, (text, count) in enumerate(zip(labels, counts, strict=True))
        ]
        tables.append({"key": key, "label": label, "rows": rows})
    return tables
