"""Sanity checks every import's preview makes: warnings, never refusals, about rows that look
unlikely though nothing forbids them (see SanityChecks)."""

from __future__ import annotations

import difflib
from collections import Counter

from django.db.models import Count

from members.models import Councillor
from regions.names import name_words


def councillor_sanity_check(found) -> None:
    """Warn (never refuse) where the rows that would be written look unlikely: see
    SanityChecks."""
    checks = SanityChecks({council.pk for _row, council, _existing in found} | {
        existing.council_id for _row, _council, existing in found if existing is not None
    })  # fmt: skip
    for row, council, existing in found:
        changes = row["changes"]
        if row["action"] == "create":
            checks.joins(row, council)
            checks.ward(row, council, row["ward"])
        elif row["action"] == "update":
            if "council" in changes:
                checks.joins(row, council)
                if existing.left_on is None:
                    checks.leaves(existing.council_id)
            elif "left_on" in changes:
                checks.joins(row, council)
            if "council" in changes or "ward" in changes:
                checks.ward(row, council, row["ward"])
    checks.finish()


def ward_key(ward: str) -> str:
    """A ward's name as compared: as council names are (case, accents, "&", hyphens), and
    without a closing "Ward" or "Division"."""
    words = name_words(ward)
    while len(words) > 1 and words[-1] in ("ward", "division"):
        words = words[:-1]
    return "".join(words)


def _warn(row: dict, message: str) -> None:
    row.setdefault("warnings", []).append(message)


class SanityChecks:
    """What an import's preview warns about, without refusing: rows that would leave a council
    with more serving councillors on the portal than it has Labour seats, add a councillor to a
    council with no Labour seats, or name a ward not among those already recorded for the
    council (a likely misspelling; a council with no wards recorded yet is not checked). Two
    queries, however many councils."""

    def __init__(self, council_ids):
        ids = sorted(council_ids)
        serving = Councillor.objects.serving().filter(council_id__in=ids).order_by()
        self.serving = dict(
            serving.values("council_id").annotate(n=Count("pk")).values_list("council_id", "n")
        )
        self.wards: dict[int, dict[str, str]] = {}
        recorded = (
            Councillor.objects.filter(council_id__in=ids)
            .exclude(ward="")
            .order_by()
            .values_list("council_id", "ward")
            .distinct()
        )
        for council_id, ward in recorded:
            self.wards.setdefault(council_id, {}).setdefault(ward_key(ward), ward)
        self.joining: dict[int, tuple] = {}
        self.leaving: Counter = Counter()

    def joins(self, row: dict, council) -> None:
        """The row makes someone a serving councillor of `council`."""
        if not council.labour_seats:
            _warn(row, f"{council.name} has no Labour seats: check the council.")
        self.joining.setdefault(council.pk, (council, []))[1].append(row)

    def leaves(self, council_id: int) -> None:
        """A serving councillor of this council moves to another."""
        self.leaving[council_id] += 1

    def ward(self, row: dict, council, ward: str) -> None:
        recorded = self.wards.get(council.pk)
        if not recorded or not ward or ward_key(ward) in recorded:
            return
        close = difflib.get_close_matches(ward_key(ward), list(recorded), n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(recorded[key] for key in close)}?)" if close else ""
        _warn(
            row,
            f"'{ward}' is not among the wards recorded for {council.name}{hint}: check the "
            "spelling.",
        )

    def finish(self) -> None:
        for council_id, (council, rows) in self.joining.items():
            if not council.labour_seats:
                continue
            total = self.serving.get(council_id, 0) + len(rows) - self.leaving[council_id]
            if total > council.labour_seats:
                for row in rows:
                    _warn(
                        row,
                        f"{council.name} would have {total:,} serving councillors on the portal, "
                        f"more than its {council.labour_seats} Labour seat"
                        f"{'' if council.labour_seats == 1 else 's'}.",
                    )
