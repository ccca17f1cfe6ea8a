"""CSV exports of a region's councillors and Labour groups."""

import csv
import io

import pytest
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    GroupOfficerFactory,
    RegionFactory,
    RepresentativeFactory,
)

from members.models import Councillor, User
from regions.models import Council, CouncilGroup, GroupOfficer

pytestmark = pytest.mark.django_db


@pytest.fixture
def region():
    return RegionFactory(name="Region X", slug="region-x")


@pytest.fixture
def rep_client(client, region):
    client.force_login(RepresentativeFactory(region=region).user)
    return client


def read_csv(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_councillor_export_lists_serving_councillors_of_the_region_only(rep_client, region):
    council = CouncilFactory(region=region, name="Oakfield Borough Council", gss_code="E0600001")
    CouncillorFactory(
        council=council, user__full_name="Ada Lovelace", user__email="ada@example.org", ward="North"
    )
    CouncillorFactory(council=council, user__full_name="Gone Person", left_on="2024-05-01")
    CouncillorFactory(user__full_name="Elsewhere Person")  # another region

    rows = read_csv(rep_client.get(reverse("export_councillors", args=["region-x"])))

    assert [row["full_name"] for row in rows] == ["Ada Lovelace"]
    assert rows[0]["email"] == "ada@example.org"
    assert rows[0]["council"] == "Oakfield Borough Council"
    assert rows[0]["council_gss"] == "E0600001"
    assert rows[0]["ward"] == "North"


def test_exported_cells_cannot_run_as_spreadsheet_formulas(rep_client, region):
    council = CouncilFactory(region=region)
    CouncillorFactory(
        council=council,
        user__full_name='=HYPERLINK("http://evil.example","x")',
        ward="@SUM(A1)",
        phone="+44 20 7946 0000",
    )
    [row] = read_csv(rep_client.get(reverse("export_councillors", args=["region-x"])))
    assert row["full_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["ward"] == "'@SUM(A1)"
    assert row["phone"] == "'+44 20 7946 0000"


def test_an_exported_file_imports_back_unchanged(rep_client, region):
    council = CouncilFactory(region=region, gss_code="E0600001")
    CouncillorFactory(council=council, phone="+44 20 7946 0000", ward="North")
    export = rep_client.get(reverse("export_councillors", args=["region-x"])).content
    from django.core.files.uploadedfile import SimpleUploadedFile

    rep_client.post(
        reverse("import_upload", args=["region-x"]),
        {"file": SimpleUploadedFile("back.csv", export, content_type="text/csv")},
    )
    from members.models import CouncillorImport

    assert CouncillorImport.objects.get().report["counts"] == {
        "create": 0,
        "update": 0,
        "unchanged": 1,
        "error": 0,
    }


def test_group_export_gives_contact_details_and_every_officer_in_the_import_format(
    rep_client, region
):
    council = CouncilFactory(
        region=region, name="Oakfield Borough Council", gss_code="E0600001", labour_seats=31
    )
    group = CouncilGroupFactory(
        council=council,
        name="Oakfield Labour Group",
        contact_email="group@example.org",
        phone="01632 960001",
        postal_address="Town Hall\nOakfield OK1 1AA",
    )
    holders = {}
    for role, name in [
        ("leader", "Lena Leader"),
        ("deputy_leader", "Dev Deputy"),
        ("chief_whip", "Wanda Whip"),
        ("secretary", "Sam Secretary"),
    ]:
        holders[role] = GroupOfficerFactory(
            group=group,
            role=role,
            user__full_name=name,
            user__email=f"{role}@example.org",
            start_date="2025-05-09",
        )
    GroupOfficerFactory(
        group=group,
        role="deputy_leader",
        user__full_name="Former Deputy",
        start_date="2019-05-01",
        end_date="2021-05-01",
    )
    CouncilGroupFactory(council=CouncilFactory())  # another region

    response = rep_client.get(reverse("export_groups", args=["region-x"]))
    rows = read_csv(response)

    assert rows == [
        {
            "council": "Oakfield Borough Council",
            "gss_code": "E0600001",
            "group": "Oakfield Labour Group",
            "contact_email": "group@example.org",
            "phone": "01632 960001",
            "postal_address": "Town Hall\nOakfield OK1 1AA",
            "leader_email": "leader@example.org",
            "leader_name": "Lena Leader",
            "leader_since": "2025-05-09",
            "deputy_leader_email": "deputy_leader@example.org",
            "deputy_leader_name": "Dev Deputy",
            "deputy_leader_since": "2025-05-09",
            "chief_whip_email": "chief_whip@example.org",
            "chief_whip_name": "Wanda Whip",
            "chief_whip_since": "2025-05-09",
            "secretary_email": "secretary@example.org",
            "secretary_name": "Sam Secretary",
            "secretary_since": "2025-05-09",
        }
    ]


def test_group_export_leaves_vacant_offices_empty(rep_client, region):
    CouncilGroupFactory(council=CouncilFactory(region=region))

    [row] = read_csv(rep_client.get(reverse("export_groups", args=["region-x"])))

    offices = ("leader", "deputy_leader", "chief_whip", "secretary")
    assert {row[f"{role}_{part}"] for role in offices for part in ("email", "name", "since")} == {
        ""
    }


def _bulk_councillors(council, count):
    users = User.objects.bulk_create(
        User(email=f"bulk-{council.pk}-{n}@example.org", full_name=f"Person {n}", password="!")
        for n in range(count)
    )
    Councillor.objects.bulk_create(
        Councillor(user=user, council=council, ward=f"Ward {n}") for n, user in enumerate(users)
    )


def _bulk_groups(region, count):
    councils = Council.objects.bulk_create(
        CouncilFactory.build(region=region) for _ in range(count)
    )
    groups = CouncilGroup.objects.bulk_create(
        CouncilGroup(council=c, name=f"{c.short_name} Labour") for c in councils
    )
    for role in GroupOfficer.Role.values:
        holder = User.objects.create(email=f"{role}-{region.pk}@example.org", full_name=role)
        GroupOfficer.objects.bulk_create(
            GroupOfficer(group=g, role=role, user=holder) for g in groups
        )


@pytest.mark.parametrize("count", [20, 2000])
def test_councillor_export_makes_a_fixed_number_of_queries(
    rep_client, region, count, django_assert_max_num_queries
):
    _bulk_councillors(CouncilFactory(region=region), count)
    with django_assert_max_num_queries(12):
        response = rep_client.get(reverse("export_councillors", args=["region-x"]))
    assert len(read_csv(response)) == count


@pytest.mark.parametrize("count", [20, 2000])
def test_group_export_makes_a_fixed_number_of_queries(
    rep_client, region, count, django_assert_max_num_queries
):
    _bulk_groups(region, count)
    with django_assert_max_num_queries(12):
        response = rep_client.get(reverse("export_groups", args=["region-x"]))
    rows = read_csv(response)
    assert len(rows) == count
    assert {row["chief_whip_name"] for row in rows} == {"chief_whip"}
