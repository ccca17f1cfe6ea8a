"""Attacks on email addresses: squatting someone's address so that they cannot join or be
imported, and pointing an account someone else will use at an address the attacker holds.
In each, the real owner ends up with the address."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import (
    PASSWORD,
    CouncilFactory,
    CouncillorFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
)
from mailreading import text_of
from polling import wait_for

from members.models import Councillor, CouncillorImport, Decision, JoinRequest, User
from members.services import councillors, join_requests
from members.services.notices import notices_send_due

pytestmark = pytest.mark.django_db

OWNER = "grace@example.org"
NEW_PASSWORD = "a-long-new-password-77"


@pytest.fixture
def council():
    return CouncilFactory(
        region=RegionFactory(name="Region X", slug="region-x"),
        name="Oakfield Borough Council",
        short_name="Oakfield",
        gss_code="E0600001",
        slug="oakfield",
    )


@pytest.fixture
def squatter():
    """Someone who typed the owner's address into their own account, never confirming it."""
    person = UserFactory(email="squatter@example.org")
    EmailAddress.objects.create(user=person, email=OWNER.upper(), verified=False, primary=False)
    return person


@pytest.fixture
def rep(council):
    return RepresentativeFactory(region=council.region).user


def _accept_invitation(join_request, smtp_server):
    notices_send_due()
    [invitation] = [m for m in smtp_server.messages if m.rcpt_tos == [OWNER]]
    link = re.search(r"http://127.0.0.1:8000(/invitation/\S+/\S+/)", text_of(invitation)).group(1)
    owner = Client()
    response = owner.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    return owner


def _owner_has_the_address(squatter):
    owner = User.objects.get(email=OWNER)
    assert EmailAddress.objects.get(email__iexact=OWNER, verified=True).user == owner
    assert not EmailAddress.objects.filter(user=squatter, email__iexact=OWNER).exists()
    assert owner.check_password(NEW_PASSWORD)


def test_an_unconfirmed_address_on_another_account_does_not_stop_a_join_request(
    client, council, squatter, rep, smtp_server
):
    client.post(
        reverse("join"),
        {"full_name": "Grace Hopper", "council": "Oakfield", "ward": "Riverside", "email": OWNER},
    )
    join_request = JoinRequest.objects.get(email=OWNER)
    approver = Client()
    approver.force_login(rep)
    approver.post(reverse("join_request_approve", args=[join_request.pk]))
    join_request.refresh_from_db()
    assert join_request.status == Decision.APPROVED
    _accept_invitation(join_request, smtp_server)
    _owner_has_the_address(squatter)


def test_an_unconfirmed_address_on_another_account_does_not_stop_an_import(
    client, council, squatter, rep, smtp_server
):
    client.force_login(rep)
    csv = f"full_name,email,council,ward\nGrace Hopper,{OWNER},Oakfield,Riverside\n"
    client.post(
        reverse("import_upload", args=["region-x"]),
        {"file": SimpleUploadedFile("c.csv", csv.encode(), content_type="text/csv")},
    )
    councillor_import = CouncillorImport.objects.get()
    assert not any(row.get("errors") for row in councillor_import.report["rows"])
    client.post(reverse("import_confirm", args=[councillor_import.pk]))
    assert Councillor.objects.filter(user__email=OWNER).exists()
    _accept_invitation(JoinRequest.objects.get(email=OWNER), smtp_server)
    _owner_has_the_address(squatter)


def test_the_squatter_cannot_confirm_the_address_once_the_owner_has(
    council, squatter, rep, smtp_server
):
    join_request = JoinRequest.objects.create(
        full_name="Grace Hopper", email=OWNER, council=council, ward="Riverside"
    )
    join_requests.join_request_approve(join_request=join_request, by=rep)
    _accept_invitation(join_request, smtp_server)
    intruder = Client()
    intruder.force_login(squatter)
    # allauth answers as if it were free (so as not to tell who has which address), and the
    # address added is never confirmed: the owner's is the only confirmed one.
    intruder.post(reverse("account_email"), {"action_add": "", "email": OWNER})
    assert not EmailAddress.objects.filter(user=squatter, email__iexact=OWNER, verified=True)
    owner = User.objects.get(email=OWNER)
    assert EmailAddress.objects.get(email__iexact=OWNER, verified=True).user == owner


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("closed", [False, True])
def test_a_join_request_for_a_taken_address_is_answered_by_email_telling_a_stranger_nothing(
    client, council, celery_worker, worker_smtp, closed
):
    UserFactory(email=OWNER, full_name="Grace Hopper", is_active=not closed)
    earlier = len(worker_smtp.messages)
    data = {"full_name": "Someone", "council": "Oakfield", "ward": "Riverside"}
    fresh = client.post(reverse("join"), {**data, "email": "fresh@example.org"}, follow=True)
    taken = client.post(reverse("join"), {**data, "email": OWNER}, follow=True)
    assert taken.content == fresh.content
    assert not JoinRequest.objects.filter(email=OWNER).exists()
    [note] = wait_for(lambda: [m for m in worker_smtp.messages[earlier:] if m.rcpt_tos == [OWNER]])
    body = text_of(note)
    assert "You already have an account" in body
    if closed:
        assert "Your account is closed" in body and "national office" in body
    else:
        assert reverse("account_reset_password") in body


# Re-pointing: a representative turns an account someone else will use towards their own address.

ATTACKER = "attacker@example.org"


def _repoint(client, councillor, email=ATTACKER):
    url = reverse("councillor_edit", args=[councillor.council.slug, councillor.pk])
    page = client.get(url)
    client.post(
        url,
        {"full_name": councillor.user.full_name, "email": email, "ward": "Riverside", "phone": ""},
    )
    return page


def _invitee(council, email=OWNER):
    councillor = CouncillorFactory(council=council, user__email=email)
    councillor.user.set_unusable_password()
    councillor.user.save()
    return councillor


def _still_the_owners(councillor):
    user = User.objects.get(pk=councillor.user_id)
    assert user.email == OWNER
    assert not User.objects.filter(email=ATTACKER).exists()
    assert not EmailAddress.objects.filter(email=ATTACKER).exists()


def test_a_representative_cannot_repoint_an_account_that_has_signed_in(client, council, rep):
    councillor = CouncillorFactory(council=council, user__email=OWNER)
    User.objects.filter(pk=councillor.user_id).update(last_login=timezone.now())
    client.force_login(rep)
    response = _repoint(client, councillor)
    assert "theirs to change" in response.text
    _still_the_owners(councillor)


def test_a_representative_cannot_repoint_an_account_with_another_role(client, council, rep):
    councillor = _invitee(council)
    RepresentativeFactory(user=councillor.user, region=RegionFactory(name="Elsewhere"))
    client.force_login(rep)
    response = _repoint(client, councillor)
    assert "only a superuser" in response.text
    _still_the_owners(councillor)


def test_a_representative_cannot_repoint_an_account_whose_invitation_still_works(
    client, council, rep
):
    client.force_login(rep)
    client.post(
        reverse("councillor_add", args=[council.slug]),
        {"full_name": "Grace Hopper", "email": OWNER, "ward": "Riverside", "phone": ""},
    )
    councillor = Councillor.objects.get(user__email=OWNER)
    response = _repoint(client, councillor)
    assert "only the national office can point the account at another address" in response.text
    _still_the_owners(councillor)
    with pytest.raises(ValidationError):
        councillors.councillor_email_correct(councillor=councillor, email=ATTACKER, by=rep)
    _still_the_owners(councillor)


def test_a_representative_corrects_an_address_no_invitation_has_gone_to(client, council, rep):
    councillor = _invitee(council, email="grace@exmaple.org")
    client.force_login(rep)
    _repoint(client, councillor, email=OWNER)
    assert User.objects.get(pk=councillor.user_id).email == OWNER


def test_the_national_office_corrects_an_address_an_invitation_went_to(client, council, rep):
    councillors.councillor_add(
        council=council,
        full_name="Grace Hopper",
        email="grace@exmaple.org",
        ward="Riverside",
        phone="",
        by=rep,
    )
    councillor = Councillor.objects.get(user__email="grace@exmaple.org")
    client.force_login(StaffFactory())
    _repoint(client, councillor, email=OWNER)
    assert User.objects.get(pk=councillor.user_id).email == OWNER


def test_the_owner_changes_their_own_address_by_confirming_it_from_the_new_one(client, smtp_server):
    owner = UserFactory(email=OWNER)
    client.force_login(owner)
    client.post(reverse("account_email"), {"action_add": "", "email": "grace.new@example.org"})
    assert User.objects.get(pk=owner.pk).email == OWNER
    [confirmation] = [m for m in smtp_server.messages if m.rcpt_tos == ["grace.new@example.org"]]
    key = re.search(r"/accounts/confirm-email/([^/\s]+)/", text_of(confirmation)).group(1)
    client.post(reverse("account_confirm_email", args=[key]))
    client.post(reverse("account_email"), {"action_primary": "", "email": "grace.new@example.org"})
    assert User.objects.get(pk=owner.pk).email == "grace.new@example.org"
    assert client.post(
        reverse("account_login"), {"login": "grace.new@example.org", "password": PASSWORD}
    ).status_code in (200, 302)
