"""Wherever a council is typed (the councillor import, the groups import, the join form), it is
found by the names people use for it, and a name several councils share is never guessed."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from factories import RepresentativeFactory

from members.models import Councillor, CouncillorImport, JoinRequest
from regions.models import CouncilGroup, Region

pytestmark = pytest.mark.django_db


def _upload(client, url, text):
    client.post(url, {"file": SimpleUploadedFile("f.csv", text.encode(), content_type="text/csv")})
    return CouncillorImport.objects.latest("uploaded_at")


@pytest.fixture
def wales_rep_client(client, gb_councils):
    client.force_login(RepresentativeFactory(region=Region.objects.get(slug="wales")).user)
    return client


def test_a_wales_councillor_file_naming_councils_as_they_name_themselves_imports(
    wales_rep_client,
):
    text = (
        "full_name,email,council,ward\n"
        "Ada Lovelace,ada@example.org,Rhondda Cynon Taf,Treorchy\n"
        "Mary Seacole,mary@example.org,Vale of Glamorgan,Baruc\n"
        "Grace Hopper,grace@example.org,Cyngor Caerdydd,Cathays\n"
    )
    imp = _upload(wales_rep_client, reverse("import_upload", args=["wales"]), text)
    assert imp.report["counts"]["create"] == 3
    wales_rep_client.post(reverse("import_confirm", args=[imp.pk]))
    assert dict(Councillor.objects.values_list("user__email", "council__gss_code")) == {
        "ada@example.org": "W06000016",
        "mary@example.org": "W06000014",
        "grace@example.org": "W06000015",
    }


def test_a_groups_file_finds_councils_by_their_welsh_names(wales_rep_client):
    text = "council,contact_email\nAbertawe,labour@abertawe.example.org\n"
    imp = _upload(wales_rep_client, reverse("group_import_upload", args=["wales"]), text)
    wales_rep_client.post(reverse("import_confirm", args=[imp.pk]))
    group = CouncilGroup.objects.get(council__gss_code="W06000011")
    assert group.contact_email == "labour@abertawe.example.org"


def test_an_import_row_naming_a_shared_name_lists_the_candidates(client, gb_councils):
    client.force_login(RepresentativeFactory(region=Region.objects.get(slug="north-west")).user)
    text = "full_name,email,council,ward\nAda Lovelace,ada@example.org,Newcastle,Town\n"
    imp = _upload(client, reverse("import_upload", args=["north-west"]), text)
    (row,) = imp.report["rows"]
    assert row["errors"] == [
        "'Newcastle' could be Newcastle City Council (E08000021) or Newcastle-under-Lyme "
        "Borough Council (E07000195): use the full name or GSS code."
    ]


def test_the_join_form_finds_a_council_by_its_welsh_name_and_never_guesses(client, gb_councils):
    data = {"full_name": "Grace Hopper", "ward": "Cathays", "email": "grace@example.org"}
    response = client.post(reverse("join"), {**data, "council": "Newcastle"})
    assert "Newcastle City Council or Newcastle-under-Lyme Borough Council" in response.text
    assert not JoinRequest.objects.exists()
    client.post(reverse("join"), {**data, "council": "Cyngor Caerdydd"})
    assert JoinRequest.objects.get().council.gss_code == "W06000015"
