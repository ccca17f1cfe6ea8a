"""A representative exports their region's Labour groups, edits the file in a spreadsheet and
imports it again: the preview shows exactly what was edited, and confirming applies it."""

import csv
import datetime
import io

import pytest
from accessibility import assert_accessible
from browsing import log_in
from factories import PASSWORD, CouncillorFactory, RepresentativeFactory, ServingOfficerFactory

from regions.models import CouncilGroup, GroupOfficer, Region

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wales_groups(gb_councils):
    """Three Welsh groups with contact addresses and leaders."""
    groups = {}
    for slug in ("cardiff", "swansea", "newport"):
        group = CouncilGroup.objects.get(council__slug=slug)
        group.contact_email = f"labour@{slug}.example.org"
        group.postal_address = f"Civic Centre\n{slug.title()} CF1 1AA"
        group.save()
        ServingOfficerFactory(
            group=group,
            role="leader",
            user__email=f"leader.{slug}@example.org",
            user__full_name=f"Leader of {slug.title()}",
            start_date=datetime.date(2024, 5, 9),
        )
        groups[slug] = group
    return groups


def test_rep_exports_edits_and_reimports_groups_and_sees_exactly_their_changes(
    page, wales_groups, tmp_path
):
    rep = RepresentativeFactory(region=Region.objects.get(slug="wales")).user
    newcomer = CouncillorFactory(
        council=wales_groups["newport"].council,
        user__email="nia.hale@example.org",
        user__full_name="Nia Hale",
    ).user
    log_in(page, rep.email, PASSWORD)
    page.goto("/import/wales/groups/")
    with page.expect_download() as download:
        page.get_by_role("link", name="download the Labour groups of Wales (CSV)").click()
    exported = download.value.path().read_text(encoding="utf-8-sig")

    rows = list(csv.DictReader(io.StringIO(exported)))
    by_council = {row["gss_code"]: row for row in rows}
    councils = {slug: group.council.gss_code for slug, group in wales_groups.items()}
    by_council[councils["cardiff"]]["contact_email"] = "group@cardiff-labour.example.org"
    by_council[councils["swansea"]]["contact_email"] = "group@swansea-labour.example.org"
    by_council[councils["newport"]].update(
        leader_email=newcomer.email, leader_name="Nia Hale", leader_since="2026-06-01"
    )
    edited = tmp_path / "groups.csv"
    with edited.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    page.get_by_label("CSV file").set_input_files(str(edited))
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state()
    changes = page.locator("ul.changes li").all_inner_texts()
    assert sorted(changes) == sorted(
        [
            "Contact email: “labour@cardiff.example.org” → “group@cardiff-labour.example.org”",
            "Contact email: “labour@swansea.example.org” → “group@swansea-labour.example.org”",
            "Leader: “Leader of Newport (leader.newport@example.org)” → “Nia Hale "
            "(nia.hale@example.org), from 1 June 2026”",
        ]
    )
    assert page.locator("ul.row-errors li").count() == 0
    assert_accessible(page)

    page.get_by_role("button", name="Apply the changes to 3 groups").click()
    page.wait_for_load_state()
    assert "The import is complete: 3 groups changed." in page.locator("main").inner_text()
    contacts = dict(
        CouncilGroup.objects.filter(pk__in=[g.pk for g in wales_groups.values()]).values_list(
            "council__slug", "contact_email"
        )
    )
    assert contacts == {
        "cardiff": "group@cardiff-labour.example.org",
        "swansea": "group@swansea-labour.example.org",
        "newport": "labour@newport.example.org",
    }
    leader = GroupOfficer.objects.current().get(group=wales_groups["newport"], role="leader")
    assert leader.user == newcomer
    old = GroupOfficer.objects.get(
        group=wales_groups["newport"], user__full_name="Leader of Newport"
    )
    assert old.end_date == datetime.date(2026, 6, 1)
