"""What recipients read: merge values from a real audience (dates, names, gaps), test copies
whose unsubscribe link does nothing, and who an officer's office reaches."""

import datetime
import re

import pytest
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    ElectionFactory,
    MailingFactory,
    ServingOfficerFactory,
    UserFactory,
)

from campaigns.models import Delivery, Suppression
from campaigns.services import lifecycle, messages
from campaigns.unsubscribe import unsubscribe_token_read

pytestmark = pytest.mark.django_db

POLLING_DAY = datetime.date(2027, 5, 6)
BODY = (
    "Dear {{ recipient.first_name }},\n\n"
    'Polling day is {{ election.date|date:"l j F" }} ({{ election.date }}).'
)


def as_sent(delivery):
    """The message the sender makes for a delivery row."""
    mailing = delivery.mailing
    envelope = messages.envelope_for(mailing)
    message, _ = envelope.message(email=delivery.email, context=delivery.context)
    return message


def test_election_dates_are_recorded_as_iso_and_formatted_as_the_message_asks():
    group = CouncilGroupFactory()
    ElectionFactory(council=group.council, date=POLLING_DAY)
    mailing = MailingFactory(election_date=POLLING_DAY, recipients=["contact"], body=BODY)
    assert lifecycle.mailing_start(mailing_id=mailing.pk)
    delivery = Delivery.objects.get(mailing=mailing)
    assert delivery.context["election"]["date"] == "2027-05-06"
    assert "Polling day is Thursday 6 May (6 May 2027)." in as_sent(delivery).body


def test_a_delivery_recorded_with_the_date_as_text_still_renders_it():
    mailing = MailingFactory(body=BODY)
    delivery = Delivery.objects.create(
        mailing=mailing,
        email="old@example.org",
        context={"recipient": {"first_name": "Ffion"}, "election": {"date": "6 May 2027"}},
    )
    assert "Polling day is 6 May 2027 (6 May 2027)." in as_sent(delivery).body


def test_the_preview_formats_a_real_recipients_election_date(client, staff):
    group = CouncilGroupFactory()
    ElectionFactory(council=group.council, date=POLLING_DAY)
    mailing = MailingFactory(election_date=POLLING_DAY, body=BODY)
    page = client.get(reverse("campaigns:mailing_preview", args=[mailing.pk])).text
    assert "Polling day is Thursday 6 May (6 May 2027)." in page


def test_an_officer_without_a_name_is_greeted_as_colleague_not_with_a_blank():
    group = CouncilGroupFactory()
    ServingOfficerFactory(group=group, role="leader", user=UserFactory(full_name=""))
    mailing = MailingFactory(recipients=["leader"], body="Dear {{ recipient.full_name }},")
    assert lifecycle.mailing_start(mailing_id=mailing.pk)
    assert "Dear colleague," in as_sent(Delivery.objects.get(mailing=mailing)).body


# --- test copies -------------------------------------------------------------------------------


def test_a_test_copys_unsubscribe_link_and_one_click_post_suppress_nobody(client, staff, smtp):
    group = CouncilGroupFactory()
    mailing = MailingFactory()
    client.post(reverse("campaigns:mailing_test_send", args=[mailing.pk]))
    message = smtp.wait_for(1)[0]
    assert message.rcpt_tos == [staff.email]
    assert "List-Unsubscribe-Post" not in message
    assert "mailto:" not in message["List-Unsubscribe"]
    text = message.get_body(("plain",)).get_content()
    path = re.search(r"/unsubscribe/[^/\s]+/", text).group(0)
    assert path in message["List-Unsubscribe"]
    assert unsubscribe_token_read(path.split("/")[2]) is None
    # The copy says so, and its link leads to a page saying nothing has changed.
    note = "This is a test copy. Its unsubscribe link does nothing: following it unsubscribes"
    assert text.startswith(note)
    assert note in message.get_body(("html",)).get_content()
    followed = client.get(path)
    assert followed.status_code == 200
    assert "This link came from a test copy" in followed.text
    assert "Nobody has been unsubscribed." in followed.text
    one_click = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert "Nobody has been unsubscribed." in one_click.text
    client.logout()
    assert "Nobody has been unsubscribed." in client.post(path).text
    assert not Suppression.objects.exists()
    # A real message to the same audience does carry a working one-click link.
    lifecycle.mailing_start(mailing_id=mailing.pk)
    real = as_sent(Delivery.objects.get(mailing=mailing, email=group.contact_email))
    assert real.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# --- officers who opted out or left --------------------------------------------------------------


def test_the_live_count_equals_the_deliveries_when_officers_opted_out_or_left(client, staff):
    groups = [
        CouncilGroupFactory(council=CouncilFactory(short_name=name)) for name in ("A", "B", "C")
    ]
    serving = ServingOfficerFactory(group=groups[0], role="leader").user
    opted_out = ServingOfficerFactory(
        group=groups[1], role="leader", councillor__wants_campaign_mailings=False
    ).user
    former = ServingOfficerFactory(
        group=groups[2], role="leader", councillor__left_on=datetime.date(2025, 5, 1)
    ).user
    mailing = MailingFactory(recipients=["leader"], fall_back_to_contact=True)
    count = client.get(
        reverse("campaigns:audience_count"),
        {"recipients": "leader", "fall_back_to_contact": "on", "all_regions": "on"},
    ).json()["count"]
    assert lifecycle.mailing_start(mailing_id=mailing.pk)
    recorded = set(mailing.deliveries.values_list("email", flat=True))
    assert recorded == {serving.email, groups[1].contact_email, groups[2].contact_email}
    assert opted_out.email not in recorded and former.email not in recorded
    assert count == len(recorded)
