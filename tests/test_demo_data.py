"""The demo data gives the demo's mailings somebody to write to."""

import datetime

from django.core.management import call_command

from campaigns.audience import audience_resolve
from campaigns.models import Mailing
from regions.models import CouncilGroup


def test_demo_groups_get_invented_contact_addresses_once_keeping_real_ones(gb_councils):
    camden = CouncilGroup.objects.get(council__gss_code="E09000007")
    camden.contact_email = "secretary@camden-labour.example.org"
    camden.save()

    call_command("demo_data", verbosity=0)

    assert not CouncilGroup.objects.without_contact_address().exists()
    camden.refresh_from_db()
    assert camden.contact_email == "secretary@camden-labour.example.org"
    cardiff = CouncilGroup.objects.get(council__gss_code="W06000015")
    assert cardiff.contact_email == f"labour.{cardiff.council.slug}@demo.alc.example.org"
    assert cardiff.history.latest().history_change_reason == "Invented contact address (demo data)"
    history = CouncilGroup.history.count()

    call_command("demo_data", verbosity=0)
    assert CouncilGroup.history.count() == history


def test_the_demo_mailing_to_groups_with_elections_on_6_may_2027_has_recipients(gb_councils):
    call_command("demo_data", verbosity=0)
    mailing = Mailing.objects.create(
        subject="Elections", body="Hello", election_date=datetime.date(2027, 5, 6)
    )
    mailing.recipients = [Mailing.Recipients.CONTACT]
    mailing.save()
    audience = audience_resolve(mailing)
    matching = CouncilGroup.objects.filter(council__elections__date=datetime.date(2027, 5, 6))
    assert len(audience.recipients) == matching.count() > 100
    assert not audience.groups_without_address
