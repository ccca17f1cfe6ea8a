import datetime
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from factories import (
    CampaignFactory,
    CouncilFactory,
    CouncillorFactory,
    MailingFactory,
    RegionFactory,
    StaffFactory,
)

from campaigns.models import Adoption, Campaign, CampaignResource, Mailing

pytestmark = pytest.mark.django_db


PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture
def councillor_client(client):
    client.force_login(CouncillorFactory().user)
    return client


def test_councillor_reads_a_campaign_with_markdown_body_sanitised(councillor_client):
    campaign = CampaignFactory(
        title="Food justice",
        body="**Feed** every child.\n\n<script>alert(1)</script><a href='javascript:x()'>x</a>",
    )
    response = councillor_client.get(campaign.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong>Feed</strong>" in page
    assert "<script>alert(1)" not in page
    assert "javascript:x()" not in page
    assert "Edit campaign" not in page


def test_campaign_list_shows_titles_and_adoption_counts(councillor_client):
    campaign = CampaignFactory(title="Modern slavery charter")
    Adoption.objects.create(
        campaign=campaign, council=CouncilFactory(), adopted_on=datetime.date(2025, 1, 1)
    )
    page = councillor_client.get(reverse("campaigns:campaigns")).content.decode()
    assert "Modern slavery charter" in page
    assert "Adopted by 1 council." in page


def test_staff_create_a_campaign_with_a_slug_from_its_title(staff_client):
    response = staff_client.post(
        reverse("campaigns:campaign_create"),
        {"title": "Mailings", "summary": "Short", "body": "Long"},
    )
    campaign = Campaign.objects.get()
    assert campaign.slug == "mailings-campaign"
    assert response.url == campaign.get_absolute_url()


def test_campaign_form_rejects_an_overlong_title(staff_client):
    response = staff_client.post(
        reverse("campaigns:campaign_create"), {"title": "x" * 201, "summary": "s", "body": ""}
    )
    assert response.status_code == 200
    assert "at most 200 characters" in response.content.decode()
    assert not Campaign.objects.exists()


def test_staff_edit_a_campaign_keeping_its_slug(staff_client):
    campaign = CampaignFactory(slug="food")
    staff_client.post(
        reverse("campaigns:campaign_edit", args=["food"]),
        {"title": "Food for all", "summary": "New", "body": ""},
    )
    campaign.refresh_from_db()
    assert (campaign.title, campaign.slug) == ("Food for all", "food")


def test_uploaded_pdf_is_downloadable_by_a_logged_in_councillor_only(client, media):
    staff = StaffFactory()
    campaign = CampaignFactory()
    client.force_login(staff)
    client.post(
        reverse("campaigns:resource_add", args=[campaign.slug]),
        {"title": "Motion", "file": SimpleUploadedFile("motion.pdf", PDF, "application/pdf")},
    )
    resource = CampaignResource.objects.get()
    url = reverse("campaigns:resource_file", args=[campaign.slug, resource.pk])
    client.logout()
    assert client.get(url).status_code == 302
    client.force_login(CouncillorFactory().user)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("run.exe", b"MZ", "be uploaded. Use PDF"),
        ("fake.pdf", b"<html>", "not a .pdf file"),
        ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "the limit is 10.0"),
    ],
)
def test_bad_uploads_are_refused_with_a_message(staff_client, media, name, content, message):
    campaign = CampaignFactory()
    response = staff_client.post(
        reverse("campaigns:resource_add", args=[campaign.slug]),
        {"title": "Thing", "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CampaignResource.objects.exists()


def test_a_resource_needs_a_link_or_a_file(staff_client):
    campaign = CampaignFactory()
    response = staff_client.post(
        reverse("campaigns:resource_add", args=[campaign.slug]), {"title": "Nothing"}
    )
    assert "Give a link or upload a file." in response.content.decode()
    staff_client.post(
        reverse("campaigns:resource_add", args=[campaign.slug]),
        {"title": "Guide", "url": "https://example.org/guide"},
    )
    assert campaign.resources.get().url == "https://example.org/guide"


def test_staff_record_and_remove_an_adoption(staff_client):
    campaign = CampaignFactory()
    council = CouncilFactory()
    url = reverse("campaigns:adoption_add", args=[campaign.slug])
    staff_client.post(url, {"council": council.pk, "adopted_on": "2025-03-01"})
    adoption = Adoption.objects.get()
    assert adoption.council == council
    again = staff_client.post(url, {"council": council.pk, "adopted_on": "2025-04-01"})
    assert "has already adopted" in again.content.decode()
    staff_client.post(reverse("campaigns:adoption_remove", args=[campaign.slug, adoption.pk]))
    assert not Adoption.objects.exists()


def test_editing_a_scheduled_mailing_says_it_is_scheduled_and_saving_keeps_it(client):
    when = timezone.now() + timedelta(days=5)
    region = RegionFactory(name="Wales")
    mailing = MailingFactory(status=Mailing.Status.SCHEDULED, scheduled_for=when, regions=[region])
    client.force_login(StaffFactory())
    page = client.get(reverse("campaigns:mailing_edit", args=[mailing.pk])).text
    notice = page.split('id="scheduled-notice"')[1].split("</p>")[0]
    assert f"{timezone.localtime(when):%-d %B %Y}" in notice
    assert "Saving keeps that schedule" in notice
    client.post(
        reverse("campaigns:mailing_edit", args=[mailing.pk]),
        {
            "subject": "Changed subject",
            "from_name": "ALC",
            "reply_to": "",
            "body": "Dear {{ recipient.first_name }}",
            "recipients": ["contact"],
            "regions": [region.pk],
            "fall_back_to_contact": "on",
            "save": "1",
        },
    )
    mailing.refresh_from_db()
    assert mailing.subject == "Changed subject"
    assert (mailing.status, mailing.scheduled_for) == (Mailing.Status.SCHEDULED, when)
