"""The campaigns pages that list things make the same number of queries at 20 rows as at 2,000:
the list of campaigns, a campaign with its resources and adoptions, a sent mailing with its
deliveries, and the suppression list."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import CampaignFactory, MailingFactory, RegionFactory

from campaigns.models import Adoption, Campaign, CampaignResource, Delivery, Mailing, Suppression
from regions.models import Council

pytestmark = pytest.mark.django_db

ROWS = [20, 2000]
# Each page's ceiling, the same whatever the number of rows.
MAX_QUERIES = 20
ADOPTED_ON = datetime.date(2025, 1, 1)


def councils_create(count):
    region = RegionFactory(name="Region Q")
    return Council.objects.bulk_create(
        Council(gss_code=f"Q{n:08d}", name=f"Query Council {n:04d}", short_name=f"Query {n:04d}",
                slug=f"query-council-{n}", kind=Council.Kind.UNITARY, region=region,
                total_seats=50, labour_seats=20, control="LAB",
                election_pattern=Council.ElectionPattern.ALL_OUT)
        for n in range(count)
    )  # fmt: skip


@pytest.mark.parametrize("rows", ROWS)
def test_campaign_list_makes_a_fixed_number_of_queries(
    staff_client, rows, django_assert_max_num_queries
):
    campaigns = Campaign.objects.bulk_create(
        Campaign(title=f"Campaign {n:04d}", slug=f"campaign-{n}", summary="Adopt it.")
        for n in range(rows)
    )
    (council,) = councils_create(1)
    Adoption.objects.bulk_create(
        Adoption(campaign=campaign, council=council, adopted_on=ADOPTED_ON)
        for campaign in campaigns
    )
    with django_assert_max_num_queries(MAX_QUERIES):
        response = staff_client.get(reverse("campaigns:campaigns"))
    page = response.content.decode()
    assert page.count('<li class="card">') == rows
    assert page.count("Adopted by 1 council.") == rows


@pytest.mark.parametrize("rows", ROWS)
def test_campaign_page_makes_a_fixed_number_of_queries(
    staff_client, rows, django_assert_max_num_queries
):
    campaign = CampaignFactory(slug="food")
    CampaignResource.objects.bulk_create(
        CampaignResource(campaign=campaign, title=f"Guide {n:04d}",
                         url=f"https://example.org/guide/{n}")
        for n in range(rows)
    )  # fmt: skip
    Adoption.objects.bulk_create(
        Adoption(campaign=campaign, council=council, adopted_on=ADOPTED_ON)
        for council in councils_create(rows)
    )
    with django_assert_max_num_queries(MAX_QUERIES):
        response = staff_client.get(reverse("campaigns:campaign", args=["food"]))
    page = response.content.decode()
    assert page.count('href="https://example.org/guide/') == rows
    assert page.count('<th scope="row">Query Council ') == rows


@pytest.mark.parametrize("rows", ROWS)
def test_sent_mailing_page_makes_a_fixed_number_of_queries(
    staff_client, rows, django_assert_max_num_queries
):
    mailing = MailingFactory(status=Mailing.Status.SENT, started_at=timezone.now())
    Delivery.objects.bulk_create(
        Delivery(mailing=mailing, email=f"person{n:04d}@example.org",
                 status="failed" if n % 4 == 0 else "sent", attempts=1,
                 last_error="550 No such user" if n % 4 == 0 else "")
        for n in range(rows)
    )  # fmt: skip
    with django_assert_max_num_queries(MAX_QUERIES):
        response = staff_client.get(reverse("campaigns:mailing", args=[mailing.pk]))
    page = response.content.decode()
    assert f'<span data-field="failed">{rows // 4}</span> failed' in page
    assert f'<span data-field="sent">{rows - rows // 4}</span> sent' in page


@pytest.mark.parametrize("rows", ROWS)
def test_suppression_list_makes_a_fixed_number_of_queries_at_any_size(
    staff_client, rows, django_assert_max_num_queries
):
    Suppression.objects.bulk_create(
        Suppression(email=f"stop{n:04d}@example.org", reason=Suppression.Reason.STAFF)
        for n in range(rows)
    )
    with django_assert_max_num_queries(MAX_QUERIES):
        response = staff_client.get(reverse("campaigns:suppressions"))
    page = response.content.decode()
    assert f"{rows} suppressed addresses" in page
    assert page.count('class="sending-email"') == min(rows, 100)
