"""The councillors of a council: listing, adding, editing, marking as no longer serving."""

import datetime
import re

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    GroupOfficerFactory,
    RegionFactory,
    RepresentativeFactory,
    UserFactory,
)

from members.models import Councillor, JoinRequest, User
from members.services import onboarding
from regions.models import CouncilGroup, GroupOfficer

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


def test_adding_another_members_second_address_is_refused(rep_client, council):
    member = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=member, email="mary@example.org", verified=True)
    response = rep_client.post(
        reverse("councillor_add", args=["oakfield"]),
        {"full_name": "Mary Seacole", "email": "Mary@example.org", "ward": "South", "phone": ""},
    )
    assert response.status_code == 200
    errors = re.search(r'<ul class="errorlist" id="id_email_error">(.*?)</ul>', response.text, re.S)
    assert errors and "already has an account" in errors.group(1)
    assert not User.objects.filter(email="mary@example.org").exists()
    assert not JoinRequest.objects.exists()


def test_the_service_refuses_a_second_address_too(council):
    member = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=member, email="mary@example.org", verified=False)
    with pytest.raises(ValidationError):
        onboarding.councillor_add(
            council=council, full_name="Mary", email="MARY@example.org", ward="S", phone="", by=None
        )
    assert not User.objects.filter(email="mary@example.org").exists()


# Leaving


def test_marking_as_left_ends_their_group_offices_on_that_date(rep_client, council):
    group = CouncilGroupFactory(council=council)
    target = CouncillorFactory(council=council)
    colleague = CouncillorFactory(council=council)
    started = datetime.date(2025, 5, 12)
    leader = GroupOfficerFactory(group=group, role="leader", user=target.user, start_date=started)
    whip = GroupOfficerFactory(group=group, role="chief_whip", user=target.user, start_date=started)
    secretary = GroupOfficerFactory(group=group, role="secretary", user=colleague.user)
    assert not CouncilGroup.objects.without_current(GroupOfficer.Role.LEADER).exists()

    response = rep_client.post(
        reverse("councillor_leave", args=["oakfield", target.pk]),
        {"left_on": "2026-05-08", "confirm": "on"},
    )

    assert response.status_code == 302
    left = datetime.date(2026, 5, 8)
    for office in (leader, whip):
        office.refresh_from_db()
        assert office.end_date == left
        latest = office.history.first()
        assert latest.history_change_reason == "Term ended: no longer a councillor"
        assert str(latest.history_user_id) == rep_client.session["_auth_user_id"]
    secretary.refresh_from_db()
    assert secretary.end_date is None
    assert list(CouncilGroup.objects.without_current(GroupOfficer.Role.LEADER)) == [group]
    assert not GroupOfficer.objects.current().filter(user=target.user).exists()


def test_an_office_that_began_after_the_leaving_date_ends_the_day_it_began(council):
    group = CouncilGroupFactory(council=council)
    target = CouncillorFactory(council=council)
    began = timezone.localdate() - datetime.timedelta(days=3)
    office = GroupOfficerFactory(group=group, user=target.user, start_date=began)

    onboarding.councillor_mark_left(councillor=target, left_on=datetime.date(2024, 1, 1))

    office.refresh_from_db()
    assert office.end_date == began
    target.refresh_from_db()
    assert target.left_on == datetime.date(2024, 1, 1)


def test_marking_as_left_refuses_a_future_date_next_to_the_field(rep_client, council):
    group = CouncilGroupFactory(council=council)
    target = CouncillorFactory(council=council)
    office = GroupOfficerFactory(group=group, user=target.user)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = rep_client.post(
        reverse("councillor_leave", args=["oakfield", target.pk]),
        {"left_on": tomorrow.isoformat(), "confirm": "on"},
    )

    assert response.status_code == 200
    errors = re.search(
        r'<ul class="errorlist" id="id_left_on_error">(.*?)</ul>', response.text, re.S
    )
    assert errors and "cannot be in the future" in errors.group(1)
    assert re.search(r'aria-describedby="[^"]*id_left_on_error', response.text)
    target.refresh_from_db()
    office.refresh_from_db()
    assert target.left_on is None
    assert office.end_date is None
    assert Councillor.objects.serving().filter(pk=target.pk).exists()


def test_the_service_refuses_a_future_leaving_date_too(council):
    target = CouncillorFactory(council=council)
    with pytest.raises(ValidationError) as refused:
        onboarding.councillor_mark_left(
            councillor=target, left_on=timezone.localdate() + datetime.timedelta(days=30)
        )
    assert "left_on" in refused.value.message_dict
    target.refresh_from_db()
    assert target.left_on is None


def test_today_is_an_allowed_leaving_date(rep_client, council):
    target = CouncillorFactory(council=council)
    rep_client.post(
        reverse("councillor_leave", args=["oakfield", target.pk]),
        {"left_on": timezone.localdate().isoformat(), "confirm": "on"},
    )
    target.refresh_from_db()
    assert target.left_on == timezone.localdate()


# Phone numbers


@pytest.mark.parametrize("phone", ["0207 946", "946 0000", "+44 20 7946 0000 0000 00"])
def test_rep_cannot_give_a_phone_number_with_too_few_or_too_many_digits(rep_client, council, phone):
    target = CouncillorFactory(council=council, phone="")
    for url, data in [
        (
            reverse("councillor_add", args=["oakfield"]),
            {"full_name": "Mary Seacole", "email": "mary@example.org", "ward": "S"},
        ),
        (
            reverse("councillor_edit", args=["oakfield", target.pk]),
            {"full_name": "Ada Lovelace", "ward": "S"},
        ),
    ]:
        response = rep_client.post(url, {**data, "phone": phone})
        assert response.status_code == 200
        errors = re.search(
            r'<ul class="errorlist" id="id_phone_error">(.*?)</ul>', response.text, re.S
        )
        assert errors and "10 to 15 digits" in errors.group(1)
    target.refresh_from_db()
    assert target.phone == ""
    assert not User.objects.filter(email="mary@example.org").exists()


def test_an_old_short_phone_number_does_not_stop_a_rep_saving_other_changes(rep_client, council):
    target = CouncillorFactory(council=council, phone="946 0000", ward="Old")
    url = reverse("councillor_edit", args=["oakfield", target.pk])

    page = rep_client.get(url).text
    help_text = re.search(r'<p class="help" id="id_phone_helptext">(.*?)</p>', page, re.S)
    assert help_text and "does not look complete or valid" in help_text.group(1)
    assert re.search(r'aria-describedby="[^"]*id_phone_helptext', page)

    response = rep_client.post(
        url, {"full_name": target.user.full_name, "ward": "New", "phone": "946 0000"}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.ward, target.phone) == ("New", "946 0000")

    # A changed number must follow the rule.
    response = rep_client.post(
        url, {"full_name": target.user.full_name, "ward": "New", "phone": "946 0001"}
    )
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.phone == "946 0000"
