"""The councillors of a council: listing, adding, editing, marking as no longer serving."""

import re

import pytest
from django.urls import reverse
from factories import CouncilFactory, CouncillorFactory, RegionFactory, RepresentativeFactory

from members.models import Councillor, JoinRequest, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def council():
    return CouncilFactory(region=RegionFactory(name="Region X", slug="region-x"), slug="oakfield")


@pytest.fixture
def rep_client(client, council):
    client.force_login(RepresentativeFactory(region=council.region).user)
    return client


def test_list_shows_serving_councillors_only(rep_client, council):
    CouncillorFactory(council=council, user__full_name="Ada Lovelace")
    CouncillorFactory(council=council, user__full_name="Gone Person", left_on="2024-05-01")
    page = rep_client.get(reverse("council_councillors", args=["oakfield"])).text
    assert "Ada Lovelace" in page
    assert "Gone Person" not in page


def test_rep_adds_a_councillor_who_is_queued_an_invitation(
    rep_client, council, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = rep_client.post(
            reverse("councillor_add", args=["oakfield"]),
            {
                "full_name": "Mary Seacole",
                "email": "Mary@Example.org",
                "ward": "South",
                "phone": "",
            },
        )
    assert response.status_code == 302
    councillor = Councillor.objects.select_related("user").get(user__email="mary@example.org")
    assert (councillor.user.full_name, councillor.council, councillor.ward) == (
        "Mary Seacole",
        council,
        "South",
    )
    assert not councillor.user.has_usable_password()
    assert JoinRequest.objects.get(email="mary@example.org").status == "approved"
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "M" * 151, "at most 150 characters"),
        ("full_name", '<img src=x onerror="alert(1)">', "cannot contain"),
        ("email", "mary at example", "Enter a valid email address"),
        ("phone", "not a phone", "phone number"),
        ("phone", "1" * 31, "at most 30 characters"),
        ("ward", "<b>Ward</b>", "cannot contain"),
    ],
)
def test_bad_input_when_adding_is_explained_next_to_the_field(
    rep_client, council, field, value, message
):
    data = {"full_name": "Mary Seacole", "email": "mary@example.org", "ward": "South", "phone": ""}
    response = rep_client.post(reverse("councillor_add", args=["oakfield"]), {**data, field: value})
    assert response.status_code == 200
    errors = re.search(
        rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', response.text, re.S
    )
    assert errors and message in errors.group(1)
    assert 'onerror="alert(1)"' not in response.text
    assert not User.objects.filter(email="mary@example.org").exists()


def test_adding_an_existing_email_is_refused(rep_client, council):
    CouncillorFactory(user__email="mary@example.org")
    response = rep_client.post(
        reverse("councillor_add", args=["oakfield"]),
        {"full_name": "Mary Seacole", "email": "mary@example.org", "ward": "South", "phone": ""},
    )
    assert "already has an account" in response.text
    assert User.objects.filter(email="mary@example.org").count() == 1


def test_rep_edits_name_ward_and_phone(rep_client, council):
    target = CouncillorFactory(council=council, user__full_name="Ada L", ward="Old")
    response = rep_client.post(
        reverse("councillor_edit", args=["oakfield", target.pk]),
        {"full_name": "Ada Lovelace", "ward": "New Ward", "phone": "+44 20 7946 0000"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    target.user.refresh_from_db()
    assert (target.user.full_name, target.ward, target.phone) == (
        "Ada Lovelace",
        "New Ward",
        "+44 20 7946 0000",
    )
    assert target.history.first().history_change_reason == "Edited by a representative"


def test_marking_as_no_longer_a_councillor_needs_the_confirm_box(rep_client, council):
    target = CouncillorFactory(council=council)
    url = reverse("councillor_leave", args=["oakfield", target.pk])
    response = rep_client.post(url, {"left_on": "2026-05-08"})
    assert "Tick the box to confirm" in response.text
    target.refresh_from_db()
    assert target.left_on is None

    rep_client.post(url, {"left_on": "2026-05-08", "confirm": "on"})
    target.refresh_from_db()
    assert target.left_on.isoformat() == "2026-05-08"
    assert not Councillor.objects.serving().filter(pk=target.pk).exists()


@pytest.mark.parametrize("count", [20, 2000])
def test_list_makes_a_fixed_number_of_queries(
    rep_client, council, count, django_assert_max_num_queries
):
    users = User.objects.bulk_create(
        User(email=f"bulk-{n}@example.org", full_name=f"Person {n}", password="!")
        for n in range(count)
    )
    Councillor.objects.bulk_create(
        Councillor(user=user, council=council, ward=f"Ward {n}") for n, user in enumerate(users)
    )
    with django_assert_max_num_queries(15):
        response = rep_client.get(reverse("council_councillors", args=["oakfield"]))
    assert response.text.count("/edit/") == count
