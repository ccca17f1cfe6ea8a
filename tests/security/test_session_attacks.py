"""Attacks on sessions: one left open on a shared computer, a stolen cookie used after signing
out, a session opened by someone who knew the old password or second factor."""

import time

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from factories import PASSWORD, CouncillorFactory, StaffFactory

from members.middleware import SEEN_AT, SIGNED_IN_AT

pytestmark = pytest.mark.django_db


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _age_session(client, **seconds_ago):
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[{"signed_in": SIGNED_IN_AT, "seen": SEEN_AT}[key]] = now - ago
    session.save()


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def test_an_idle_staff_session_is_refused_after_the_idle_time(settings, staff_client):
    settings.PRIVILEGED_SESSION_IDLE_SECONDS = 120
    _age_session(staff_client, seen=100)
    assert staff_client.get("/regions/national/").status_code == 200
    _age_session(staff_client, seen=121)
    response = staff_client.get("/regions/national/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not _signed_in(staff_client)
    assert staff_client.get("/regions/national/").status_code == 302


def test_a_busy_staff_session_ends_at_the_absolute_time(settings, staff_client):
    settings.PRIVILEGED_SESSION_MAX_SECONDS = 3600
    _age_session(staff_client, signed_in=3500, seen=0)
    assert staff_client.get("/regions/national/").status_code == 200
    _age_session(staff_client, signed_in=3601, seen=0)
    response = staff_client.get("/regions/national/")
    assert response.status_code == 302
    assert not _signed_in(staff_client)


def test_the_default_times_are_thirty_minutes_and_twelve_hours(settings):
    assert settings.PRIVILEGED_SESSION_IDLE_SECONDS == 30 * 60
    assert settings.PRIVILEGED_SESSION_MAX_SECONDS == 12 * 60 * 60


def test_a_background_poll_does_not_keep_an_idle_session_alive(settings, staff_client):
    settings.PRIVILEGED_SESSION_IDLE_SECONDS = 120
    _age_session(staff_client, seen=110)
    staff_client.get("/regions/national/", headers={"X-Portal-Background": "1"})
    _age_session(staff_client, seen=121)
    assert staff_client.get("/regions/national/").status_code == 302


def test_a_councillor_keeps_the_longer_session(settings, client):
    councillor = CouncillorFactory()
    client.force_login(councillor.user)
    _age_session(client, signed_in=settings.PRIVILEGED_SESSION_MAX_SECONDS + 60, seen=7200)
    assert client.get(reverse("profile")).status_code == 200


def test_signing_out_ends_the_session_on_the_server(staff_client):
    cookie = staff_client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=cookie).exists()
    staff_client.post(reverse("account_logout"))
    assert not Session.objects.filter(session_key=cookie).exists()
    thief = Client()
    thief.cookies["sessionid"] = cookie
    assert thief.get("/regions/national/").status_code == 302
    assert not _signed_in(thief)


def _two_devices(user):
    first, second = Client(), Client()
    first.force_login(user)
    second.force_login(user)
    assert first.get("/regions/national/").status_code == 200
    assert second.get("/regions/national/").status_code == 200
    return first, second


def test_changing_ones_password_ends_ones_other_sessions():
    staff = StaffFactory()
    here, elsewhere = _two_devices(staff)
    new = "a-brand-new-passphrase-81"
    response = here.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    assert response.status_code == 302
    assert here.get("/regions/national/").status_code == 200
    assert elsewhere.get("/regions/national/").status_code == 302
    assert not _signed_in(elsewhere)


# allauth announces new recovery codes once their transaction commits, as in production.
@pytest.mark.django_db(transaction=True)
def test_changing_ones_second_factor_ends_ones_other_sessions():
    staff = StaffFactory()
    here, elsewhere = _two_devices(staff)
    response = here.post(reverse("mfa_generate_recovery_codes"))
    assert response.status_code == 302
    assert here.get("/regions/national/").status_code == 200
    assert elsewhere.get("/regions/national/").status_code == 302
    assert not _signed_in(elsewhere)


def test_turning_off_the_second_factor_ends_ones_other_sessions():
    staff = StaffFactory()
    here, elsewhere = _two_devices(staff)
    response = here.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert elsewhere.get("/regions/national/").status_code == 302
    assert not _signed_in(elsewhere)
