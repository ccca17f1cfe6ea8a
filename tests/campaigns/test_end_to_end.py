"""A real mailing through real worker processes to a real SMTP server.

The audience is worked out here from the groups and elections themselves, not by the code under
test, and groups just outside the rule (another region, another polling day) are given
addresses too, so that a wrong rule would send them mail and fail the test."""

import collections
import datetime
import html
import re

import pytest
from factories import (
    CouncillorFactory,
    GroupOfficerFactory,
    MailingFactory,
    SuppressionFactory,
    UserFactory,
)
from polling import wait_for

from campaigns.models import Delivery, Mailing
from campaigns.services import lifecycle
from regions.models import Council, CouncilGroup, Election, GroupOfficer, Region

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

POLLING_DAY = datetime.date(2027, 5, 6)
OTHER_DAY = datetime.date(2027, 10, 7)
# What the greeting says to a group's shared address (a person's own address gets their name).
GROUP_GREETING = "colleague"

SUBJECT = "Elections at {{ council.name }}"
BODY = (
    "Dear {{ recipient.first_name }},\n\n"
    "**{{ group.name }}** has {{ election.seats_up }} seats up on {{ election.date }},"
    " {{ election.labour_seats_up }} of them held by Labour."
)


def _contact(group):
    return f"labour.{group.council.slug}@example.org"


def _leader(group, full_name, email):
    user = UserFactory(full_name=full_name, email=email)
    # Only a serving councillor holds an office for mailings.
    CouncillorFactory(user=user, council=group.council)
    GroupOfficerFactory(group=group, role=GroupOfficer.Role.LEADER, user=user)
    return user


def _html_text(page: str) -> str:
    text = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(text))


def test_mailing_to_groups_with_elections_on_6_may_2027_reaches_each_address_once(
    gb_councils, senders, received_addresses
):
    chosen = list(Region.objects.filter(name__in=["Wales", "Scotland"]))
    assert len(chosen) == 2
    polling = CouncilGroup.objects.filter(council__elections__date=POLLING_DAY).select_related(
        "council"
    )
    # Every Welsh and Scottish council votes on 6 May 2027: move one council's poll to another
    # day, so that the date is part of the rule being tested.
    moved = polling.filter(council__region__name="Wales").order_by("council__short_name").last()
    Election.objects.filter(council=moved.council, date=POLLING_DAY).update(date=OTHER_DAY)
    english = polling.exclude(council__region__in=chosen).order_by("council__short_name").first()
    in_regions = CouncilGroup.objects.filter(council__region__in=chosen).select_related("council")
    for group in [*in_regions, english]:
        CouncilGroup.objects.filter(pk=group.pk).update(contact_email=_contact(group))

    in_rule = list(
        polling.filter(council__region__in=chosen, council__in=Council.objects.current())
        .exclude(pk=moved.pk)
        .order_by("council__short_name")
    )
    assert len(in_rule) > 40
    # Leaders, with addresses of their own, except one who uses the group's address: that
    # address must still get one message, greeting the leader by name.
    shared = in_rule[0]
    leaders = {
        shared.pk: _leader(shared, "Morwenna Treharne", _contact(shared).upper()),
        in_rule[1].pk: _leader(in_rule[1], "Eilidh MacAskill", "eilidh.macaskill@example.org"),
        in_rule[-1].pk: _leader(in_rule[-1], "Gethin Pryce", "gethin.pryce@example.org"),
    }
    outside = {
        _contact(moved),
        _leader(moved, "Rhian Vaughan", "rhian.vaughan@example.org").email,
        _contact(english),
        _leader(english, "Dorothy Ashworth", "dorothy.ashworth@example.org").email,
    }
    suppressed = _contact(in_rule[2])
    SuppressionFactory(email=suppressed.title())

    # Who should get what, from the groups and their polls directly.
    expected = {}
    for group in in_rule:
        election = Election.objects.get(council=group.council, date=POLLING_DAY)
        expected[_contact(group)] = (GROUP_GREETING, group, election)
        if group.pk in leaders:
            leader = leaders[group.pk]
            expected[leader.email.lower()] = (leader.first_name, group, election)
    del expected[suppressed]
    assert expected[_contact(shared)][0] == "Morwenna"

    mailing = MailingFactory(
        regions=chosen,
        election_date=POLLING_DAY,
        recipients=["contact", "leader"],
        subject=SUBJECT,
        body=BODY,
    )
    senders.start()
    senders.start()
    assert lifecycle.mailing_start(mailing_id=mailing.pk)
    wait_for(lambda: Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT, timeout=60)

    counts = collections.Counter(received_addresses(senders.smtp))
    assert not outside & set(counts)
    assert suppressed not in counts
    assert set(counts) == set(expected)
    assert set(counts.values()) == {1}
    assert Delivery.objects.get(mailing=mailing, status="suppressed").email == suppressed
    for message in senders.smtp.messages:
        first_name, group, election = expected[message.rcpt_tos[0].lower()]
        assert message["Subject"] == f"Elections at {group.council.name}"
        sentence = (
            f"has {election.seats_up} seats up on 6 May 2027,"
            f" {election.labour_seats_up} of them held by Labour."
        )
        text = message.get_body(("plain",)).get_content()
        assert f"Dear {first_name},\n\n**{group.name}** {sentence}" in text
        page = message.get_body(("html",)).get_content()
        assert f"Dear {first_name}, {group.name} {sentence}" in _html_text(page)
        strong = re.search(r"<strong[^>]*>(.*?)</strong>", page, re.S)
        assert html.unescape(strong.group(1)) == group.name
