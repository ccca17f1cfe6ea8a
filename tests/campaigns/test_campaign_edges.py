"""Campaign pages at their edges: odd search text, double presses of a button, titles that
match a fixed address, future adoption dates, and uploaded files' names and serving."""

import datetime
import re
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import (
    CampaignFactory,
    CouncilFactory,
    CouncillorFactory,
    MailingFactory,
    StaffFactory,
    SuppressionFactory,
)
from polling import wait_for

from campaigns.models import Adoption, Campaign, CampaignResource
from campaigns.services.content import CAMPAIGN_TITLE_LOCK, adoption_add, reserved_slugs

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


# --- search boxes and other query parameters ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["\x00", "exa\x00mple", "\x00\x01\x1f\x7f", "é\x00"])
def test_suppression_search_with_control_characters_is_not_an_error(staff_client, query):
    SuppressionFactory(email="someone@example.org")
    response = staff_client.get(reverse("campaigns:suppressions"), {"q": query})
    assert response.status_code == 200
    assert "\x00" not in response.content.decode()


@pytest.mark.django_db
def test_suppression_search_ignores_a_nul_inside_the_words(staff_client):
    SuppressionFactory(email="someone@example.org")
    SuppressionFactory(email="other@elsewhere.test")
    page = staff_client.get(reverse("campaigns:suppressions"), {"q": "exa\x00mple"})
    content = page.content.decode()
    assert "someone@example.org" in content
    assert "other@elsewhere.test" not in content
    assert 'value="example"' in content


@pytest.mark.django_db
def test_overlong_suppression_search_gets_a_message_next_to_the_box(staff_client):
    SuppressionFactory(email="someone@example.org")
    response = staff_client.get(reverse("campaigns:suppressions"), {"q": "x" * 255})
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="suppression-q_error"' in content
    assert "at most 254 characters" in content
    assert 'aria-describedby="suppression-q_error"' in content
    assert "someone@example.org" in content


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["\x00", "abc", "-1", "9" * 40])
def test_suppression_list_page_number_that_is_not_a_number_shows_a_page(staff_client, page):
    SuppressionFactory()
    response = staff_client.get(reverse("campaigns:suppressions"), {"page": page})
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["\x00", "x" * 5000, "abc"])
def test_other_campaign_query_parameters_never_give_an_error_page(staff_client, value):
    mailing = MailingFactory()
    requests = [
        (reverse("campaigns:mailings"), {"page": value}),
        (reverse("campaigns:mailing_preview", args=[mailing.pk]), {"q": value}),
        (reverse("campaigns:mailing_preview", args=[mailing.pk]), {"recipient": value}),
        (reverse("campaigns:mailing_sending", args=[mailing.pk]), {"failed_page": value}),
        (reverse("campaigns:campaigns"), {"q": value, "page": value}),
    ]
    for url, params in requests:
        assert staff_client.get(url, params).status_code == 200, (url, params)
    for name in ("regions", "council_kinds", "controls", "election_date", "recipients"):
        response = staff_client.get(reverse("campaigns:audience_count"), {name: value})
        assert response.status_code == 400, name


# --- pressing a button twice -------------------------------------------------------------------


@pytest.mark.django_db
def test_double_clicked_new_campaign_makes_one_campaign(staff_client):
    data = {"title": "Safer high streets", "summary": "Short", "body": "Long"}
    first = staff_client.post(reverse("campaigns:campaign_create"), data)
    second = staff_client.post(reverse("campaigns:campaign_create"), data)
    assert first.status_code == 302
    assert second.status_code == 200
    assert "There is already a campaign called “Safer high streets”" in second.content.decode()
    assert Campaign.objects.count() == 1


@pytest.mark.django_db
def test_a_title_differing_only_in_case_or_spaces_is_taken(staff_client):
    CampaignFactory(title="Food justice")
    response = staff_client.post(
        reverse("campaigns:campaign_create"),
        {"title": "  FOOD justice ", "summary": "s", "body": ""},
    )
    assert 'id="id_title_error"' in response.content.decode()
    assert Campaign.objects.count() == 1


@pytest.mark.django_db
def test_editing_a_campaign_may_keep_its_own_title_but_not_take_another(staff_client):
    CampaignFactory(title="Food justice")
    campaign = CampaignFactory(title="Land trusts", slug="land")
    url = reverse("campaigns:campaign_edit", args=["land"])
    kept = staff_client.post(url, {"title": "Land trusts", "summary": "New", "body": ""})
    assert kept.status_code == 302
    taken = staff_client.post(url, {"title": "Food justice", "summary": "New", "body": ""})
    assert "There is already a campaign called" in taken.content.decode()
    campaign.refresh_from_db()
    assert (campaign.title, campaign.summary) == ("Land trusts", "New")


@pytest.mark.django_db
def test_double_clicked_record_adoption_records_one_with_a_message(staff_client):
    campaign = CampaignFactory()
    council = CouncilFactory()
    url = reverse("campaigns:adoption_add", args=[campaign.slug])
    data = {"council": council.pk, "adopted_on": "2025-03-01"}
    assert staff_client.post(url, data).status_code == 302
    second = staff_client.post(url, data)
    assert second.status_code == 200
    assert f"{council} has already adopted this campaign." in second.content.decode()
    assert Adoption.objects.count() == 1


@pytest.mark.django_db
def test_adding_an_adoption_that_exists_is_a_validation_error_not_a_database_error():
    adoption = Adoption.objects.create(
        campaign=CampaignFactory(), council=CouncilFactory(), adopted_on=datetime.date(2025, 1, 1)
    )
    with pytest.raises(ValidationError) as raised:
        adoption_add(
            campaign=adoption.campaign,
            data={"council": adoption.council, "adopted_on": datetime.date(2025, 2, 1)},
            user=StaffFactory(),
        )
    assert "council" in raised.value.message_dict
    assert Adoption.objects.count() == 1


def _waiting_for_locks(kind: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = %s", [kind])
        return cursor.fetchone()[0]


def _post_in_threads(clients, url, data) -> list:
    responses = [None] * len(clients)
    barrier = threading.Barrier(len(clients))

    def post(index, client):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            responses[index] = client.post(url, data)
        finally:
            thread_connection.close()

    threads = [
        threading.Thread(target=post, args=(i, client), daemon=True)
        for i, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    return threads, responses


def _staff_clients(count):
    staff = StaffFactory()
    clients = [Client() for _ in range(count)]
    for client in clients:
        client.force_login(staff)
    return clients


@pytest.mark.django_db(transaction=True)
def test_two_racing_record_adoption_presses_record_one_and_explain_the_other():
    """Both presses pass the form's check before either has saved: here they are held at the
    database's unique index by a row another transaction has written but not committed, which
    is then rolled back, so they race for the one place."""
    campaign = CampaignFactory()
    council = CouncilFactory()
    clients = _staff_clients(2)
    url = reverse("campaigns:adoption_add", args=[campaign.slug])
    data = {"council": council.pk, "adopted_on": "2025-03-01"}
    with transaction.atomic():
        Adoption.objects.create(
            campaign=campaign, council=council, adopted_on=datetime.date(2025, 1, 1)
        )
        threads, responses = _post_in_threads(clients, url, data)
        wait_for(lambda: _waiting_for_locks("transactionid") == 2)
        transaction.set_rollback(True)
    for thread in threads:
        thread.join(timeout=30)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 302]
    refused = next(r for r in responses if r.status_code == 200)
    assert f"{council} has already adopted this campaign." in refused.content.decode()
    assert Adoption.objects.get().adopted_on == datetime.date(2025, 3, 1)


@pytest.mark.django_db(transaction=True)
def test_two_racing_new_campaign_presses_make_one_campaign():
    """Both presses pass the form's title check; they are held at the lock the save takes,
    which is then let go, so the second to save finds the first's campaign."""
    clients = _staff_clients(2)
    data = {"title": "Community land trusts", "summary": "Short", "body": "Long"}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", CAMPAIGN_TITLE_LOCK)
        threads, responses = _post_in_threads(clients, reverse("campaigns:campaign_create"), data)
        wait_for(lambda: _waiting_for_locks("advisory") == 2)
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(response.status_code for response in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200)
    assert "There is already a campaign called" in refused.content.decode()
    assert Campaign.objects.get().slug == "community-land-trusts"


# --- titles that match a fixed address --------------------------------------------------------


def test_reserved_slugs_are_the_fixed_first_segments_of_the_campaigns_routes():
    assert {"mailings", "new", "suppressions"} <= reserved_slugs()
    assert not any("<" in word or not word for word in reserved_slugs())


@pytest.mark.django_db
@pytest.mark.parametrize("word", sorted(reserved_slugs()))
def test_a_campaign_titled_like_a_fixed_page_gets_a_page_of_its_own(staff_client, word):
    title = word.replace("-", " ").capitalize()
    staff_client.post(
        reverse("campaigns:campaign_create"), {"title": title, "summary": "s", "body": "b"}
    )
    campaign = Campaign.objects.get()
    assert campaign.slug != word
    response = staff_client.get(campaign.get_absolute_url())
    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in response.content.decode()


# --- adoption dates --------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_adoption_date_in_the_future_is_refused_next_to_the_field(staff_client):
    campaign = CampaignFactory()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = staff_client.post(
        reverse("campaigns:adoption_add", args=[campaign.slug]),
        {"council": CouncilFactory().pk, "adopted_on": tomorrow.isoformat()},
    )
    content = response.content.decode()
    assert response.status_code == 200
    error = re.search(r'<ul class="errorlist" id="id_adopted_on_error">(.*?)</ul>', content, re.S)
    assert error and "can&#x27;t be in the future" in error.group(1)
    assert 'aria-describedby="id_adopted_on_helptext id_adopted_on_error"' in content
    assert not Adoption.objects.exists()


@pytest.mark.django_db
def test_an_adoption_today_is_accepted(staff_client):
    campaign = CampaignFactory()
    response = staff_client.post(
        reverse("campaigns:adoption_add", args=[campaign.slug]),
        {"council": CouncilFactory().pk, "adopted_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    assert Adoption.objects.get().adopted_on == timezone.localdate()


@pytest.mark.django_db
def test_the_service_refuses_a_future_adoption_date_too():
    with pytest.raises(ValidationError) as raised:
        adoption_add(
            campaign=CampaignFactory(),
            data={
                "council": CouncilFactory(),
                "adopted_on": timezone.localdate() + datetime.timedelta(days=1),
            },
            user=StaffFactory(),
        )
    assert "adopted_on" in raised.value.message_dict
    assert not Adoption.objects.exists()


# --- uploaded resources -----------------------------------------------------------------------


def _upload(client, campaign, name, content=PDF):
    return client.post(
        reverse("campaigns:resource_add", args=[campaign.slug]),
        {"title": "Model motion", "file": SimpleUploadedFile(name, content)},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("..\\..\\..\\etc\\motion.pdf", "motion.pdf"),
        ('<b onclick="x()">Motion & list.PDF', "b_onclick_x_Motion_list.pdf"),
        ("<script>alert(1)</script> Motion.pdf", "script_Motion.pdf"),
        ("Motion – final draft (2).pdf", "Motion_final_draft_2.pdf"),
        (".pdf.pdf", "pdf.pdf"),
    ],
)
def test_uploaded_file_names_are_made_safe(staff_client, media, name, stored):
    campaign = CampaignFactory()
    assert _upload(staff_client, campaign, name).status_code == 302
    resource = CampaignResource.objects.get()
    assert re.fullmatch(rf"campaigns/resources/\d{{4}}/{re.escape(stored)}", resource.file.name)
    assert (media / resource.file.name).read_bytes() == PDF


@pytest.mark.django_db
def test_a_long_file_name_is_shortened_rather_than_refused(staff_client, media):
    campaign = CampaignFactory()
    for _ in range(2):
        assert _upload(staff_client, campaign, "m" * 300 + ".pdf").status_code == 302
    names = [r.file.name for r in CampaignResource.objects.all()]
    assert len(set(names)) == 2
    assert all(len(name) <= 100 and name.endswith(".pdf") for name in names)


@pytest.mark.django_db
def test_a_disguised_file_type_is_refused(staff_client, media):
    response = _upload(staff_client, CampaignFactory(), "motion.pdf.html", b"<script>")
    assert "This type of file can&#x27;t be uploaded" in response.content.decode()
    assert not CampaignResource.objects.exists()


@pytest.mark.django_db
def test_an_upload_over_the_limit_says_what_the_limit_is(staff_client, media):
    big = b"%PDF-" + b"0" * (10 * 1024 * 1024)
    response = _upload(staff_client, CampaignFactory(), "big.pdf", big)
    content = response.content.decode()
    assert 'id="id_file_error"' in content
    assert "the limit is 10.0\xa0MB" in content
    assert not CampaignResource.objects.exists()


@pytest.mark.django_db
def test_uploaded_file_is_served_as_a_private_download_that_browsers_must_not_sniff(client, media):
    campaign = CampaignFactory()
    client.force_login(StaffFactory())
    _upload(client, campaign, "motion.pdf")
    resource = CampaignResource.objects.get()
    client.force_login(CouncillorFactory().user)
    response = client.get(reverse("campaigns:resource_file", args=[campaign.slug, resource.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == PDF


@pytest.mark.django_db
def test_uploaded_files_are_reachable_only_through_their_campaign(client, media):
    campaign, other = CampaignFactory(), CampaignFactory()
    client.force_login(StaffFactory())
    _upload(client, campaign, "motion.pdf")
    resource = CampaignResource.objects.get()
    client.force_login(CouncillorFactory().user)
    assert client.get(f"/media/{resource.file.name}").status_code == 404
    wrong = reverse("campaigns:resource_file", args=[other.slug, resource.pk])
    assert client.get(wrong).status_code == 404
    client.logout()
    own = reverse("campaigns:resource_file", args=[campaign.slug, resource.pk])
    assert client.get(own).status_code == 302
