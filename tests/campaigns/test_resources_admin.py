"""Campaign resources in the admin: the portal's upload checks apply, and a resource's file
leaves storage once the resource (or its campaign) has been deleted and that has committed."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from factories import CampaignFactory, StaffFactory

from campaigns.models import Campaign, CampaignResource

PDF = b"%PDF-1.4\n% a tiny test file\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path


def stored_resource(campaign, name="guide.pdf"):
    resource = CampaignResource(campaign=campaign, title="Guide")
    resource.file.save(name, ContentFile(PDF), save=True)
    return resource


def upload(name, content):
    return SimpleUploadedFile(name, content)


@pytest.mark.django_db
def test_admin_refuses_a_file_whose_contents_are_not_its_type(client, media):
    campaign = CampaignFactory()
    client.force_login(StaffFactory(is_superuser=True))
    response = client.post(
        reverse("admin:campaigns_campaignresource_add"),
        {"campaign": campaign.pk, "title": "Fake", "url": "", "file": upload("x.pdf", b"MZ...")},
    )
    assert response.status_code == 200
    assert "The file&#x27;s contents are not a .pdf file." in response.text
    assert not CampaignResource.objects.exists()
    assert not list(media.rglob("*.pdf"))


@pytest.mark.django_db
def test_admin_refuses_a_file_type_the_portal_does_not_take(client, media):
    campaign = CampaignFactory()
    client.force_login(StaffFactory(is_superuser=True))
    response = client.post(
        reverse("admin:campaigns_campaignresource_add"),
        {"campaign": campaign.pk, "title": "Script", "url": "", "file": upload("x.html", b"<p>")},
    )
    assert "This type of file can&#x27;t be uploaded." in response.text
    assert not CampaignResource.objects.exists()


@pytest.mark.django_db
def test_admin_campaign_inline_checks_uploads_too(client, media):
    campaign = CampaignFactory()
    client.force_login(StaffFactory(is_superuser=True))
    data = {
        "title": campaign.title,
        "slug": campaign.slug,
        "summary": campaign.summary,
        "body": campaign.body,
        "created_at_0": "2026-01-01",
        "created_at_1": "09:00:00",
        "resources-TOTAL_FORMS": "1",
        "resources-INITIAL_FORMS": "0",
        "resources-0-title": "Fake",
        "resources-0-url": "",
        "resources-0-file": upload("x.png", b"not a png"),
        "adoptions-TOTAL_FORMS": "0",
        "adoptions-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("admin:campaigns_campaign_change", args=[campaign.pk]), data)
    assert "The file&#x27;s contents are not a .png file." in response.text
    assert not CampaignResource.objects.exists()


@pytest.mark.django_db
def test_admin_accepts_a_real_pdf(client, media):
    campaign = CampaignFactory()
    client.force_login(StaffFactory(is_superuser=True))
    client.post(
        reverse("admin:campaigns_campaignresource_add"),
        {"campaign": campaign.pk, "title": "Guide", "url": "", "file": upload("guide.pdf", PDF)},
    )
    resource = CampaignResource.objects.get()
    assert default_storage.open(resource.file.name).read() == PDF


@pytest.mark.django_db(transaction=True)
def test_deleting_a_resource_in_the_admin_deletes_its_file(client, media):
    resource = stored_resource(CampaignFactory())
    path = media / resource.file.name
    assert path.exists()
    client.force_login(StaffFactory(is_superuser=True))
    client.post(
        reverse("admin:campaigns_campaignresource_delete", args=[resource.pk]), {"post": "yes"}
    )
    assert not CampaignResource.objects.exists()
    assert not path.exists()


@pytest.mark.django_db(transaction=True)
def test_deleting_a_campaign_deletes_its_resources_files(client, media):
    campaign = CampaignFactory()
    paths = [media / stored_resource(campaign, f"r{n}.pdf").file.name for n in range(2)]
    client.force_login(StaffFactory(is_superuser=True))
    client.post(reverse("admin:campaigns_campaign_delete", args=[campaign.pk]), {"post": "yes"})
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert not any(p.exists() for p in paths)


@pytest.mark.django_db
def test_a_deletion_that_rolls_back_keeps_the_file(media, django_capture_on_commit_callbacks):
    resource = stored_resource(CampaignFactory())
    path = media / resource.file.name
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                resource.delete()
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert path.exists() and CampaignResource.objects.exists()
