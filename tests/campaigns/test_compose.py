import datetime

import pytest
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    MailingFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    SuppressionFactory,
)

from campaigns.models import Mailing

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(client):
    user = StaffFactory()
    client.force_login(user)
    return user


def mailing_data(**overrides):
    data = {
        "subject": "Ready for {{ election.date }}",
        "from_name": "ALC",
        "reply_to": "office@alc.example.org",
        "body": "Dear {{ recipient.first_name }},\n\nGood luck, {{ group.name }}.",
        "recipients": ["contact"],
        "fall_back_to_contact": "on",
    }
    data.update(overrides)
    return data


def test_staff_compose_a_mailing_with_its_audience_rule(client, staff):
    region = RegionFactory(name="Wales")
    response = client.post(
        reverse("campaigns:mailing_create"),
        mailing_data(
            regions=[region.pk],
            council_kinds=["WPA"],
            controls=["LAB"],
            election_date="2027-05-06",
            recipients=["leader", "contact"],
        ),
    )
    mailing = Mailing.objects.get()
    assert response.url == mailing.get_absolute_url()
    assert list(mailing.regions.all()) == [region]
    assert mailing.council_kinds == ["WPA"]
    assert mailing.controls == ["LAB"]
    assert mailing.election_date == datetime.date(2027, 5, 6)
    assert mailing.recipients == ["leader", "contact"]
    assert mailing.fall_back_to_contact is True
    assert mailing.created_by == staff
    assert mailing.owner_region is None


def test_unknown_merge_field_is_refused_listing_the_fields(client, staff):
    response = client.post(
        reverse("campaigns:mailing_create"), mailing_data(body="Hi {{ recipient.nickname }}")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "recipient.nickname" in page
    assert "is not a merge field" in page
    assert "{{ election.labour_seats_up }}" in page
    assert not Mailing.objects.exists()


def test_template_syntax_error_is_refused(client, staff):
    response = client.post(
        reverse("campaigns:mailing_create"), mailing_data(subject="Hello {% if x %}")
    )
    assert response.status_code == 200
    assert 'id="id_subject_error"' in response.content.decode()
    assert not Mailing.objects.exists()


def test_overlong_subject_is_refused_next_to_the_field(client, staff):
    response = client.post(reverse("campaigns:mailing_create"), mailing_data(subject="x" * 201))
    page = response.content.decode()
    assert "at most 200 characters" in page
    assert 'aria-describedby="id_subject_error"' in page
    assert not Mailing.objects.exists()


def test_at_least_one_kind_of_recipient_is_needed(client, staff):
    response = client.post(reverse("campaigns:mailing_create"), mailing_data(recipients=[]))
    assert "Tick at least one kind of recipient." in response.content.decode()


def test_script_in_the_body_is_sanitised_in_the_preview(client, staff):
    CouncilGroupFactory()
    mailing = MailingFactory(
        body="Hello <script>alert('x')</script><img src=x onerror=alert(1)> **there**"
    )
    page = client.get(reverse("campaigns:mailing_preview", args=[mailing.pk])).content.decode()
    assert "<script>alert" not in page
    frame = client.get(reverse("campaigns:mailing_preview_html", args=[mailing.pk]))
    html = frame.content.decode()
    assert "<strong>there</strong>" in html
    assert "<script" not in html
    assert "onerror" not in html
    assert "sandbox" in frame["Content-Security-Policy"]
    assert "script-src" not in frame["Content-Security-Policy"]


def test_preview_renders_for_the_chosen_recipient(client, staff):
    first = CouncilGroupFactory(council=CouncilFactory(short_name="Aberdeen"))
    second = CouncilGroupFactory(council=CouncilFactory(short_name="Bristol"))
    mailing = MailingFactory(body="Hello {{ group.name }}")
    url = reverse("campaigns:mailing_preview", args=[mailing.pk])
    assert f"Hello {first.name}" in client.get(url).content.decode()
    chosen = client.get(url, {"recipient": second.contact_email}).content.decode()
    assert f"Hello {second.name}" in chosen


def test_audience_count_endpoint_counts_suppressed_and_groups_without_address(client, staff):
    region = RegionFactory()
    CouncilGroupFactory(council=CouncilFactory(region=region))
    CouncilGroupFactory(council=CouncilFactory(region=region), contact_email="x@example.org")
    empty = CouncilGroupFactory(council=CouncilFactory(region=region), contact_email="")
    CouncilGroupFactory()  # another region
    SuppressionFactory(email="X@example.org")
    response = client.get(
        reverse("campaigns:audience_count"), {"regions": region.pk, "recipients": "contact"}
    )
    data = response.json()
    assert data["count"] == 1
    assert data["suppressed"] == ["x@example.org"]
    assert empty.name in [g["name"] for g in data["groups_without_address"]]
    assert len(data["groups_without_address"]) == 2


def test_update_count_button_shows_the_count_without_saving(client, staff):
    CouncilGroupFactory()
    CouncilGroupFactory()
    response = client.post(
        reverse("campaigns:mailing_create"), mailing_data(update_count="1", subject="")
    )
    page = response.content.decode()
    assert "<strong>2</strong> addresses will receive this mailing." in page
    assert not Mailing.objects.exists()


def test_rep_drafts_for_their_own_region_and_submits_it(client):
    rep = RepresentativeFactory()
    client.force_login(rep.user)
    client.post(reverse("campaigns:mailing_create"), mailing_data(regions=[rep.region.pk]))
    mailing = Mailing.objects.get()
    assert mailing.owner_region == rep.region
    assert list(mailing.regions.all()) == [rep.region]
    client.post(reverse("campaigns:mailing_submit", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.AWAITING_APPROVAL


def test_rep_with_one_region_gets_it_when_none_ticked(client):
    rep = RepresentativeFactory()
    client.force_login(rep.user)
    client.post(reverse("campaigns:mailing_create"), mailing_data())
    assert list(Mailing.objects.get().regions.all()) == [rep.region]


def test_rep_naming_another_region_is_a_validation_error(client):
    rep = RepresentativeFactory()
    other = RegionFactory()
    client.force_login(rep.user)
    response = client.post(reverse("campaigns:mailing_create"), mailing_data(regions=[other.pk]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Mailing.objects.exists()


def test_staff_approve_a_reps_mailing(client, staff):
    region = RegionFactory()
    mailing = MailingFactory(owner_region=region, status=Mailing.Status.AWAITING_APPROVAL)
    client.post(reverse("campaigns:mailing_approve", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.approved_by == staff
    assert mailing.status == Mailing.Status.DRAFT


def test_rep_editing_an_approved_mailing_withdraws_the_approval(client):
    rep = RepresentativeFactory()
    mailing = MailingFactory(owner_region=rep.region, approved_by=StaffFactory())
    client.force_login(rep.user)
    client.post(
        reverse("campaigns:mailing_edit", args=[mailing.pk]),
        mailing_data(regions=[rep.region.pk], subject="Changed"),
    )
    mailing.refresh_from_db()
    assert mailing.subject == "Changed"
    assert mailing.approved_by is None


def test_schedule_in_the_past_is_refused(client, staff):
    mailing = MailingFactory()
    client.post(
        reverse("campaigns:mailing_schedule", args=[mailing.pk]), {"when": "2020-01-01T09:00"}
    )
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.DRAFT


def test_staff_schedule_a_mailing(client, staff):
    mailing = MailingFactory()
    client.post(
        reverse("campaigns:mailing_schedule", args=[mailing.pk]), {"when": "2040-01-01T09:00"}
    )
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SCHEDULED
    assert mailing.scheduled_for.year == 2040


def test_staff_send_now_snapshots_the_audience(client, staff, django_capture_on_commit_callbacks):
    CouncilGroupFactory()
    mailing = MailingFactory()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("campaigns:mailing_send", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SENDING
    assert mailing.deliveries.count() == 1


def make_mailings(count):
    region = RegionFactory()
    creator = StaffFactory()
    Mailing.objects.bulk_create(
        Mailing(subject=f"M{n}", body="b", recipients=["contact"], owner_region=region,
                created_by=creator)
        for n in range(count)
    )  # fmt: skip


@pytest.mark.parametrize("count", [20, 2000])
def test_mailing_list_makes_a_fixed_number_of_queries(
    client, staff, count, django_assert_max_num_queries
):
    make_mailings(count)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("campaigns:mailings"))
    assert response.status_code == 200
    assert response.content.decode().count('<th scope="row">') == min(count, 50)
