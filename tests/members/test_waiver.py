"""Levy waivers: a councillor applies, the national office decides, the councillor sees why."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import CouncillorFactory, LevyWaiverFactory, StaffFactory

from members.models import Decision, LevyWaiver

pytestmark = pytest.mark.django_db

DECLARED = {"circumstances": "My allowance is my only income.", "declaration": "on"}
YEAR = timezone.localdate().year


def test_application_form_defaults_to_this_year(client):
    client.force_login(CouncillorFactory().user)
    response = client.get(reverse("levy_waiver"))
    assert f'value="{timezone.localdate().year}"' in response.text
    assert "information I have given is true" in response.text


def test_councillor_applies_with_the_declaration(client):
    councillor = CouncillorFactory()
    client.force_login(councillor.user)
    response = client.post(reverse("levy_waiver"), {"year": YEAR, **DECLARED})
    assert response.status_code == 302
    waiver = LevyWaiver.objects.get()
    assert (waiver.councillor, waiver.year, waiver.declaration) == (councillor, YEAR, True)
    assert waiver.status == Decision.PENDING


def test_application_without_the_declaration_is_refused_next_to_the_box(client):
    client.force_login(CouncillorFactory().user)
    response = client.post(reverse("levy_waiver"), {"year": YEAR, "circumstances": "Low income"})
    assert response.status_code == 200
    assert "Tick the declaration to apply." in response.text
    assert 'id="id_declaration_error"' in response.text
    assert not LevyWaiver.objects.exists()


def test_overlong_or_scripted_circumstances_are_handled(client):
    client.force_login(CouncillorFactory().user)
    response = client.post(
        reverse("levy_waiver"), {"year": YEAR, **DECLARED, "circumstances": "x" * 2001}
    )
    assert "at most 2000 characters" in response.text
    assert not LevyWaiver.objects.exists()
    client.post(
        reverse("levy_waiver"),
        {"year": YEAR, **DECLARED, "circumstances": "<script>alert(1)</script>"},
    )
    assert LevyWaiver.objects.get().circumstances == "<script>alert(1)</script>"
    client.force_login(StaffFactory())
    text = client.get(reverse("decisions_waiver", args=[LevyWaiver.objects.get().pk])).text
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_one_live_application_per_year(client):
    councillor = CouncillorFactory()
    LevyWaiverFactory(councillor=councillor, year=YEAR)
    client.force_login(councillor.user)
    response = client.post(reverse("levy_waiver"), {"year": YEAR, **DECLARED})
    assert response.status_code == 200
    assert f"You already have a levy waiver application for {YEAR}" in response.text
    assert LevyWaiver.objects.count() == 1
    # Another year is fine, and so is applying again after a refusal.
    client.post(reverse("levy_waiver"), {"year": YEAR + 1, **DECLARED})
    LevyWaiver.objects.filter(year=YEAR).update(status=Decision.REFUSED)
    client.post(reverse("levy_waiver"), {"year": YEAR, **DECLARED})
    assert LevyWaiver.objects.count() == 3


def test_staff_approve_and_councillor_sees_it(client):
    waiver = LevyWaiverFactory()
    staff = StaffFactory()
    client.force_login(staff)
    assert waiver.councillor.user.full_name in client.get(reverse("decisions_waivers")).text
    client.post(reverse("decisions_waiver", args=[waiver.pk]), {"decision": "approved"})
    waiver.refresh_from_db()
    assert (waiver.status, waiver.decided_by) == (Decision.APPROVED, staff)
    client.force_login(waiver.councillor.user)
    assert "Approved on" in client.get(reverse("levy_waiver")).text


def test_refusal_needs_a_reason_which_the_councillor_sees(client):
    waiver = LevyWaiverFactory()
    client.force_login(StaffFactory())
    url = reverse("decisions_waiver", args=[waiver.pk])
    response = client.post(url, {"decision": "refused", "reason": "  "})
    assert response.status_code == 200
    assert "Give a reason for refusing." in response.text
    waiver.refresh_from_db()
    assert waiver.status == Decision.PENDING

    client.post(url, {"decision": "refused", "reason": "Your income is above the threshold."})
    client.force_login(waiver.councillor.user)
    text = client.get(reverse("levy_waiver")).text
    assert "Refused on" in text
    assert "Your income is above the threshold." in text


def test_waiver_list_makes_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    client.force_login(StaffFactory())
    LevyWaiverFactory.create_batch(3)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("decisions_waivers"))
    LevyWaiverFactory.create_batch(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("decisions_waivers"))


@pytest.mark.parametrize("year", [YEAR - 1, YEAR, YEAR + 1])
def test_this_last_or_next_year_may_be_applied_for(client, year):
    client.force_login(CouncillorFactory().user)
    response = client.post(reverse("levy_waiver"), {"year": year, **DECLARED})
    assert response.status_code == 302
    assert LevyWaiver.objects.get().year == year


@pytest.mark.parametrize("year", [YEAR - 2, YEAR + 2, 2000, 20266])
def test_an_implausible_year_is_refused_next_to_the_field(client, year):
    client.force_login(CouncillorFactory().user)
    response = client.post(reverse("levy_waiver"), {"year": year, **DECLARED})
    assert response.status_code == 200
    assert 'id="id_year_error"' in response.text
    assert f"this year, last year or next year ({YEAR - 1} to {YEAR + 1})" in response.text
    assert not LevyWaiver.objects.exists()


def test_the_year_field_says_which_years_are_accepted(client):
    client.force_login(CouncillorFactory().user)
    response = client.get(reverse("levy_waiver"))
    assert 'id="id_year_helptext">This year, last year or next year.' in response.text


def test_the_reason_is_labelled_as_required_to_refuse(client):
    waiver = LevyWaiverFactory()
    client.force_login(StaffFactory())
    text = client.get(reverse("decisions_waiver", args=[waiver.pk])).text
    assert "Reason (required to refuse)</label>" in text
    assert "(optional)" not in text


def _offered_years(page: str) -> list[str]:
    return re.findall(r'<input type="radio" name="year" value="(\d{4})"', page)


def test_only_years_without_an_application_are_offered(client):
    councillor = CouncillorFactory()
    client.force_login(councillor.user)
    assert _offered_years(client.get(reverse("levy_waiver")).text) == [
        str(YEAR - 1),
        str(YEAR),
        str(YEAR + 1),
    ]

    client.post(reverse("levy_waiver"), {"year": YEAR, **DECLARED})
    page = client.get(reverse("levy_waiver")).text

    assert _offered_years(page) == [str(YEAR - 1), str(YEAR + 1)]
    # The next year open is the one chosen, and the page says why this year is missing.
    assert re.search(rf'value="{YEAR + 1}"[^>]*checked', page)
    assert f"Years you have already applied for ({YEAR}) are not listed." in page


def test_a_refused_year_is_offered_again(client):
    councillor = CouncillorFactory()
    LevyWaiverFactory(councillor=councillor, year=YEAR, status=Decision.REFUSED)
    client.force_login(councillor.user)
    page = client.get(reverse("levy_waiver")).text
    assert str(YEAR) in _offered_years(page)
    assert re.search(rf'value="{YEAR}"[^>]*checked', page)


def test_when_every_year_has_an_application_there_is_no_form_and_the_page_says_so(client):
    councillor = CouncillorFactory()
    for year in (YEAR - 1, YEAR, YEAR + 1):
        LevyWaiverFactory(councillor=councillor, year=year)
    client.force_login(councillor.user)
    page = client.get(reverse("levy_waiver")).text
    assert _offered_years(page) == []
    assert "You have applied for every year you can apply for now" in page
    assert '<button type="submit">Apply</button>' not in page
    # Posting anyway is refused next to the year, and nothing is added.
    response = client.post(reverse("levy_waiver"), {"year": YEAR, **DECLARED})
    assert response.status_code == 200
    assert LevyWaiver.objects.count() == 3


def test_a_refused_application_names_the_year_in_the_error_summary(client):
    client.force_login(CouncillorFactory().user)
    page = client.post(reverse("levy_waiver"), {"year": YEAR}).text
    summary = page.split("data-error-summary>")[1].split("</div>")[0]
    assert '<a href="#id_circumstances">' in summary
    assert '<a href="#id_declaration">' in summary
