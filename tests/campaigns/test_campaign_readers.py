"""Who reads campaigns: staff, representatives and serving councillors; nobody else."""

import datetime

import pytest
from django.urls import reverse
from factories import (
    CampaignFactory,
    CouncillorFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    return CampaignFactory(title="Food justice", slug="food-justice")


@pytest.mark.parametrize(
    ("who", "reads"),
    [
        (lambda: CouncillorFactory().user, True),
        (lambda: RepresentativeFactory().user, True),
        (StaffFactory, True),
        (lambda: CouncillorFactory(left_on=datetime.date(2024, 5, 2)).user, False),
        (UserFactory, False),  # an account with no role
    ],
    ids=["councillor", "representative", "staff", "former councillor", "no role"],
)
def test_campaigns_are_read_by_the_associations_people_only(client, campaign, who, reads):
    client.force_login(who())
    listing = client.get(reverse("campaigns:campaigns"))
    assert listing.status_code == 200
    assert ("Food justice" in listing.text) is reads
    detail = client.get(reverse("campaigns:campaign", args=[campaign.slug]))
    assert detail.status_code == (200 if reads else 404)
