"""Erasure is complete: the person is logged out everywhere, and a group contact address that is
theirs is shown to staff before and blanked (with history) when the erasure is carried out."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from factories import (
    CouncilGroupFactory,
    CouncillorFactory,
    ErasureRequestFactory,
    StaffFactory,
)

from members.models import Decision
from members.services.erasure import erasure_carry_out
from regions.models import CouncilGroup

pytestmark = pytest.mark.django_db

SECOND = "jo.secretary@example.org"


def _sessions_of(user) -> int:
    return sum(
        1 for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)
    )


def test_erasure_ends_every_session_of_the_person_and_no_one_elses():
    person = CouncillorFactory().user
    other = CouncillorFactory().user
    phone, laptop, bystander = Client(), Client(), Client()
    phone.force_login(person)
    laptop.force_login(person)
    bystander.force_login(other)
    assert _sessions_of(person) == 2

    erasure_carry_out(request=ErasureRequestFactory(user=person), by=StaffFactory())

    assert _sessions_of(person) == 0
    assert _sessions_of(other) == 1
    response = phone.get(reverse("profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert bystander.get(reverse("profile")).status_code == 200


@pytest.fixture
def person_with_group_address():
    councillor = CouncillorFactory()
    EmailAddress.objects.create(user=councillor.user, email=SECOND, verified=True)
    theirs = CouncilGroupFactory(contact_email=councillor.user.email.upper())
    also_theirs = CouncilGroupFactory(contact_email=SECOND)
    someone_elses = CouncilGroupFactory(contact_email="office@labour.example.org")
    return councillor, [theirs, also_theirs], someone_elses


def test_the_decision_page_shows_groups_whose_contact_address_is_the_persons(
    client, person_with_group_address
):
    councillor, theirs, someone_elses = person_with_group_address
    erasure = ErasureRequestFactory(user=councillor.user)
    client.force_login(StaffFactory())

    page = client.get(reverse("decisions_erasure", args=[erasure.pk]))

    assert "Labour groups whose contact address is this person's" in page.text
    for group in theirs:
        assert group.name in page.text
    assert someone_elses.name not in page.text


def test_the_decision_page_shows_no_group_table_when_none_shares_an_address(client):
    erasure = ErasureRequestFactory(user=CouncillorFactory().user)
    CouncilGroupFactory()
    client.force_login(StaffFactory())
    page = client.get(reverse("decisions_erasure", args=[erasure.pk]))
    assert "Labour groups whose contact address" not in page.text


def test_carrying_out_blanks_the_groups_address_with_history(client, person_with_group_address):
    councillor, theirs, someone_elses = person_with_group_address
    erasure = ErasureRequestFactory(user=councillor.user)
    staff = StaffFactory(full_name="Olive Office")
    client.force_login(staff)

    response = client.post(
        reverse("decisions_erasure", args=[erasure.pk]), {"decision": "approved", "reason": ""}
    )

    assert response.status_code == 302
    erasure.refresh_from_db()
    assert erasure.status == Decision.APPROVED
    for group in theirs:
        group.refresh_from_db()
        assert group.contact_email == ""
        latest = group.history.latest()
        assert latest.history_change_reason == "Contact address removed: personal data erased"
        assert latest.history_user == staff
    # The address is gone from the groups' earlier history records too.
    addresses = {councillor.user.email.lower(), SECOND}
    kept = CouncilGroup.history.values_list("contact_email", flat=True)
    assert not addresses & {a.lower() for a in kept}
    someone_elses.refresh_from_db()
    assert someone_elses.contact_email == "office@labour.example.org"
