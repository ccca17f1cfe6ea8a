"""Both imports write a large file with a fixed number of queries per chunk of rows, however
many rows the chunk has: pinned at 2,000 rows."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from factories import CouncilFactory, StaffFactory

from members import imports
from members.group_imports import GROUP_COLUMNS
from members.models import Councillor, CouncillorImport
from members.services.councillor_imports import (
    councillor_import_confirm,
    councillor_import_preview,
)
from regions.models import Council, CouncilGroup, GroupOfficer

pytestmark = pytest.mark.django_db

CHUNK = 500
# The queries to write one chunk of rows, and the whole import at 2,000 rows (4 chunks), the
# search index kept up to date with them included.
COUNCILLOR_QUERIES_PER_CHUNK = 10
COUNCILLOR_QUERIES_AT_2000 = 52
GROUP_QUERIES_PER_CHUNK = 22
GROUP_QUERIES_AT_2000 = 103


@pytest.fixture(autouse=True)
def _inline_and_chunked(settings, monkeypatch):
    settings.IMPORT_CHUNK_ROWS = CHUNK
    # Run the write here rather than in the worker, to count its queries.
    monkeypatch.setattr(imports, "BACKGROUND_ROWS", 100_000)


def _imported(region, text, kind) -> int:
    """Preview and confirm a file; the queries the confirmation made."""
    imp = councillor_import_preview(
        region=region, uploaded_by=StaffFactory(), filename="big.csv", raw=text.encode(), kind=kind
    )
    assert imp.report["counts"]["error"] == 0
    with CaptureQueriesContext(connection) as queries:
        councillor_import_confirm(councillor_import=imp)
    imp.refresh_from_db()
    assert imp.is_done
    return len(queries)


def _councillor_file(council, start, count) -> str:
    lines = ["full_name,email,council,ward,phone"]
    lines += [
        f"Person {n},big{n}@example.org,{council.gss_code},Ward {n % 40},020 7946 {n:04d}"
        for n in range(start, start + count)
    ]
    return "\n".join(lines) + "\n"


def test_the_councillor_import_makes_a_fixed_number_of_queries_per_chunk(council_x):
    council_x.labour_seats = 5_000
    council_x.save()
    at_1000 = _imported(council_x.region, _councillor_file(council_x, 0, 1000), "councillors")
    at_2000 = _imported(council_x.region, _councillor_file(council_x, 1000, 2000), "councillors")
    assert Councillor.objects.count() == 3000
    assert (at_2000 - at_1000) / 2 == COUNCILLOR_QUERIES_PER_CHUNK
    assert at_2000 == COUNCILLOR_QUERIES_AT_2000


def _groups(region, start, count) -> list[CouncilGroup]:
    councils = Council.objects.bulk_create(
        CouncilFactory.build(region=region, gss_code=f"E99{n:06d}", slug=f"big-{n}")
        for n in range(start, start + count)
    )
    return CouncilGroup.objects.bulk_create(
        CouncilGroup(council=council, name=f"{council.name} Labour Group") for council in councils
    )


def _group_file(groups) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=GROUP_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for group in groups:
        n = group.council.gss_code[3:]
        writer.writerow(
            {
                "gss_code": group.council.gss_code,
                "contact_email": f"labour{n}@example.org",
                "phone": f"020 7946 {int(n) % 10_000:04d}",
                "postal_address": f"Town Hall\nTown {n}\nAB1 2CD",
                "leader_email": f"leader{n}@example.org",
                "leader_name": f"Leader {n}",
                "leader_since": "2026-05-21",
            }
        )
    return out.getvalue()


def test_the_group_import_makes_a_fixed_number_of_queries_per_chunk(region_x):
    at_1000 = _imported(region_x, _group_file(_groups(region_x, 0, 1000)), "groups")
    at_2000 = _imported(region_x, _group_file(_groups(region_x, 1000, 2000)), "groups")
    assert GroupOfficer.objects.count() == 3000
    assert CouncillorImport.objects.count() == 2
    assert (at_2000 - at_1000) / 2 == GROUP_QUERIES_PER_CHUNK
    assert at_2000 == GROUP_QUERIES_AT_2000
