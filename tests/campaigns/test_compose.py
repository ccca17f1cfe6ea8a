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

from campaigns.forms import RATE_LIMIT_MESSAGE
from campaigns.models import Mailing
from campaigns.unsubscribe import unsubscribe_token_read
from regions.models import Council, CouncilGroup

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


# --- the preview: any recipient, as sent --------------------------------------------------------


def groups_create(count, region=None):
    """`count` Labour groups, each with a contact address, on councils named in order."""
    region = region or RegionFactory()
    councils = Council.objects.bulk_create(
        Council(gss_code=f"P{n:08d}", name=f"Council {n:04d}", short_name=f"Council {n:04d}",
                slug=f"preview-council-{n}", kind=Council.Kind.UNITARY, region=region,
                total_seats=50, labour_seats=20, control="LAB",
                election_pattern=Council.ElectionPattern.ALL_OUT)
        for n in range(1, count + 1)
    )  # fmt: skip
    CouncilGroup.objects.bulk_create(
        CouncilGroup(council=council, name=f"Group {n:04d} Labour",
                     contact_email=f"group{n:04d}@labour.example.org")
        for n, council in enumerate(councils, start=1)
    )  # fmt: skip
    return region


def test_preview_finds_and_shows_the_600th_recipient_of_a_large_audience(client, staff):
    region = groups_create(650)
    mailing = MailingFactory(regions=[region], body="Hello {{ group.name }}")
    url = reverse("campaigns:mailing_preview", args=[mailing.pk])

    found = client.get(url, {"q": "council 0600"}).text
    assert '<option value="group0600@labour.example.org" selected>' in found
    assert "Hello Group 0600 Labour" in found
    assert "1 recipient matches" in found

    chosen = client.get(url, {"recipient": "group0600@labour.example.org"}).text
    assert "Hello Group 0600 Labour" in chosen
    assert '<option value="group0600@labour.example.org" selected>' in chosen
    frame = client.get(
        reverse("campaigns:mailing_preview_html", args=[mailing.pk]),
        {"recipient": "group0600@labour.example.org"},
    ).text
    assert "Hello Group 0600 Labour" in frame


def test_preview_search_matches_name_email_group_and_council(client, staff):
    first = CouncilGroupFactory(council=CouncilFactory(short_name="Aberdeen", name="Aberdeen CC"))
    second = CouncilGroupFactory(
        council=CouncilFactory(short_name="Bristol", name="Bristol City Council"),
        name="Bristol Labour Group",
        contact_email="office@bristol-labour.example.org",
    )
    mailing = MailingFactory(body="Hello {{ group.name }}")
    url = reverse("campaigns:mailing_preview", args=[mailing.pk])
    for query in ("BRISTOL CITY", "bristol-labour", "labour group bristol", "City Council"):
        page = client.get(url, {"q": query}).text
        assert f"Hello {second.name}" in page, query
        assert f'<option value="{first.contact_email}"' not in page, query


def test_preview_search_without_a_match_says_so_next_to_the_field(client, staff):
    group = CouncilGroupFactory()
    mailing = MailingFactory(body="Hello {{ group.name }}")
    page = client.get(
        reverse("campaigns:mailing_preview", args=[mailing.pk]), {"q": "<b>nobody</b>"}
    ).text
    assert "No recipient matches “&lt;b&gt;nobody&lt;/b&gt;”." in page
    assert 'aria-describedby="id_q_helptext id_q_error"' in page
    assert f"Hello {group.name}" in page


def test_preview_shows_the_unsubscribe_footer_as_sent(client, staff, settings):
    settings.PORTAL_URL = "https://portal.example.org"
    group = CouncilGroupFactory()
    mailing = MailingFactory(body="Hello {{ group.name }}")
    text = client.get(reverse("campaigns:mailing_preview", args=[mailing.pk])).text
    assert "To stop receiving these emails: https://portal.example.org/unsubscribe/" in text
    frame = client.get(reverse("campaigns:mailing_preview_html", args=[mailing.pk])).text
    assert "Unsubscribe from these emails" in frame
    token = frame.split("https://portal.example.org/unsubscribe/")[1].split("/")[0]
    # Signed like the real link, but a preview's link unsubscribes nobody if followed.
    assert len(token) > len(group.contact_email)
    assert unsubscribe_token_read(token) is None
    assert client.post(f"/unsubscribe/{token}/").status_code == 400


@pytest.mark.parametrize("count", [20, 2000])
def test_preview_makes_a_fixed_number_of_queries(
    client, staff, count, django_assert_max_num_queries
):
    region = groups_create(count)
    mailing = MailingFactory(regions=[region])
    with django_assert_max_num_queries(12):
        page = client.get(reverse("campaigns:mailing_preview", args=[mailing.pk]), {"q": "group"})
    assert page.status_code == 200
    assert page.text.count("<option ") == min(count, 100)
    with django_assert_max_num_queries(12):
        frame = client.get(
            reverse("campaigns:mailing_preview_html", args=[mailing.pk]),
            {"recipient": f"group{count:04d}@labour.example.org"},
        )
    assert f"Group {count:04d} Labour" in frame.text


# --- pressing Send twice ------------------------------------------------------------------------


def test_second_press_of_send_lands_on_the_mailing_page_saying_it_is_already_being_sent(
    client, staff, django_capture_on_commit_callbacks
):
    CouncilGroupFactory()
    CouncilGroupFactory()
    mailing = MailingFactory()
    url = reverse("campaigns:mailing_send", args=[mailing.pk])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = client.post(url)
        second = client.post(url, follow=True)
    assert first.url == mailing.get_absolute_url()
    assert second.redirect_chain == [(mailing.get_absolute_url(), 302)]
    assert second.status_code == 200
    assert "This mailing is already being sent." in second.text
    # The audience was snapshotted and the senders queued once only.
    assert mailing.deliveries.count() == 2
    assert len(queued) == 1
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENDING


def test_schedule_pressed_after_sending_started_says_so(client, staff):
    mailing = MailingFactory(status=Mailing.Status.SENDING)
    response = client.post(
        reverse("campaigns:mailing_schedule", args=[mailing.pk]),
        {"when": "2040-01-01T09:00"},
        follow=True,
    )
    assert response.status_code == 200
    assert "This mailing is already being sent." in response.text
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENDING


def test_rep_pressing_send_on_their_regions_sending_mailing_is_still_refused(client):
    rep = RepresentativeFactory()
    mailing = MailingFactory(owner_region=rep.region, status=Mailing.Status.SENDING)
    client.force_login(rep.user)
    assert client.post(reverse("campaigns:mailing_send", args=[mailing.pk])).status_code == 403


# --- the rate limit -----------------------------------------------------------------------------


def test_staff_set_a_rate_limit_shown_on_the_mailing_page(client, staff, settings):
    settings.MAILING_RATE_LIMIT = 0
    client.post(reverse("campaigns:mailing_create"), mailing_data(rate_limit="12.5"))
    mailing = Mailing.objects.get()
    assert mailing.rate_limit == 12.5
    page = client.get(mailing.get_absolute_url()).text
    assert "At most 12.5 messages per second (set for this mailing)" in page


def test_mailing_page_says_when_the_portal_limit_is_lower(client, staff, settings):
    settings.MAILING_RATE_LIMIT = 20
    mailing = MailingFactory(rate_limit=50)
    page = client.get(mailing.get_absolute_url()).text
    assert "the portal-wide limit of 20 messages per second applies" in page
    mailing = MailingFactory()
    assert (
        "At most 20 messages per second (the portal-wide limit)"
        in client.get(mailing.get_absolute_url()).text
    )


def test_staff_change_and_clear_the_rate_limit(client, staff):
    mailing = MailingFactory(rate_limit=5)
    url = reverse("campaigns:mailing_edit", args=[mailing.pk])
    assert 'name="rate_limit" value="5.0"' in client.get(url).text
    client.post(url, mailing_data(rate_limit="2"))
    mailing.refresh_from_db()
    assert mailing.rate_limit == 2
    client.post(url, mailing_data(rate_limit=""))
    mailing.refresh_from_db()
    assert mailing.rate_limit is None


@pytest.mark.parametrize("typed", ["0", "-3", "ten", "nan", "inf", "1e400"])
def test_rate_limit_must_be_a_positive_number(client, staff, typed):
    response = client.post(reverse("campaigns:mailing_create"), mailing_data(rate_limit=typed))
    assert response.status_code == 200
    assert RATE_LIMIT_MESSAGE in response.text
    assert 'aria-describedby="id_rate_limit_helptext id_rate_limit_error"' in response.text
    assert not Mailing.objects.exists()


def test_rep_cannot_set_a_rate_limit(client):
    rep = RepresentativeFactory()
    client.force_login(rep.user)
    assert 'name="rate_limit"' not in client.get(reverse("campaigns:mailing_create")).text
    client.post(
        reverse("campaigns:mailing_create"),
        mailing_data(regions=[rep.region.pk], rate_limit="1000"),
    )
    assert Mailing.objects.get().rate_limit is None


def test_rep_editing_keeps_the_rate_limit_staff_set(client):
    rep = RepresentativeFactory()
    mailing = MailingFactory(owner_region=rep.region, rate_limit=5)
    client.force_login(rep.user)
    client.post(
        reverse("campaigns:mailing_edit", args=[mailing.pk]),
        mailing_data(regions=[rep.region.pk], subject="Changed", rate_limit="1000"),
    )
    mailing.refresh_from_db()
    assert (mailing.subject, mailing.rate_limit) == ("Changed", 5)
