"""One set of rules for people's details, whichever form or file they come through.

A name or ward one form saves must not be refused by another: a councillor's own edit would
otherwise block their representative's edit form and a re-import of the exported file.
"""

import pytest
from django.urls import reverse
from factories import CouncilFactory, CouncillorFactory, RegionFactory, RepresentativeFactory

from members import imports
from members.forms.onboarding import CouncillorEditForm, JoinForm
from members.forms.profile import PositionForm, ProfileForm
from members.models import ProfileChange
from members.services.profile_changes import profile_change_decide
from regions.names import CouncilNames

pytestmark = pytest.mark.django_db

NAME_CHARACTERS = "Names cannot contain <, >, { or } or control characters."

REFUSED_NAMES = [
    "Ann {Nan} Smith",
    "Ann\x07Smith",
    "Ann\x7fSmith",
    "Ann\x9bSmith",
    "<b>Ann</b>",
    "{{ recipient.first_name }}",
]
ACCEPTED_NAMES = ["Siân O'Brien-Jones", "Dr. Ann Smith (Annie)", "José María Núñez", "Ng & Co"]


@pytest.fixture
def councillor():
    return CouncillorFactory(
        ward="Castle", council=CouncilFactory(region=RegionFactory(), slug="oakfield")
    )


def _profile_data(councillor, **changes):
    return {
        "full_name": councillor.user.full_name,
        "preferred_name": "",
        "council": councillor.council_id,
        "ward": councillor.ward,
        "labour_coop": "no",
        **changes,
    }


def _name_errors(councillor, name) -> dict[str, list[str]]:
    """What each form and the import say about this name, by where it was typed."""
    edit = CouncillorEditForm(
        {"full_name": name, "ward": "Castle", "phone": ""},
        initial={"email": councillor.user.email, "phone": ""},
    )
    join = JoinForm(
        {"full_name": name, "ward": "Castle", "council": "x", "email": "a@example.org"},
        lookup=CouncilNames([]),
    )
    profile = ProfileForm(_profile_data(councillor, full_name=name), councillor=councillor)
    preferred = ProfileForm(
        _profile_data(councillor, preferred_name=name[:80]), councillor=councillor
    )
    position = PositionForm({"title": name})
    try:
        imports.clean_person_name(name)
        imported = []
    except imports.ValidationError as error:
        imported = error.messages
    for form in (edit, join, profile, preferred, position):
        form.is_valid()
    return {
        "representative's edit form": edit.errors.get("full_name", []),
        "join form": join.errors.get("full_name", []),
        "profile full name": profile.errors.get("full_name", []),
        "profile preferred name": preferred.errors.get("preferred_name", []),
        "position title": position.errors.get("title", []),
        "import": imported,
    }


@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_every_form_refuses_the_same_names_with_the_same_message(councillor, name):
    errors = _name_errors(councillor, name)
    assert errors == dict.fromkeys(errors, [NAME_CHARACTERS])


@pytest.mark.parametrize("name", ACCEPTED_NAMES)
def test_every_form_accepts_the_same_names(councillor, name):
    errors = _name_errors(councillor, name)
    assert errors == dict.fromkeys(errors, [])


@pytest.mark.parametrize("ward", ["", "   ", "Castle {x}", "Castle\x07"])
def test_every_form_refuses_the_same_wards(councillor, ward):
    profile = ProfileForm(_profile_data(councillor, ward=ward), councillor=councillor)
    edit = CouncillorEditForm(
        {"full_name": "Ann Smith", "ward": ward, "phone": ""},
        initial={"email": councillor.user.email, "phone": ""},
    )
    assert not profile.is_valid() and "ward" in profile.errors
    assert not edit.is_valid() and "ward" in edit.errors
    with pytest.raises(imports.ValidationError):
        imports.clean_ward(ward)


def test_what_a_councillor_saves_their_rep_can_resave_and_the_export_reimports(client, councillor):
    rep = RepresentativeFactory(region=councillor.council.region).user
    client.force_login(councillor.user)
    response = client.post(
        reverse("profile_edit"),
        {
            **_profile_data(
                councillor, full_name="  Siân   O'Brien-Jones ", ward="St Mary's & Hill"
            ),
            "positions-TOTAL_FORMS": "0",
            "positions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    profile_change_decide(change=ProfileChange.objects.get(), by=rep, approve=True)
    councillor.refresh_from_db()
    councillor.user.refresh_from_db()
    assert (councillor.user.full_name, councillor.ward) == (
        "Siân O'Brien-Jones",
        "St Mary's & Hill",
    )

    client.force_login(rep)
    response = client.post(
        reverse("councillor_edit", args=["oakfield", councillor.pk]),
        {"full_name": councillor.user.full_name, "ward": councillor.ward, "phone": ""},
    )
    assert response.status_code == 302

    region = councillor.council.region
    exported = client.get(reverse("export_councillors", args=[region.slug])).content
    plan = imports.import_plan(imports.read_rows(imports.decode_upload(exported)), region=region)
    assert [(row["action"], row["errors"]) for row in plan["rows"]] == [("unchanged", [])]
