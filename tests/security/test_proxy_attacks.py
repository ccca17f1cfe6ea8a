"""Behind a proxy every request comes from the proxy's address. Rate limits must count the
visitor's (from X-Forwarded-For, trusting as many proxies as TRUSTED_PROXY_COUNT says), or one
attacker would lock everybody out, and be locked out only together with everybody."""

import pytest
from django.test import Client
from django.urls import reverse
from factories import PASSWORD, CouncilFactory, UserFactory

from alc_portal import settings as portal_settings

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
ATTACKER, VISITOR = "203.0.113.5", "198.51.100.7"


@pytest.fixture
def behind_one_proxy(settings):
    # As .env.example sets it: one proxy (nginx) in front of the portal.
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1


def _from(ip) -> Client:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ip)


def test_the_example_environment_trusts_one_proxy():
    example = (portal_settings.BASE_DIR / ".env.example").read_text()
    assert "\nTRUSTED_PROXY_COUNT=1\n" in example


def test_two_visitors_behind_one_proxy_are_limited_separately_at_sign_in(behind_one_proxy):
    attacker = _from(ATTACKER)
    for n in range(12):
        attacker.post(
            reverse("account_login"), {"login": f"guess{n}@example.org", "password": "wrong-guess"}
        )
    refused = attacker.post(
        reverse("account_login"), {"login": "guess99@example.org", "password": "wrong-guess"}
    )
    assert "Too many failed login attempts" in refused.text

    person = UserFactory()
    visitor = _from(VISITOR)
    response = visitor.post(reverse("account_login"), {"login": person.email, "password": PASSWORD})
    assert response.status_code == 302
    assert visitor.session["_auth_user_id"] == str(person.pk)


def test_two_visitors_behind_one_proxy_are_limited_separately_on_the_join_form(behind_one_proxy):
    CouncilFactory(name="Oakfield Borough Council", short_name="Oakfield")
    data = {"full_name": "Someone", "council": "Oakfield", "ward": "Riverside"}
    attacker = _from(ATTACKER)
    statuses = [
        attacker.post(reverse("join"), {**data, "email": f"j{n}@example.org"}).status_code
        for n in range(12)
    ]
    assert statuses[-1] == 429
    response = _from(VISITOR).post(reverse("join"), {**data, "email": "me@example.org"})
    assert response.status_code == 302
