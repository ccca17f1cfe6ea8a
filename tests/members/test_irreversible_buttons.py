"""Buttons for what cannot be taken back (erasing, marking as no longer a councillor, removing a
representative, ending an office, withdrawing answers) look unlike "Save": the warning style."""

import re

import pytest
from django.urls import reverse
from factories import (
    CouncillorFactory,
    GroupOfficerFactory,
    RepresentativeFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def _button(page: str, label: str) -> str:
    found = re.search(rf"<button[^>]*>{re.escape(label)}", page)
    assert found, f"no button {label!r}"
    return found.group(0)


def test_a_councillors_irreversible_buttons_are_warnings(client):
    councillor = CouncillorFactory()
    client.force_login(councillor.user)
    for url, label in [
        (reverse("my_data"), "Ask for my data to be erased"),
        (reverse("equality"), "Withdraw and delete my answers"),
    ]:
        page = client.get(url).text
        if label in page:
            assert 'class="warning"' in _button(page, label), label


def test_managers_irreversible_buttons_are_warnings(client):
    councillor = CouncillorFactory()
    rep = RepresentativeFactory(region=councillor.council.region)
    officer = GroupOfficerFactory(user=councillor.user, group__council=councillor.council)
    client.force_login(StaffFactory())
    pages = [
        (reverse("councillor_leave", args=[councillor.council.slug, councillor.pk]), "Confirm"),
        (reverse("representative_remove", args=[rep.pk]), "Remove as representative"),
    ]
    for url, label in pages:
        page = client.get(url).text
        assert 'class="warning"' in _button(page, label), label
    # Ending an office is asked for from the officers page; a date it refuses shows the form.
    page = client.post(reverse("regions:officer_end", args=[officer.pk]), {"end_date": ""}).text
    assert 'class="warning"' in _button(page, "End the term")
