"""A real mailing through real worker processes to a real SMTP server."""

import collections
import datetime

import pytest
from factories import MailingFactory, SuppressionFactory
from polling import wait_for

from campaigns.audience import audience_resolve
from campaigns.models import Delivery, Mailing
from campaigns.services import sending
from regions.models import CouncilGroup, Region

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_mailing_to_groups_with_elections_on_6_may_2027_reaches_each_address_once(
    gb_councils, senders, received_addresses
):
    regions = list(Region.objects.filter(name__in=["Wales", "Scotland"]))
    groups = CouncilGroup.objects.filter(council__region__in=regions)
    for group in groups.select_related("council"):
        CouncilGroup.objects.filter(pk=group.pk).update(
            contact_email=f"labour.{group.council.slug}@example.org"
        )
    suppressed = groups.select_related("council").first()
    SuppressionFactory(email=f"Labour.{suppressed.council.slug}@example.org")
    mailing = MailingFactory(
        regions=regions,
        election_date=datetime.date(2027, 5, 6),
        recipients=["contact"],
        subject="Elections at {{ council.name }}",
        body="Dear {{ recipient.first_name }} of {{ group.name }}: {{ election.seats_up }} seats"
        " on {{ election.date }}.",
    )
    expected = {r.email: r.context for r in audience_resolve(mailing).recipients}
    assert len(expected) > 40
    senders.start()
    senders.start()
    assert sending.mailing_start(mailing_id=mailing.pk)
    wait_for(lambda: Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT, timeout=60)
    counts = collections.Counter(received_addresses(senders_smtp(senders)))
    assert set(counts) == set(expected)
    assert max(counts.values()) == 1
    assert f"labour.{suppressed.council.slug}@example.org" not in counts
    assert Delivery.objects.get(mailing=mailing, status="suppressed").email.startswith("labour.")
    for message in senders_smtp(senders).messages:
        context = expected[message.rcpt_tos[0]]
        assert message["Subject"] == f"Elections at {context['council']['name']}"
        text = message.get_body(("plain",)).get_content()
        assert f"of {context['group']['name']}: {context['election']['seats_up']} seats" in text
        assert "on 6 May 2027." in text


def senders_smtp(senders):
    return senders.smtp
