"""A person's history, as staff read it: email addresses, permission grants, and the one line
left after an erasure."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from factories import CouncillorFactory, ErasureRequestFactory, StaffFactory

from members.history import councillor_changes
from members.models import User
from members.services.erasure import erasure_carry_out
from members.services.staff import staff_appoint, staff_remove

pytestmark = pytest.mark.django_db

NEW = "dyfan.morgan@cardiff.example.gov.uk"


def _lines(changes) -> list[str]:
    return [f"{c.subject}: {c.kind} ({c.reason})" for c in changes]


def _history_page(client, councillor) -> str:
    staff = StaffFactory(full_name="Olive Office")
    client.force_login(staff)
    response = client.get(reverse("councillor_history", args=[councillor.pk]))
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.text)


def test_email_addresses_added_verified_made_primary_and_removed_are_in_the_history(
    client, mailoutbox
):
    councillor = CouncillorFactory()
    old = councillor.user.email
    client.force_login(councillor.user)

    client.post(reverse("account_email"), {"action_add": "", "email": NEW})
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mailoutbox[0].body)
    client.post(link.group(1))
    client.post(reverse("account_email"), {"action_primary": "", "email": NEW})
    client.post(reverse("account_email"), {"action_remove": "", "email": old})
    assert list(EmailAddress.objects.filter(user=councillor.user).values_list("email")) == [(NEW,)]

    changes = [c for c in councillor_changes(councillor) if c.subject.startswith("Email")]
    kinds = [(c.subject, c.kind, {f.label: f.new for f in c.fields}) for c in reversed(changes)]
    assert kinds[0][:2] == (f"Email address {old}", "Created")  # when the account was made
    assert kinds[1][:2] == (f"Email address {NEW}", "Created")
    assert (f"Email address {NEW}", "Changed", {"Verified": "True"}) in kinds
    assert (f"Email address {NEW}", "Changed", {"Primary": "True"}) in kinds
    assert (f"Email address {old}", "Changed", {"Primary": "False"}) in kinds
    assert kinds[-1][:2] == (f"Email address {old}", "Deleted")
    # Each change after the account was made was the person's own, signed in.
    assert {c.who for c in changes[:-1]} == {councillor.user.full_name}

    page = _history_page(client, councillor)
    assert f"Email address {NEW}</strong>: created" in page
    assert f"Email address {old}</strong>: deleted" in page


def test_permission_groups_and_permissions_granted_and_removed_are_in_the_history(client):
    councillor = CouncillorFactory()
    user = councillor.user

    staff_appoint(user=user)
    user.user_permissions.add(Permission.objects.get(codename="view_equality_monitoring"))
    staff_remove(user=user)
    user.user_permissions.clear()
    Group.objects.get(name="National staff").user_set.add(user)

    lines = _lines(reversed(councillor_changes(councillor)))
    reasons = [line for line in lines if "Permission" in line]
    assert reasons == [
        "Account: Changed (Permission group granted: National staff)",
        "Account: Changed (Permission granted: view_equality_monitoring)",
        "Account: Changed (Permission group removed: National staff)",
        "Account: Changed (Permission removed: view_equality_monitoring)",
        "Account: Changed (Permission group granted: National staff)",
    ]
    assert "Permission granted: view_equality_monitoring" in _history_page(client, councillor)


def test_a_grant_made_in_the_admin_site_names_who_made_it(client):
    councillor = CouncillorFactory()
    superuser = StaffFactory(full_name="Sam Super", is_superuser=True)
    client.force_login(superuser)
    group = Group.objects.get(name="National staff")
    user = councillor.user
    response = client.post(
        reverse("admin:members_user_change", args=[user.pk]),
        {
            "email": user.email,
            "full_name": user.full_name,
            "preferred_name": "",
            "is_active": "on",
            "groups": [group.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert response.status_code == 302
    [grant] = [c for c in councillor_changes(councillor) if "Permission group" in c.reason]
    assert grant.who == "Sam Super"


def test_after_an_erasure_one_anonymised_line_remains(client):
    councillor = CouncillorFactory(phone="020 7946 0001")
    user = councillor.user
    EmailAddress.objects.create(user=user, email=NEW, verified=True)
    staff_appoint(user=user)
    staff = StaffFactory(full_name="Olive Office")

    erasure_carry_out(request=ErasureRequestFactory(user=user), by=staff)

    changes = councillor_changes(councillor)
    today = timezone.localdate()
    assert _lines(changes) == [f"Account: Changed (Erased by Olive Office on {today:%-d %B %Y})"]
    [erased] = changes
    assert erased.who == "Olive Office"
    values = " ".join(f.new for f in erased.fields)
    assert "Erased member" in values
    assert NEW not in values and "020 7946" not in values
    assert not EmailAddress.history.filter(user_id=user.pk).exists()
    assert User.history.filter(id=user.pk).count() == 1
