"""Groups a mailing cannot email get a letter by post instead: counted before sending, and
recorded in the delivery ledger, once per group, when the mailing starts."""

import datetime

import pytest
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    ElectionFactory,
    MailingFactory,
    RegionFactory,
    StaffFactory,
    SuppressionFactory,
)

from campaigns.models import Delivery, Mailing
from campaigns.selectors import mailing_progress
from campaigns.services.lifecycle import mailing_start

pytestmark = pytest.mark.django_db

POLLING_DAY = datetime.date(2027, 5, 6)


def _group(region, name, *, email="", address="", day=POLLING_DAY):
    council = CouncilFactory(region=region, name=f"{name} Council", short_name=name)
    ElectionFactory(council=council, date=day)
    return CouncilGroupFactory(
        council=council, name=f"{name} Labour Group", contact_email=email, postal_address=address
    )


def test_starting_records_one_letter_per_group_reached_only_by_post():
    region = RegionFactory(name="Wales")
    _group(region, "Caerphilly", email="caerphilly@labour.example.org", address="Penallta House")
    _group(region, "Torfaen", address="Civic Centre\nPontypool\nNP4 6YB")
    _group(region, "Gwynedd", email="gone@labour.example.org", address="Stryd y Jel\nLL55 1SH")
    SuppressionFactory(email="gone@labour.example.org")
    _group(region, "Ceredigion")
    mailing = MailingFactory(election_date=POLLING_DAY, recipients=["contact"], regions=[region])
    assert mailing_start(mailing_id=mailing.pk)
    letters = Delivery.objects.filter(mailing=mailing, channel=Delivery.Channel.POST)
    assert sorted(letters.values_list("group__name", "email", "status")) == [
        ("Gwynedd Labour Group", "", "to_print"),
        ("Torfaen Labour Group", "", "to_print"),
    ]
    torfaen = letters.get(group__name="Torfaen Labour Group").context
    assert torfaen["postal_address"] == "Civic Centre\nPontypool\nNP4 6YB"
    assert torfaen["recipient"] == {"first_name": "colleague", "full_name": "Torfaen Labour Group"}
    assert torfaen["election"]["date"] == "2027-05-06"
    # The emails are as they were, and the progress counts them alone.
    emails = mailing.deliveries.filter(channel=Delivery.Channel.EMAIL)
    assert sorted(emails.values_list("email", "status")) == [
        ("caerphilly@labour.example.org", "pending"),
        ("gone@labour.example.org", "suppressed"),
    ]
    assert mailing_progress(mailing)["total"] == 2


def test_a_mailing_only_by_post_can_start(client):
    region = RegionFactory(name="Scotland")
    _group(region, "Fife", address="Fife House\nGlenrothes\nKY7 5LT")
    mailing = MailingFactory(election_date=POLLING_DAY, recipients=["contact"], regions=[region])
    assert mailing_start(mailing_id=mailing.pk)
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SENDING
    assert list(mailing.deliveries.values_list("channel", "status")) == [("post", "to_print")]


def test_before_sending_the_page_counts_the_letters_and_the_groups_that_get_nothing(client):
    region = RegionFactory(name="Scotland")
    _group(region, "Fife", address="Fife House\nGlenrothes\nKY7 5LT")
    _group(region, "Angus")
    mailing = MailingFactory(election_date=POLLING_DAY, recipients=["contact"], regions=[region])
    client.force_login(StaffFactory())
    page = client.get(mailing.get_absolute_url()).text
    assert "1 of them has a postal address and will get a letter by post" in page
    warning = page.split('id="groups-get-nothing">')[1].split("</p>")[0]
    assert "1 of the 2 groups will get nothing" in warning
    confirm = client.get(mailing.get_absolute_url(), {"confirm": "send"}).text
    assert "Send to 0 addresses and 1 letter by post now" in confirm
    count = client.get(
        reverse("campaigns:audience_count"),
        {"regions": region.pk, "recipients": "contact", "election_date": "2027-05-06"},
    ).json()
    assert (count["letter_count"], count["unreachable_count"]) == (1, 1)
