"""`manage.py staff_add`: the first national staff account of a new portal."""

import io

import pytest
from django.core.management import CommandError, call_command
from factories import UserFactory

from members.models import StaffRole, User

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command("staff_add", *args, stdout=out)
    return out.getvalue()


def test_a_new_address_becomes_a_staff_account_that_must_choose_a_password():
    output = _run("Ada@Example.org", "--name", "Ada Lovelace", "--job-title", "Organiser")
    user = User.objects.get(email="ada@example.org")
    assert user.full_name == "Ada Lovelace"
    assert user.is_national_staff and user.is_staff and not user.is_superuser
    assert StaffRole.objects.get(user=user).job_title == "Organiser"
    assert not user.has_usable_password()
    assert user.emailaddress_set.get().verified
    assert "changepassword ada@example.org" in output


def test_an_existing_person_is_appointed_and_running_it_again_changes_nothing():
    person = UserFactory(email="grace@example.org", full_name="Grace Hopper")
    _run("grace@example.org", "--superuser")
    _run("grace@example.org", "--superuser")
    person.refresh_from_db()
    assert person.is_superuser and person.is_staff
    assert StaffRole.objects.filter(user=person).count() == 1
    assert person.full_name == "Grace Hopper"


def test_a_malformed_address_is_refused_and_nothing_is_made():
    with pytest.raises(CommandError, match="not an email address"):
        _run("not-an-address")
    assert not User.objects.exists()
