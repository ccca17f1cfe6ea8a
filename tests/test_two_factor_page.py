"""The second sign-in step, in the portal's words."""

import re

import pytest
from django.urls import reverse
from factories import PASSWORD, TwoFactorUserFactory

pytestmark = pytest.mark.django_db


def test_the_code_step_explains_itself_and_cancelling_signs_out(client):
    user = TwoFactorUserFactory(email="enrolled@example.org")
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.url == reverse("mfa_authenticate")

    page = client.get(response.url).text
    assert "<h1>Enter your two-factor code</h1>" in page
    assert "recovery codes" in page
    assert re.search(r'<label for="id_code">Code</label>', page)
    cancel = re.search(r'<form id="logout-from-stage" method="post" action="([^"]+)"', page)
    assert cancel and cancel.group(1) == reverse("account_logout")

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert re.search(r'class="errorlist"[^>]*><li>Incorrect code', wrong.text)
    assert "_auth_user_id" not in client.session
