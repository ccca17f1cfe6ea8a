"""CSV import of Labour groups' details and officers: preview row by row, all or nothing,
idempotent, and the groups export's own format."""

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    RegionFactory,
    RepresentativeFactory,
    ServingOfficerFactory,
    StaffFactory,
    UserFactory,
)
from polling import wait_for

from members.group_imports import GROUP_COLUMNS
from members.models import CouncillorImport, JoinRequest, User
from regions.models import Council, CouncilGroup, GroupOfficer

pytestmark = pytest.mark.django_db

OLD_START = datetime.date(2024, 5, 9)


def group_file(*rows: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=GROUP_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def upload(client, region, text, name="groups.csv"):
    return client.post(
        reverse("group_import_upload", args=[region.slug]),
        {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")},
    )


def latest_import():
    return CouncillorImport.objects.latest("uploaded_at")


def rows_by_line(councillor_import):
    return {row["line"]: row for row in councillor_import.report["rows"]}


def confirm(client, councillor_import):
    return client.post(reverse("import_confirm", args=[councillor_import.pk]))


def stored(group):
    """What an import may change about a group, as the database holds it."""
    group.refresh_from_db()
    officers = sorted(
        GroupOfficer.objects.filter(group=group).values_list(
            "role", "user__email", "start_date", "end_date"
        )
    )
    return (group.name, group.contact_email, group.phone, group.postal_address, officers)


@pytest.fixture
def group_x(council_x):
    group = CouncilGroupFactory(council=council_x, contact_email="", phone="", postal_address="")
    leader = UserFactory(email="old.leader@example.org", full_name="Olu Oldleader")
    ServingOfficerFactory(group=group, role="leader", user=leader, start_date=OLD_START)
    return group


@pytest.fixture
def council_x2(region_x):
    return CouncilFactory(
        region=region_x, name="Ashbury City Council", short_name="Ashbury", gss_code="E0600002"
    )


@pytest.fixture
def group_x2(council_x2):
    return CouncilGroupFactory(council=council_x2, contact_email="labour@ashbury.example.org")


@pytest.fixture
def group_y():
    council = CouncilFactory(
        region=RegionFactory(name="Region Y", slug="region-y"),
        name="Elmbridge District Council",
        short_name="Elmbridge",
        gss_code="E0700002",
    )
    return CouncilGroupFactory(council=council)


@pytest.fixture
def rep_client(client, region_x):
    rep = RepresentativeFactory(region=region_x)
    client.force_login(rep.user)
    return client


@pytest.fixture
def deputy(council_x):
    return CouncillorFactory(council=council_x, user__email="deputy@example.org").user


GOOD = [
    {
        "council": "Oakfield",
        "contact_email": "labour@oakfield.example.org",
        "phone": "020 7946 0123",
        "postal_address": "Labour Group Office\nTown Hall\nOakfield OK1 2AB",
        "leader_email": "new.leader@example.org",
        "leader_name": "Nia Newleader",
        "leader_since": "2026-05-21",
        "deputy_leader_email": "deputy@example.org",
        "deputy_leader_since": "21/05/2026",
    },
    {"gss_code": "E0600002", "phone": "01632 960 111"},
]


def test_a_file_with_every_kind_of_bad_row_gets_a_report_and_writes_nothing(
    rep_client, group_x, group_x2, group_y, deputy, council_x
):
    outsider = CouncillorFactory(user__email="outsider@example.org").user
    # One council (and group) in the region for each bad row, so that no row repeats another.
    groups = {
        line: CouncilGroupFactory(
            council=CouncilFactory(
                region=council_x.region, name=f"Council {line}", gss_code=f"E06{line:05d}"
            )
        )
        for line in range(5, 14)
    }
    no_group = CouncilFactory(
        region=council_x.region, name="Greyfield Council", gss_code="E0699999"
    )
    everything = [group_x, group_x2, group_y, *groups.values()]
    before = [stored(group) for group in everything]
    users = User.objects.count()
    text = group_file(
        GOOD[0],  # 2: good
        {"council": "Nowhere Council", "phone": "020 7946 0000"},  # 3
        {"council": "Elmbridge", "phone": "020 7946 0000"},  # 4: another region
        {"gss_code": "E0600005", "contact_email": "not-an-email"},  # 5
        {"council": "Oakfield", "phone": "020 7946 0000"},  # 6: Oakfield again
        {"gss_code": no_group.gss_code, "phone": "020 7946 0000"},  # 7: no Labour group
        {"gss_code": "E0600008", "postal_address": "<b>Town Hall</b>"},  # 8
        {"gss_code": "E0600009", "leader_email": "outsider@example.org"},  # 9
        {"gss_code": "E0600010", "leader_email": "nobody@example.org"},  # 10: no name
        {"gss_code": "E0600011", "chief_whip_email": "deputy@example.org", "chief_whip_since": "x"},
        {"gss_code": "E0600012", "secretary_name": "Sam Secretary"},  # 12: no email
        {"council": "Ashbury", "gss_code": "E0600013"},  # 13: two councils
        {"gss_code": "E0600006", "phone": "12345"},  # 14: a bad phone number
    )
    upload(rep_client, council_x.region, text)
    report = rows_by_line(latest_import())
    assert report[2]["action"] == "update"
    expected = {
        3: "No council called 'Nowhere Council' was found.",
        4: "Elmbridge District Council is in Region Y, not Region X.",
        5: "Contact email:",
        6: "Oakfield Borough Council's group is also on line 2.",
        7: "Greyfield Council has no Labour group on the portal",
        8: "cannot contain < or >",
        9: "outsider@example.org is not a serving councillor on Council 9",
        10: "nobody on the portal has the address nobody@example.org",
        11: "is not a date",
        12: "give their email address",
        13: "name different councils",
        14: "Phone:",
    }
    for line, message in expected.items():
        assert report[line]["action"] == "error", line
        assert any(message in error for error in report[line]["errors"]), (line, report[line])
    assert latest_import().report["counts"]["error"] == len(expected)
    assert rep_client.post(reverse("import_confirm", args=[latest_import().pk])).status_code < 500
    assert [stored(group) for group in everything] == before
    assert User.objects.count() == users
    assert not latest_import().is_done
    assert outsider.councillor.council != council_x


def test_the_corrected_file_writes_exactly_its_rows_and_again_changes_nothing(
    rep_client, group_x, group_x2, group_y, deputy, council_x
):
    untouched = stored(group_y)
    text = group_file(*GOOD)
    upload(rep_client, council_x.region, text)
    imp = latest_import()
    assert imp.report["counts"] == {"create": 0, "update": 2, "unchanged": 0, "error": 0}
    confirm(rep_client, imp)
    imp.refresh_from_db()
    assert imp.is_done

    group_x.refresh_from_db()
    assert group_x.contact_email == "labour@oakfield.example.org"
    assert group_x.phone == "020 7946 0123"
    assert group_x.postal_address == "Labour Group Office\nTown Hall\nOakfield OK1 2AB"
    assert GroupOfficer.objects.current().get(group=group_x, role="leader").user.email == (
        "new.leader@example.org"
    )
    assert GroupOfficer.objects.get(group=group_x, role="deputy_leader").user == deputy
    newcomer = User.objects.get(email="new.leader@example.org")
    assert newcomer.full_name == "Nia Newleader"
    assert newcomer.councillor.council == council_x
    assert JoinRequest.objects.filter(email="new.leader@example.org").exists()
    group_x2.refresh_from_db()
    assert group_x2.phone == "01632 960 111"
    assert stored(group_y) == untouched

    after = [stored(group_x), stored(group_x2)]
    history = CouncilGroup.history.count() + GroupOfficer.history.count() + User.objects.count()
    upload(rep_client, council_x.region, text)
    again = latest_import()
    assert again.report["counts"] == {"create": 0, "update": 0, "unchanged": 2, "error": 0}
    confirm(rep_client, again)
    assert [stored(group_x), stored(group_x2)] == after
    assert (
        CouncilGroup.history.count() + GroupOfficer.history.count() + User.objects.count()
    ) == history


def test_a_new_leader_ends_the_old_leaders_term_on_their_start_date_with_history(
    rep_client, group_x, council_x
):
    CouncillorFactory(council=council_x, user__email="nia@example.org", user__full_name="Nia Hale")
    text = group_file(
        {"council": "Oakfield", "leader_email": "nia@example.org", "leader_since": "2026-06-01"}
    )
    upload(rep_client, council_x.region, text)
    change = latest_import().report["rows"][0]["changes"][0]
    assert change["old"] == "Olu Oldleader (old.leader@example.org)"
    assert change["new"] == "Nia Hale (nia@example.org), from 1 June 2026"
    confirm(rep_client, latest_import())

    old, new = GroupOfficer.objects.filter(group=group_x, role="leader").order_by("start_date")
    assert (old.user.email, old.start_date, old.end_date) == (
        "old.leader@example.org",
        OLD_START,
        datetime.date(2026, 6, 1),
    )
    assert (new.user.email, new.start_date, new.end_date) == (
        "nia@example.org",
        datetime.date(2026, 6, 1),
        None,
    )
    assert old.history.count() == 2
    assert "Term ended by a new appointment" in old.history.first().history_change_reason
    rep_client.force_login(StaffFactory())
    page = rep_client.get(reverse("regions:history", args=["group", group_x.pk]))
    assert page.status_code == 200
    assert "Nia Hale" in page.content.decode()
    assert "Olu Oldleader" in page.content.decode()


def test_the_export_imported_again_changes_nothing(
    rep_client, group_x, group_x2, deputy, council_x
):
    upload(rep_client, council_x.region, group_file(*GOOD))
    confirm(rep_client, latest_import())
    exported = rep_client.get(reverse("export_groups", args=[council_x.region.slug]))
    text = b"".join(exported.streaming_content if exported.streaming else [exported.content])
    before = [stored(group_x), stored(group_x2)]

    upload(rep_client, council_x.region, text.decode("utf-8-sig"), name="groups-export.csv")
    imp = latest_import()
    assert imp.report["counts"] == {"create": 0, "update": 0, "unchanged": 2, "error": 0}
    assert [stored(group_x), stored(group_x2)] == before


def test_a_representatives_file_naming_another_regions_council_is_refused_for_that_row(
    rep_client, group_x, group_y, council_x
):
    upload(rep_client, council_x.region, group_file({"gss_code": "E0700002", "phone": "0"}))
    (row,) = latest_import().report["rows"]
    assert row["action"] == "error"
    assert row["errors"] == ["Elmbridge District Council is in Region Y, not Region X."]


def test_staff_import_groups_for_any_region(client, group_y):
    client.force_login(StaffFactory())
    text = group_file({"council": "Elmbridge", "contact_email": "labour@elmbridge.example.org"})
    upload(client, group_y.council.region, text)
    confirm(client, latest_import())
    group_y.refresh_from_db()
    assert group_y.contact_email == "labour@elmbridge.example.org"


def test_a_representative_cannot_import_into_another_region(rep_client, group_y):
    text = group_file({"council": "Elmbridge", "contact_email": "labour@elmbridge.example.org"})
    assert upload(rep_client, group_y.council.region, text).status_code == 404
    assert not CouncillorImport.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_large_group_import_runs_in_the_worker_with_progress(celery_worker, worker_smtp, client):
    worker_smtp.clear()
    region = RegionFactory(name="Region Big", slug="region-big")
    councils = Council.objects.bulk_create(
        CouncilFactory.build(region=region, gss_code=f"E98{n:06d}", slug=f"big-{n}")
        for n in range(1_100)
    )
    CouncilGroup.objects.bulk_create(
        CouncilGroup(council=council, name=f"{council.name} Labour Group") for council in councils
    )
    rep = RepresentativeFactory(region=region)
    client.force_login(rep.user)
    text = group_file(
        *({"gss_code": c.gss_code, "contact_email": f"labour{n}@example.org"} for n, c in
          enumerate(councils))
    )  # fmt: skip
    upload(client, region, text)
    imp = latest_import()
    assert imp.total_rows == 1_100
    response = client.post(reverse("import_confirm", args=[imp.pk]), follow=True)
    assert "has started" in response.text

    def finished():
        imp.refresh_from_db()
        return imp.status in ("done", "failed")

    wait_for(finished, timeout=120, interval=0.5)
    assert imp.status == CouncillorImport.Status.DONE
    emails = set(CouncilGroup.objects.filter(council__region=region).values_list("contact_email"))
    assert emails == {(f"labour{n}@example.org",) for n in range(1_100)}
    progress = client.get(reverse("import_progress", args=[imp.pk])).json()
    assert (progress["processed_rows"], progress["total_rows"], progress["finished"]) == (
        1_100,
        1_100,
        True,
    )
    wait_for(lambda: len(worker_smtp.messages) >= 1, timeout=60, interval=0.5)
    [done] = worker_smtp.messages
    assert done["To"] == rep.user.email
    assert "1100 groups changed" in done.get_body(("plain",)).get_content()
