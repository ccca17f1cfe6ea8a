"""Every import's preview warns, without refusing, about rows that look unlikely: more serving
councillors than Labour seats, a councillor on a council with no Labour seats, and a ward not
among those recorded for the council."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from factories import CouncilFactory, CouncilGroupFactory, CouncillorFactory, RepresentativeFactory

from members.group_imports import GROUP_COLUMNS
from members.models import Councillor, CouncillorImport

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep_client(client, region_x):
    client.force_login(RepresentativeFactory(region=region_x).user)
    return client


def upload(client, region, text, url="import_upload"):
    client.post(
        reverse(url, args=[region.slug]),
        {"file": SimpleUploadedFile("file.csv", text.encode(), content_type="text/csv")},
    )
    return CouncillorImport.objects.latest("uploaded_at")


def warnings_of(councillor_import) -> list[list[str]]:
    return [row.get("warnings", []) for row in councillor_import.report["rows"]]


def test_more_serving_councillors_than_labour_seats_is_a_warning(rep_client, council_x):
    council_x.labour_seats = 2
    council_x.save()
    CouncillorFactory.create_batch(2, council=council_x, ward="North")
    text = "full_name,email,council,ward\nAda Lovelace,ada@example.org,Oakfield,North\n"
    imp = upload(rep_client, council_x.region, text)
    assert imp.report["counts"] == {"create": 1, "update": 0, "unchanged": 0, "error": 0}
    assert warnings_of(imp) == [
        [
            "Oakfield Borough Council would have 3 serving councillors on the portal, more than "
            "its 2 Labour seats."
        ]
    ]
    assert imp.report["rows_to_check"] == 1
    page = rep_client.get(reverse("import_detail", args=[imp.pk])).content.decode()
    assert "more than its 2 Labour seats" in page
    assert "Import 1 councillor" in page


def test_a_councillor_on_a_council_with_no_labour_seats_is_a_warning(rep_client, council_x):
    CouncilFactory(
        region=council_x.region, name="Blue Council", gss_code="E0600009", labour_seats=0
    )
    text = "full_name,email,council,ward\nAda Lovelace,ada@example.org,E0600009,North\n"
    imp = upload(rep_client, council_x.region, text)
    assert warnings_of(imp) == [["Blue Council has no Labour seats: check the council."]]
    rep_client.post(reverse("import_confirm", args=[imp.pk]))
    assert Councillor.objects.filter(user__email="ada@example.org").exists()


def test_a_ward_not_among_those_recorded_is_a_warning(rep_client, council_x):
    CouncillorFactory(council=council_x, ward="Northfield & Castle")
    text = (
        "full_name,email,council,ward\n"
        "Ada Lovelace,ada@example.org,Oakfield,Northfeld and Castle\n"
        "Mary Seacole,mary@example.org,Oakfield,Northfield and Castle Ward\n"
    )
    imp = upload(rep_client, council_x.region, text)
    assert warnings_of(imp) == [
        [
            "'Northfeld and Castle' is not among the wards recorded for Oakfield Borough Council "
            "(did you mean Northfield & Castle?): check the spelling."
        ],
        [],
    ]


def test_the_group_import_warns_when_a_new_officer_takes_a_council_past_its_seats(
    rep_client, council_x
):
    council_x.labour_seats = 1
    council_x.save()
    CouncilGroupFactory(council=council_x)
    CouncillorFactory(council=council_x)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=GROUP_COLUMNS)
    writer.writeheader()
    writer.writerow(
        {"council": "Oakfield", "leader_email": "nia@example.org", "leader_name": "Nia Hale"}
    )
    imp = upload(rep_client, council_x.region, out.getvalue(), url="group_import_upload")
    assert imp.report["counts"]["update"] == 1
    assert warnings_of(imp) == [
        [
            "Oakfield Borough Council would have 2 serving councillors on the portal, more than "
            "its 1 Labour seat."
        ]
    ]
