import datetime
import re

import pytest
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    ElectionFactory,
    MailingFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    SuppressionFactory,
)

from campaigns.forms import RATE_LIMIT_MESSAGE
from campaigns.models import Mailing, Suppression
from campaigns.unsubscribe import unsubscribe_token_read
from regions.models import Council, CouncilGroup

pytestmark = pytest.mark.django_db


def mailing_data(**overrides):
    data = {
        "subject": "Ready for {{ election.date }}",
        "from_name": "ALC",
        "reply_to": "office@alc.example.org",
        "body": "Dear {{ recipient.first_name }},\n\nGood luck, {{ group.name }}.",
        "recipients": ["contact"],
        "fall_back_to_contact": "on",
    }
    # Staff write to every region by choosing it; a representative's own region is ticked for
    # them (the box is not on their form).
    if "regions" not in overrides:
        data["all_regions"] = "on"
    data.update(overrides)
    return data


def test_staff_compose_a_mailing_with_its_audience_rule(client, staff):
    region = RegionFactory(name="Wales")
    response = client.post(
        reverse("campaigns:mailing_create"),
        mailing_data(
            regions=[region.pk],
            council_kinds=["WPA"],
            controls=["lab_majority", "lab_minority"],
            election_date="2027-05-06",
            recipients=["leader", "contact"],
        ),
    )
    mailing = Mailing.objects.get()
    assert response.url == mailing.get_absolute_url()
    assert list(mailing.regions.all()) == [region]
    assert mailing.council_kinds == ["WPA"]
    assert mailing.controls == ["lab_majority", "lab_minority"]
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
    CouncilGroupFactory()
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
    followed = client.post(f"/unsubscribe/{token}/")
    assert "Nobody has been unsubscribed." in followed.text
    assert not Suppression.objects.exists()


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


def test_second_press_of_send_lands_on_the_sending_page_saying_it_is_already_being_sent(
    client, staff, django_capture_on_commit_callbacks
):
    CouncilGroupFactory()
    CouncilGroupFactory()
    mailing = MailingFactory()
    url = reverse("campaigns:mailing_send", args=[mailing.pk])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = client.post(url)
        second = client.post(url, follow=True)
    sending_page = reverse("campaigns:mailing_sending", args=[mailing.pk])
    assert first.url == sending_page
    assert second.redirect_chain == [(sending_page, 302)]
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


@pytest.mark.parametrize(
    "typed", ["0", "-3", "ten", "nan", "inf", "1e400", "1e308", "10000.01", "1" + "0" * 400]
)
def test_rate_limit_must_be_a_positive_number_up_to_the_maximum(client, staff, typed):
    response = client.post(reverse("campaigns:mailing_create"), mailing_data(rate_limit=typed))
    assert response.status_code == 200
    assert RATE_LIMIT_MESSAGE in response.text
    assert 'aria-describedby="id_rate_limit_helptext id_rate_limit_error"' in response.text
    assert not Mailing.objects.exists()


def test_the_maximum_rate_limit_is_accepted(client, staff):
    response = client.post(reverse("campaigns:mailing_create"), mailing_data(rate_limit="10000"))
    assert response.status_code == 302
    assert Mailing.objects.get().rate_limit == 10_000


def test_a_rule_saved_with_an_earlier_party_code_is_shown_and_kept(client, staff):
    mailing = MailingFactory(controls=["CON", "lab_majority"])
    url = reverse("campaigns:mailing_edit", args=[mailing.pk])
    page = client.get(url).text
    assert "Run by or with Conservative (earlier choice)" in page
    assert re.search(r'<input[^>]*value="CON"[^>]*checked', page)
    response = client.post(url, mailing_data(controls=["CON", "lab_majority"], subject="Again"))
    assert response.status_code == 302
    mailing.refresh_from_db()
    assert (mailing.subject, mailing.controls) == ("Again", ["CON", "lab_majority"])
    detail = client.get(mailing.get_absolute_url()).text
    assert "Run by or with Conservative (earlier choice); Labour majority" in detail


def test_unknown_control_choice_is_refused(client, staff):
    response = client.post(reverse("campaigns:mailing_create"), mailing_data(controls=["XYZ"]))
    assert response.status_code == 200
    assert 'aria-describedby="id_controls_helptext id_controls_error"' in response.text
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


# --- taking a mailing off the schedule ----------------------------------------------------------


def scheduled_mailing(**kwargs):
    return MailingFactory(
        status=Mailing.Status.SCHEDULED,
        scheduled_for=datetime.datetime(2040, 1, 1, 9, tzinfo=datetime.UTC),
        **kwargs,
    )


def test_staff_unschedule_a_mailing_back_to_a_draft_keeping_its_approval(client, staff):
    region = RegionFactory()
    approver = StaffFactory()
    mailing = scheduled_mailing(owner_region=region, regions=[region], approved_by=approver)
    page = client.get(mailing.get_absolute_url()).text
    assert "Unschedule (back to draft)" in page
    assert "Cancel this mailing" in page
    response = client.post(reverse("campaigns:mailing_unschedule", args=[mailing.pk]), follow=True)
    assert "Taken off the schedule: it is a draft again." in response.text
    mailing.refresh_from_db()
    assert (mailing.status, mailing.scheduled_for) == (Mailing.Status.DRAFT, None)
    assert mailing.approved_by == approver
    latest = mailing.history.order_by("-history_id").first()
    assert (latest.history_change_reason, latest.history_user) == ("Taken off the schedule", staff)
    assert "Unschedule" not in response.text


def test_unscheduling_a_mailing_that_is_not_scheduled_changes_nothing(client, staff):
    mailing = MailingFactory(status=Mailing.Status.SENDING)
    response = client.post(reverse("campaigns:mailing_unschedule", args=[mailing.pk]), follow=True)
    assert "It was not scheduled." in response.text
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENDING


def test_staff_cancel_a_scheduled_mailing_from_its_page(client, staff):
    CouncilGroupFactory()
    mailing = scheduled_mailing()
    response = client.post(reverse("campaigns:mailing_cancel", args=[mailing.pk]), follow=True)
    assert response.redirect_chain == [(mailing.get_absolute_url(), 302)]
    assert "Cancelled: nothing more will be sent." in response.text
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.CANCELLED
    assert not mailing.deliveries.exists()
    assert "Cancel this mailing" not in response.text
    assert "Send now" not in response.text


def test_rep_sees_no_unschedule_or_cancel_button(client):
    rep = RepresentativeFactory()
    mailing = scheduled_mailing(owner_region=rep.region, regions=[rep.region])
    client.force_login(rep.user)
    page = client.get(mailing.get_absolute_url()).text
    assert "Unschedule" not in page
    assert "Cancel this mailing" not in page


# --- the sender's name goes into a header ----------------------------------------------------


@pytest.mark.parametrize("name", ["ALC\r\nBcc: all@example.org", "ALC\nX", "A\tB", "A\u2028B"])
def test_line_break_or_control_character_in_the_from_name_is_refused_next_to_it(
    client, staff, name
):
    response = client.post(reverse("campaigns:mailing_create"), mailing_data(from_name=name))
    assert response.status_code == 200
    assert "The name can&#x27;t contain line breaks, tabs or other control characters." in (
        response.text
    )
    assert 'aria-describedby="id_from_name_error"' in response.text
    assert not Mailing.objects.exists()


def test_line_break_in_the_reply_to_address_is_refused(client, staff):
    response = client.post(
        reverse("campaigns:mailing_create"),
        mailing_data(reply_to="office@alc.example.org\r\nBcc: all@example.org"),
    )
    assert 'aria-describedby="id_reply_to_error"' in response.text
    assert not Mailing.objects.exists()


def test_a_name_in_any_language_is_accepted(client, staff):
    client.post(reverse("campaigns:mailing_create"), mailing_data(from_name="Cymdeithas – ALC"))
    assert Mailing.objects.get().from_name == "Cymdeithas – ALC"


BROKEN_NAME = "ALC\r\nBcc: all@example.org"


def test_send_of_a_mailing_whose_from_name_cannot_be_used_is_refused_not_left_sending(
    client, staff, django_capture_on_commit_callbacks
):
    CouncilGroupFactory()
    mailing = MailingFactory(from_name=BROKEN_NAME)  # saved before names were checked
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse("campaigns:mailing_send", args=[mailing.pk]), follow=True)
    assert response.status_code == 200
    assert "Not sent: The sender&#x27;s name or reply-to address can&#x27;t be used" in (
        response.text
    )
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.DRAFT
    assert not mailing.deliveries.exists()
    assert queued == []


def test_schedule_of_a_mailing_whose_from_name_cannot_be_used_is_refused(client, staff):
    mailing = MailingFactory(from_name=BROKEN_NAME)
    response = client.post(
        reverse("campaigns:mailing_schedule", args=[mailing.pk]),
        {"when": "2040-01-01T09:00"},
        follow=True,
    )
    assert "Not scheduled: The sender&#x27;s name" in response.text
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.DRAFT


def test_test_send_of_a_mailing_whose_from_name_cannot_be_used_says_so(client, staff, smtp):
    CouncilGroupFactory()
    mailing = MailingFactory(from_name=BROKEN_NAME)
    response = client.post(reverse("campaigns:mailing_test_send", args=[mailing.pk]), follow=True)
    assert response.status_code == 200
    assert "The test could not be sent: The sender&#x27;s name" in response.text
    assert smtp.messages == []


# --- a representative's mailing widened by staff --------------------------------------------------


def test_staff_widening_a_reps_mailing_makes_it_national_and_hides_it_from_the_rep(client):
    rep = RepresentativeFactory()
    other = RegionFactory()
    CouncilGroupFactory(council=CouncilFactory(region=other), contact_email="far@example.org")
    mailing = MailingFactory(
        owner_region=rep.region, regions=[rep.region], approved_by=StaffFactory()
    )
    staff = StaffFactory()
    client.force_login(staff)
    client.post(
        reverse("campaigns:mailing_edit", args=[mailing.pk]),
        mailing_data(regions=[rep.region.pk, other.pk]),
    )
    mailing.refresh_from_db()
    assert mailing.owner_region is None
    assert mailing.approved_by is None
    assert set(mailing.regions.all()) == {rep.region, other}
    assert "now a national mailing" in mailing.history.latest().history_change_reason
    client.force_login(rep.user)
    for name in ("mailing", "mailing_preview", "mailing_sending"):
        assert client.get(reverse(f"campaigns:{name}", args=[mailing.pk])).status_code == 404


@pytest.mark.parametrize("regions", ["none", "other"])
def test_staff_readdressing_a_reps_mailing_to_any_other_regions_makes_it_national(
    client, staff, regions
):
    rep = RepresentativeFactory()
    mailing = MailingFactory(owner_region=rep.region, regions=[rep.region])
    # "none": every region, chosen as such.
    chosen = {"all_regions": "on"} if regions == "none" else {"regions": [RegionFactory().pk]}
    client.post(reverse("campaigns:mailing_edit", args=[mailing.pk]), mailing_data(**chosen))
    mailing.refresh_from_db()
    assert mailing.owner_region is None


def test_staff_editing_a_reps_mailing_within_its_region_keeps_it_the_regions(client, staff):
    rep = RepresentativeFactory()
    mailing = MailingFactory(owner_region=rep.region, regions=[rep.region])
    client.post(
        reverse("campaigns:mailing_edit", args=[mailing.pk]),
        mailing_data(regions=[rep.region.pk], subject="Tidied"),
    )
    mailing.refresh_from_db()
    assert (mailing.subject, mailing.owner_region) == ("Tidied", rep.region)


# --- approve and send what staff saw, all or nothing -------------------------------------------


def version_on_page(client, mailing) -> str:
    page = client.get(mailing.get_absolute_url()).text
    return page.split('name="version" value="')[1].split('"')[0]


def test_a_send_that_fails_leaves_a_reps_draft_unapproved(client, staff):
    rep = RepresentativeFactory()  # no group in the region: nobody to send to
    mailing = MailingFactory(
        owner_region=rep.region, regions=[rep.region], status=Mailing.Status.AWAITING_APPROVAL
    )
    response = client.post(
        reverse("campaigns:mailing_send", args=[mailing.pk]),
        {"version": version_on_page(client, mailing)},
        follow=True,
    )
    assert "Not sent: Nobody to send to" in response.text
    mailing.refresh_from_db()
    assert (mailing.status, mailing.approved_by) == (Mailing.Status.AWAITING_APPROVAL, None)
    assert not mailing.history.filter(history_change_reason__startswith="Approved").exists()


def test_schedule_in_the_past_leaves_a_reps_draft_unapproved_with_the_error_by_the_field(
    client, staff
):
    rep = RepresentativeFactory()
    mailing = MailingFactory(
        owner_region=rep.region, regions=[rep.region], status=Mailing.Status.AWAITING_APPROVAL
    )
    response = client.post(
        reverse("campaigns:mailing_schedule", args=[mailing.pk]),
        {"when": "2020-01-01T09:00", "version": version_on_page(client, mailing)},
    )
    assert response.status_code == 400
    page = response.text
    assert page.count("<h1>") == 1
    error = page.split('id="id_when_error"')[1].split("</ul>")[0]
    assert "Choose a time in the future." in error
    assert 'aria-describedby="id_when_helptext id_when_error"' in page
    assert 'aria-invalid="true"' in page
    # What was posted, in the date box and the time box.
    assert 'name="when_0" value="2020-01-01"' in page
    assert 'name="when_1" value="09:00"' in page
    mailing.refresh_from_db()
    assert (mailing.status, mailing.approved_by) == (Mailing.Status.AWAITING_APPROVAL, None)


def test_schedule_with_no_time_is_shown_next_to_the_field(client, staff):
    mailing = MailingFactory()
    response = client.post(reverse("campaigns:mailing_schedule", args=[mailing.pk]), {})
    assert response.status_code == 400
    error = response.text.split('id="id_when_error"')[1]
    assert "Enter a date and a time, for example 7 December 2026 and 14:30." in error
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.DRAFT


def rep_edit(client, rep, mailing, subject):
    client.force_login(rep.user)
    client.post(
        reverse("campaigns:mailing_edit", args=[mailing.pk]),
        mailing_data(regions=[rep.region.pk], subject=subject),
    )


@pytest.mark.parametrize("action", ["mailing_send", "mailing_schedule", "mailing_approve"])
def test_a_reps_edit_after_staff_opened_the_mailing_is_not_approved_or_sent_unseen(
    client, action, django_capture_on_commit_callbacks
):
    rep = RepresentativeFactory()
    CouncilGroupFactory(council=CouncilFactory(region=rep.region))
    mailing = MailingFactory(
        owner_region=rep.region, regions=[rep.region], status=Mailing.Status.AWAITING_APPROVAL
    )
    staff = StaffFactory()
    client.force_login(staff)
    seen = version_on_page(client, mailing)
    rep_edit(client, rep, mailing, "Changed after staff looked")
    client.force_login(staff)
    data = {"version": seen, "when": "2040-01-01T09:00"}
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse(f"campaigns:{action}", args=[mailing.pk]), data, follow=True)
    assert "The mailing changed since you opened it: check it again." in response.text
    mailing.refresh_from_db()
    assert mailing.approved_by is None
    assert mailing.status == Mailing.Status.DRAFT
    assert not mailing.deliveries.exists()
    assert queued == []
    # Looked at again, it goes.
    data["version"] = version_on_page(client, mailing)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse(f"campaigns:{action}", args=[mailing.pk]), data)
    mailing.refresh_from_db()
    assert mailing.approved_by == staff
    assert mailing.subject == "Changed after staff looked"


def test_staff_send_a_reps_draft_as_seen_approving_it_in_the_same_step(
    client, staff, django_capture_on_commit_callbacks
):
    rep = RepresentativeFactory()
    CouncilGroupFactory(council=CouncilFactory(region=rep.region))
    mailing = MailingFactory(
        owner_region=rep.region, regions=[rep.region], status=Mailing.Status.AWAITING_APPROVAL
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(
            reverse("campaigns:mailing_send", args=[mailing.pk]),
            {"version": version_on_page(client, mailing)},
        )
    mailing.refresh_from_db()
    assert (mailing.status, mailing.approved_by) == (Mailing.Status.SENDING, staff)
    assert mailing.deliveries.count() == 1
    assert len(queued) == 1


def test_send_now_to_nobody_is_refused_with_a_message(client, staff):
    mailing = MailingFactory()  # no groups at all
    response = client.post(reverse("campaigns:mailing_send", args=[mailing.pk]), follow=True)
    assert (
        "Not sent: Nobody to send to: the audience has no address that may be written to."
        in response.text
    )
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.DRAFT


# --- a test copy as sent to the recipient previewed -------------------------------------------


def test_test_send_from_the_preview_uses_the_recipient_being_previewed(client, staff, smtp):
    CouncilGroupFactory(council=CouncilFactory(short_name="Aberdeen"))
    second = CouncilGroupFactory(council=CouncilFactory(short_name="Bristol"))
    mailing = MailingFactory(subject="For {{ group.name }}", body="Hello {{ group.name }}")
    preview = client.get(
        reverse("campaigns:mailing_preview", args=[mailing.pk]),
        {"recipient": second.contact_email},
    ).text
    assert f'name="recipient" value="{second.contact_email}"' in preview
    response = client.post(
        reverse("campaigns:mailing_test_send", args=[mailing.pk]),
        {"recipient": second.contact_email},
    )
    assert response.url.endswith(f"?recipient={second.contact_email.replace('@', '%40')}")
    message = smtp.wait_for(1)[0]
    assert message["Subject"] == f"[Test] For {second.name}"
    assert message.rcpt_tos == [staff.email]


# --- after sending starts: the recorded audience ----------------------------------------------


def test_mailing_page_shows_the_recorded_audience_once_sending_started(client, staff):
    from campaigns.models import Delivery

    CouncilGroupFactory()  # in today's audience, but not when it started
    mailing = MailingFactory(status=Mailing.Status.SENT)
    for email, status in [("a@example.org", "sent"), ("b@example.org", "failed")]:
        Delivery.objects.create(mailing=mailing, email=email, status=status)
    Delivery.objects.create(mailing=mailing, email="c@example.org", status="suppressed")
    page = client.get(mailing.get_absolute_url()).text
    recorded = " ".join(page.split('id="recorded-audience">')[1].split("</p>")[0].split())
    assert recorded == (
        "When sending started, <strong>2</strong> addresses were recorded to receive this "
        "mailing, and 1 suppressed address was left out. The progress below shows what became "
        "of them."
    )
    assert "will receive this mailing" not in page


# --- the audience panel: suppression is staff-only, gaps in merge values are reported ----------


def test_rep_sees_how_many_addresses_are_suppressed_but_not_which(client):
    rep = RepresentativeFactory()
    client.force_login(rep.user)
    CouncilGroupFactory(council=CouncilFactory(region=rep.region), contact_email="x@example.org")
    CouncilGroupFactory(council=CouncilFactory(region=rep.region))
    SuppressionFactory(email="x@example.org")
    data = client.get(
        reverse("campaigns:audience_count"), {"regions": rep.region.pk, "recipients": "contact"}
    ).json()
    assert data["count"] == 1
    assert data["suppressed_count"] == 1
    assert "suppressed" not in data
    assert "x@example.org" not in str(data)
    page = client.post(
        reverse("campaigns:mailing_create"),
        mailing_data(regions=[rep.region.pk], update_count="1"),
    ).text
    assert "1 suppressed (unsubscribed, bounced or complained), not written to." in page
    assert "x@example.org" not in page


def test_staff_see_which_addresses_are_suppressed_in_the_panel(client, staff):
    CouncilGroupFactory(contact_email="x@example.org")
    SuppressionFactory(email="x@example.org")
    page = client.post(reverse("campaigns:mailing_create"), mailing_data(update_count="1")).text
    assert "<li>x@example.org</li>" in page


def test_live_count_reports_recipients_with_no_value_for_a_field_the_message_uses(client, staff):
    voting = CouncilGroupFactory(council=CouncilFactory(short_name="A"))
    ElectionFactory(council=voting.council, date=datetime.date(2027, 5, 6))
    CouncilGroupFactory(council=CouncilFactory(short_name="B"))
    CouncilGroupFactory(council=CouncilFactory(short_name="C"))
    url = reverse("campaigns:audience_count")
    data = client.get(
        url,
        {
            "recipients": "contact",
            "all_regions": "on",
            "fields": ["", "election.date", "group.name", "bogus"],
        },
    ).json()
    assert data["missing"] == [
        {
            "field": "election.date",
            "count": 2,
            "message": '2 recipients have no election.date — add |default:"..." or narrow the '
            "audience",
        }
    ]
    everywhere = {"recipients": "contact", "all_regions": "on"}
    assert client.get(url, {**everywhere, "fields": ""}).json()["missing"] == []
    by_text = client.get(
        url, {**everywhere, "subject": "Hi", "body": "{{ election.seats_up }}"}
    ).json()
    assert [m["field"] for m in by_text["missing"]] == ["election.seats_up"]


def test_update_count_reports_gaps_for_the_message_being_written(client, staff):
    CouncilGroupFactory()
    page = client.post(
        reverse("campaigns:mailing_create"),
        mailing_data(update_count="1", subject="Polls on {{ election.date }}"),
    ).text
    assert "1 recipient has no election.date — add |default:&quot;...&quot; or narrow" in page
    defaulted = client.post(
        reverse("campaigns:mailing_create"),
        mailing_data(
            update_count="1", subject='Polls on {{ election.date|default:"polling day" }}'
        ),
    ).text
    assert "no election.date" not in defaulted


def test_preview_reports_recipients_with_no_value_for_a_field_used(client, staff):
    CouncilGroupFactory()
    CouncilGroupFactory()
    mailing = MailingFactory(body="{{ election.seats_up }} seats up on {{ election.date }}")
    page = client.get(reverse("campaigns:mailing_preview", args=[mailing.pk])).text
    assert "2 recipients have no election.seats_up" in page
    assert "2 recipients have no election.date" in page


# --- a started mailing's preview and test send show what was recorded -------------------------


def started_mailing(**kwargs):
    from campaigns.models import Delivery

    mailing = MailingFactory(status=Mailing.Status.SENT, **kwargs)
    Delivery.objects.create(
        mailing=mailing,
        email="recorded@example.org",
        status="sent",
        context={"recipient": {"first_name": "Carys"}, "group": {"name": "Recorded Group"}},
    )
    Delivery.objects.create(mailing=mailing, email="gone@example.org", status="suppressed")
    return mailing


def test_preview_of_a_started_mailing_shows_the_recorded_recipients_and_values(client, staff):
    today = CouncilGroupFactory()  # in today's audience, but not when it started
    mailing = started_mailing(body="Dear {{ recipient.first_name }} of {{ group.name }}")
    url = reverse("campaigns:mailing_preview", args=[mailing.pk])
    page = client.get(url).text
    assert "Dear Carys of Recorded Group" in page
    assert "the recipients and their values are those recorded" in page
    assert today.contact_email not in page
    assert "gone@example.org" not in page
    assert client.get(url, {"recipient": today.contact_email}).text.count(today.contact_email) == 0
    frame = client.get(reverse("campaigns:mailing_preview_html", args=[mailing.pk])).text
    assert "Dear Carys of Recorded Group" in frame


def test_test_send_of_a_started_mailing_uses_the_recorded_values(client, staff, smtp):
    CouncilGroupFactory()
    mailing = started_mailing(subject="For {{ group.name }}")
    client.post(
        reverse("campaigns:mailing_test_send", args=[mailing.pk]),
        {"recipient": "recorded@example.org"},
    )
    message = smtp.wait_for(1)[0]
    assert message["Subject"] == "[Test] For Recorded Group"
    assert message.rcpt_tos == [staff.email]


# --- sending asks first; pages in people's words ----------------------------------------------


def test_send_now_shows_a_summary_and_sends_only_from_its_final_button(
    client, staff, django_capture_on_commit_callbacks
):
    london = RegionFactory(name="London")
    for n in range(2):
        CouncilGroupFactory(
            council=CouncilFactory(region=london), contact_email=f"g{n}@labour.example.org"
        )
    mailing = MailingFactory(
        subject="{{ council.name }}: getting ready", regions=[london], recipients=["contact"]
    )
    page = client.get(mailing.get_absolute_url()).text
    # The mailing's page has no button that sends: Send now asks first.
    assert reverse("campaigns:mailing_send", args=[mailing.pk]) not in page
    version = version_on_page(client, mailing)
    confirm = client.get(mailing.get_absolute_url(), {"confirm": "send", "version": version})
    summary = confirm.text
    assert "<h1>Send this mailing now?</h1>" in summary
    assert "[council name]: getting ready" in summary
    assert "<dt>Regions</dt><dd>London</dd>" in summary
    assert re.search(r'id="send-count"><strong>2</strong>', summary)
    assert "Group contact address" in summary
    assert f'action="{reverse("campaigns:mailing_send", args=[mailing.pk])}"' in summary
    assert f'name="version" value="{version}"' in summary
    assert "Send to 2 addresses now" in summary
    mailing.refresh_from_db()
    assert (mailing.status, mailing.deliveries.count()) == (Mailing.Status.DRAFT, 0)

    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("campaigns:mailing_send", args=[mailing.pk]), {"version": version})
    mailing.refresh_from_db()
    assert (mailing.status, mailing.deliveries.count()) == (Mailing.Status.SENDING, 2)


def test_a_change_after_send_now_was_pressed_stops_the_confirmed_send(client, staff):
    region = RegionFactory()
    CouncilGroupFactory(council=CouncilFactory(region=region))
    mailing = MailingFactory(regions=[region])
    version = version_on_page(client, mailing)
    summary = client.get(mailing.get_absolute_url(), {"confirm": "send", "version": version}).text
    # Sending cannot be taken back: its button is in the warning style.
    assert '<button type="submit" class="warning" id="send-confirmed">' in summary
    mailing.subject = "Changed meanwhile"
    mailing.save()
    posted = summary.split('name="version" value="')[1].split('"')[0]
    response = client.post(
        reverse("campaigns:mailing_send", args=[mailing.pk]), {"version": posted}, follow=True
    )
    assert "The mailing changed since you opened it" in response.text
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.DRAFT


def test_send_confirmation_is_not_offered_to_a_rep_or_for_a_started_mailing(client, staff):
    rep = RepresentativeFactory()
    mailing = MailingFactory(owner_region=rep.region, regions=[rep.region])
    sent = MailingFactory(status=Mailing.Status.SENT)
    assert "Send this mailing now?" not in (
        client.get(sent.get_absolute_url(), {"confirm": "send"}).text
    )
    client.force_login(rep.user)
    response = client.get(mailing.get_absolute_url(), {"confirm": "send"})
    assert response.status_code == 200
    assert "Send this mailing now?" not in response.text


def test_mailing_page_shows_labels_and_a_readable_title_not_internal_values(client, staff):
    mailing = MailingFactory(
        subject="{{ council.name }}: getting ready for {{ election.date }}",
        recipients=["contact", "all_councillors"],
        council_kinds=["LBO"],
    )
    page = client.get(mailing.get_absolute_url()).text
    assert "<h1>[council name]: getting ready for [election date]</h1>" in page
    assert "<code>{{ council.name }}: getting ready for {{ election.date }}</code>" in page
    send_to = page.split('id="send-to">')[1].split("</dd>")[0]
    assert send_to.startswith("Group contact address, All councillors in the group")
    assert "all_councillors" not in send_to
    assert "London borough" in page


def test_mailing_list_shows_audience_regions_counts_and_dates(client, staff):
    from django.utils import timezone

    from campaigns.models import Delivery

    london = RegionFactory(name="London")
    sent = MailingFactory(
        subject="{{ council.name }} news",
        regions=[london],
        status=Mailing.Status.SENT,
        started_at=timezone.make_aware(datetime.datetime(2026, 11, 2, 12, 30)),
        finished_at=timezone.make_aware(datetime.datetime(2026, 11, 2, 12, 40)),
    )
    for n, status in enumerate(["sent", "sent", "sent", "failed", "suppressed"]):
        Delivery.objects.create(mailing=sent, email=f"p{n}@example.org", status=status)
    MailingFactory(
        subject="Later",
        status=Mailing.Status.SCHEDULED,
        scheduled_for=timezone.make_aware(datetime.datetime(2040, 1, 5, 18, 15)),
    )
    page = client.get(reverse("campaigns:mailings")).text
    row = page.split("[council name] news")[1].split("</tr>")[0]
    assert "2 Nov 2026, 12:40" in row
    assert '<td class="num">3</td>' in row
    assert '<td class="num">1</td>' in row
    assert "<td>London</td>" in row
    assert "National" not in row
    later = page.split(">Later</a>")[1].split("</tr>")[0]
    assert "For <time" in later and "5 Jan 2040, 18:15" in later
    assert "<td>All regions</td>" in later


def test_each_recipient_is_told_why_they_get_the_mailing(client, staff):
    from factories import CouncillorFactory, ServingOfficerFactory

    from campaigns.audience import audience_resolve
    from campaigns.rendering import render_message

    region = RegionFactory()
    group = CouncilGroupFactory(
        council=CouncilFactory(region=region), contact_email="group@labour.example.org"
    )
    leader = ServingOfficerFactory(group=group, role="leader").user
    councillor = CouncillorFactory(council=group.council).user
    mailing = MailingFactory(regions=[region], recipients=["contact", "leader", "all_councillors"])
    audience = audience_resolve(mailing)
    footers = {
        r.email: render_message(
            subject="Hi", body="News.", context={**r.context, "unsubscribe_url": "https://u/"}
        ).html
        for r in audience.recipients
    }
    assert "as the leader of" in footers[leader.email.lower()]
    assert "as a councillor in" in footers[councillor.email.lower()]
    assert "as the contact address of" in footers["group@labour.example.org"]
    assert len(footers) == audience.count == 3
