"""Staff see, before sending, how many of the groups the rule picks would get nothing; long lists
are folded away so that the buttons stay near the top; and after the final "Send" they land on
the live sending page."""

import re

import pytest
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    MailingFactory,
    RegionFactory,
)

from campaigns.models import Mailing

pytestmark = pytest.mark.django_db


@pytest.fixture
def mostly_without_address():
    """A region of five groups of which only two have an address."""
    region = RegionFactory()
    for n in range(5):
        CouncilGroupFactory(
            council=CouncilFactory(region=region),
            contact_email=f"group{n}@example.org" if n < 2 else "",
        )
    return MailingFactory(recipients=["contact"], regions=[region], fall_back_to_contact=True)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_send_confirmation_warns_that_some_matching_groups_get_nothing(
    client, staff, mostly_without_address
):
    mailing = mostly_without_address
    page = client.get(mailing.get_absolute_url(), {"confirm": "send"}).text
    groups = _text(page.split('id="send-groups">')[1].split("</dd>")[0])
    assert groups.strip() == "5 match the rule; 3 of them have no usable address"
    warning = _text(page.split('id="send-groups-warning"')[1].split("</p>")[0])
    assert "3 of the 5 groups will get nothing" in warning
    assert "Send to 2 addresses now" in page


def test_send_confirmation_has_no_warning_when_every_group_has_an_address(client, staff):
    region = RegionFactory()
    CouncilGroupFactory(council=CouncilFactory(region=region), contact_email="a@example.org")
    mailing = MailingFactory(recipients=["contact"], regions=[region])
    page = client.get(mailing.get_absolute_url(), {"confirm": "send"}).text
    assert "1 matches the rule; 0 of them have no usable address" in _text(page)
    assert 'id="send-groups-warning"' not in page


def test_live_count_says_how_many_groups_match_and_how_many_get_nothing(
    client, staff, mostly_without_address
):
    region = mostly_without_address.regions.get()
    data = client.get(
        reverse("campaigns:audience_count"), {"regions": region.pk, "recipients": "contact"}
    ).json()
    assert (data["count"], data["group_count"], data["groups_without_address_count"]) == (2, 5, 3)


def test_composer_and_mailing_page_warn_of_groups_getting_nothing(
    client, staff, mostly_without_address
):
    mailing = mostly_without_address
    for url in (mailing.get_absolute_url(), reverse("campaigns:mailing_edit", args=[mailing.pk])):
        page = client.get(url).text
        assert "5 groups match the rule; 3 of them have no usable address." in _text(page)
        assert "3 of the 5 groups will get nothing" in _text(
            page.split('id="groups-get-nothing"')[1].split("</p>")[0]
        )


def test_a_long_list_of_groups_without_address_is_folded_away_above_the_actions(client, staff):
    region = RegionFactory()
    CouncilGroupFactory(council=CouncilFactory(region=region), contact_email="a@example.org")
    for _ in range(60):
        CouncilGroupFactory(council=CouncilFactory(region=region), contact_email="")
    mailing = MailingFactory(recipients=["contact"], regions=[region])
    page = client.get(mailing.get_absolute_url()).text
    folded = page.split('<details class="audience-details" id="groups-without-address">')[1]
    folded = folded.split("</details>")[0]
    assert "<summary>The 60 groups with no usable address</summary>" in folded
    assert folded.count("<li>") == 50
    assert "and 10 more." in folded
    # None of the groups is listed outside the folded part.
    assert page.count("Labour Group (") == folded.count("Labour Group (") == 50


def test_the_final_send_lands_on_the_live_sending_page(
    client, staff, mostly_without_address, django_capture_on_commit_callbacks
):
    mailing = mostly_without_address
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("campaigns:mailing_send", args=[mailing.pk]))
    assert response.status_code == 302
    assert response.url == reverse("campaigns:mailing_sending", args=[mailing.pk])
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENDING
    page = client.get(response.url).text
    assert "Sending has started." in page
    assert 'id="mailing-progress"' in page
    # A second press (a double click) lands there too, sending nothing more.
    again = client.post(reverse("campaigns:mailing_send", args=[mailing.pk]))
    assert again.url == reverse("campaigns:mailing_sending", args=[mailing.pk])
    assert mailing.deliveries.count() == 2


def test_a_refused_send_stays_on_the_mailings_page(client, staff):
    mailing = MailingFactory()  # nobody to send to
    response = client.post(reverse("campaigns:mailing_send", args=[mailing.pk]))
    assert response.url == mailing.get_absolute_url()
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.DRAFT
