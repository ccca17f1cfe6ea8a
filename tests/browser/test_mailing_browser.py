"""Staff write to every Welsh Labour group with elections on 6 May 2027, in a real browser, with
a real Celery worker sending to a real SMTP server; the pages pass axe-core."""

import datetime
import uuid

import pytest
from accessibility import assert_accessible
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from browsing import log_in
from django.utils import timezone
from factories import (
    PASSWORD,
    CampaignFactory,
    CouncilFactory,
    CouncilGroupFactory,
    MailingFactory,
    StaffFactory,
)
from polling import wait_for
from workers import current_database_url, worker_start, worker_stop

from alc_portal.celery import app as celery_app
from alc_portal.mailcatcher import SmtpCatcher
from campaigns.models import Delivery, Mailing
from campaigns.services import lifecycle
from regions.models import CouncilGroup, Election

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLLING_DAY = datetime.date(2027, 5, 6)
# A secret of whole base32 blocks, so the two-factor step can check the code.
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _log_in(page, user):
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    TOTP.activate(user, SECRET)
    log_in(page, user.email, PASSWORD, totp_secret=SECRET)


@pytest.fixture
def staff(page):
    user = StaffFactory()
    _log_in(page, user)
    return user


@pytest.fixture
def welsh_groups(gb_councils):
    """Welsh groups with an election on 6 May 2027, each given a contact address."""
    groups = list(
        CouncilGroup.objects.filter(
            council__region__slug="wales",
            council__in=Election.objects.filter(date=POLLING_DAY).values("council_id"),
        )
    )
    for group in groups:
        group.contact_email = f"{group.council.slug}@labour.example.org"
        group.save(update_fields=["contact_email"])
    return groups


@pytest.fixture
def sender(monkeypatch):
    """An SMTP server and a worker of our own, on a private queue, that sends to it."""
    catcher = SmtpCatcher().start()
    queue = f"mailing-browser-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    with monkeypatch.context() as patch:
        patch.setenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
        patch.setenv("EMAIL_HOST", catcher.host)
        patch.setenv("EMAIL_PORT", str(catcher.port))
        patch.setenv("CELERY_TASK_DEFAULT_QUEUE", queue)
        proc = worker_start(database_url=current_database_url(), name="mailing-browser")
    yield catcher
    worker_stop(proc)
    catcher.stop()


def test_staff_compose_preview_and_send_to_welsh_groups(page, staff, welsh_groups, sender):
    page.goto("/campaigns/mailings/new/")
    page.get_by_label("Subject").fill("Ready for {{ election.date }}")
    page.get_by_label("Body").fill(
        "Dear {{ recipient.first_name }},\n\nGood luck to **{{ group.name }}**."
    )
    page.get_by_role("checkbox", name="Wales").check()
    page.get_by_label("Only councils with an election on").fill("2027-05-06")
    assert page.get_by_label("Messages per second").input_value() == ""
    # Slowly enough (about five seconds for the lot) to watch the progress bar move.
    page.get_by_label("Messages per second").fill("4")
    count = page.locator("#audience-count")
    expected = f"{len(welsh_groups)} addresses will receive this mailing."
    count.get_by_text(expected).wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Save mailing").click()
    page.wait_for_load_state()
    mailing = Mailing.objects.get()
    assert page.url.endswith(mailing.get_absolute_url())
    assert mailing.rate_limit == 4

    page.get_by_role("link", name="Preview for a recipient").click()
    first = sorted(welsh_groups, key=lambda g: g.council.short_name)[0]
    assert page.locator("#preview-subject").inner_text() == "Ready for 6 May 2027"
    assert f"Good luck to **{first.name}**." in page.locator("#preview-text").inner_text()
    frame = page.frame_locator("iframe.preview-frame")
    assert frame.locator("strong").first.inner_text() == first.name

    page.goto(mailing.get_absolute_url())
    total = len(welsh_groups)
    page.get_by_role("button", name="Send now").click()
    page.wait_for_load_state()
    # A summary first: nothing goes until the final button.
    assert page.get_by_role("heading", level=1).inner_text() == "Send this mailing now?"
    assert page.locator("#send-count").inner_text() == str(total)
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.DRAFT
    assert_accessible(page)
    page.get_by_role("button", name=f"Send to {total} addresses now").click()
    page.wait_for_load_state()
    # Straight to the live sending page, its progress at the top.
    assert page.url.endswith(f"/campaigns/mailings/{mailing.pk}/sending/")
    bar = page.locator("#mailing-progress")
    assert bar.get_attribute("max") == str(total)
    assert int(bar.get_attribute("value")) < total
    # Only the page's script can fill the bar from here: mark the page to show it was not
    # reloaded on the way.
    page.evaluate("document.documentElement.dataset.watched = 'yes'")
    # The rate (messages per second over the last few seconds) is shown and kept up to date.
    rate = page.locator("#sending-counts [data-field='rate_per_second']")
    assert rate.is_visible()
    assert float(rate.inner_text()) >= 0
    wait_for(lambda: float(rate.inner_text()) > 0, timeout=30)
    assert float(rate.inner_text()) <= 4 * 1.5
    wait_for(lambda: bar.get_attribute("value") == str(total), timeout=60)
    assert bar.get_attribute("max") == str(total)
    assert page.evaluate("document.documentElement.dataset.watched") == "yes"
    summary = page.locator("#mailing-progress-summary")
    wait_for(lambda: summary.inner_text().startswith("Sent: "), timeout=15)
    assert f"{total} of {total} messages finished" in summary.inner_text()
    assert len(sender.messages) == len(welsh_groups)
    assert {m["To"] for m in sender.messages} == {g.contact_email for g in welsh_groups}
    assert_accessible(page)


@pytest.mark.parametrize("width", [1280, 320])
def test_campaign_and_mailing_pages_are_accessible(page, staff, gb_councils, width):
    page.set_viewport_size({"width": width, "height": 900})
    campaign = CampaignFactory(body="## Why\n\n- one\n- two")
    mailing = MailingFactory(subject="Good luck in May")
    sending = MailingFactory(subject="Being sent", status=Mailing.Status.SENDING, rate_limit=2.5)
    Delivery.objects.bulk_create(
        Delivery(mailing=sending, email=f"p{n}@example.org", status=status)
        for n, status in enumerate(["sent", "failed", "suppressed", "pending"])
    )
    for url in [
        "/campaigns/",
        campaign.get_absolute_url(),
        f"/campaigns/{campaign.slug}/edit/",
        f"/campaigns/{campaign.slug}/resources/add/",
        "/campaigns/mailings/",
        "/campaigns/mailings/new/",
        mailing.get_absolute_url(),
        f"/campaigns/mailings/{mailing.pk}/edit/",
        f"/campaigns/mailings/{mailing.pk}/preview/",
        sending.get_absolute_url(),
        f"/campaigns/mailings/{sending.pk}/sending/",
    ]:
        page.goto(url)
        assert page.locator("h1").count() == 1, url
        assert_accessible(page)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, (url, scroll_width)


@pytest.mark.parametrize("width", [1280, 320])
def test_preview_search_and_choice_work_by_keyboard(page, staff, width):
    page.set_viewport_size({"width": width, "height": 900})
    for name in ("Aberdeen", "Bristol", "Cardiff"):
        CouncilGroupFactory(council=CouncilFactory(short_name=name, name=f"{name} City Council"))
    mailing = MailingFactory(subject="Hello", body="Dear {{ group.name }} in {{ council.name }}")
    page.goto(f"/campaigns/mailings/{mailing.pk}/preview/")
    assert "Aberdeen Labour Group" in page.locator("#preview-text").inner_text()
    assert_accessible(page)

    page.get_by_label("Find a recipient").focus()
    page.keyboard.type("cardiff")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Dear Cardiff Labour Group in Cardiff City Council" in (
        page.locator("#preview-text").inner_text()
    )
    assert "To stop receiving these emails:" in page.locator("#preview-text").inner_text()
    frame = page.frame_locator("iframe.preview-frame")
    assert frame.get_by_role("link", name="Unsubscribe from these emails").is_visible()

    page.get_by_label("Find a recipient").fill("")
    with page.expect_navigation():
        page.get_by_label("Find a recipient").press("Enter")
    page.get_by_label("Show it as sent to").focus()
    page.keyboard.press("ArrowDown")  # Aberdeen to Bristol
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Dear Bristol Labour Group" in page.locator("#preview-text").inner_text()

    page.get_by_label("Find a recipient").fill("nobody at all")
    with page.expect_navigation():
        page.get_by_label("Find a recipient").press("Enter")
    assert page.locator("#id_q_error").inner_text() == "No recipient matches “nobody at all”."
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_new_mailing_shows_its_audience_count_straight_away(page, staff):
    for _ in range(3):
        CouncilGroupFactory()
    page.goto("/campaigns/mailings/new/")
    count = page.locator("#audience-count")
    # Nothing chosen is not everyone: the count asks for a choice, and saving is refused.
    count.get_by_text("Nothing ticked does not mean everyone.", exact=False).wait_for()
    page.get_by_label("Subject").fill("Hello")
    page.get_by_label("Body").fill("Dear {{ recipient.first_name }}")
    page.get_by_role("button", name="Save mailing").click()
    assert page.locator("#id_regions_error").is_visible()
    assert (
        "Nothing ticked does not mean everyone." in page.locator("#id_regions_error").inner_text()
    )
    # Every region, chosen by name and with its count, is counted at once.
    page.get_by_label("Every region (all 3 Labour groups)").check()
    count.get_by_text("3 addresses will receive this mailing.").wait_for()


def test_live_count_warns_of_groups_that_get_nothing_and_folds_their_list(page, staff):
    CouncilGroupFactory(contact_email="only@example.org")
    for _ in range(2):
        CouncilGroupFactory(contact_email="")
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto("/campaigns/mailings/new/")
    count = page.locator("#audience-count")
    page.get_by_label("Every region", exact=False).check()
    count.get_by_text("1 address will receive this mailing.").wait_for()
    assert "3 groups match the rule; 2 of them have no usable address." in count.inner_text()
    assert count.locator(".notice-warning").inner_text() == (
        "2 of the 3 groups will get nothing: no address to write to, or every address suppressed."
    )
    folded = count.locator("details")
    assert folded.locator("summary").inner_text() == "The 2 groups with no usable address"
    assert not folded.locator("li").first.is_visible()
    folded.locator("summary").focus()
    page.keyboard.press("Enter")
    assert folded.locator("li").first.is_visible()
    assert_accessible(page)


@pytest.mark.parametrize("width", [1280, 320])
def test_schedule_error_unschedule_and_cancel_on_the_mailing_page(page, staff, width):
    page.set_viewport_size({"width": width, "height": 900})
    CouncilGroupFactory()
    mailing = MailingFactory(subject="Polling day")
    page.goto(mailing.get_absolute_url())
    send_at = page.get_by_role("group", name="Send at")
    send_at.get_by_label("Date").fill("1 January 2020")
    send_at.get_by_label("Time").fill("09:00")
    with page.expect_navigation():
        page.get_by_role("button", name="Schedule").click()
    assert page.locator("#id_when_error").inner_text() == "Choose a time in the future."
    for box in ("Date", "Time"):
        described_by = send_at.get_by_label(box).get_attribute("aria-describedby")
        assert described_by == "id_when_helptext id_when_error"
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    send_at.get_by_label("Date").fill("01/01/2040")
    send_at.get_by_label("Time").fill("09:00")
    with page.expect_navigation():
        page.get_by_role("button", name="Schedule").click()
    assert page.locator("#mailing-status").inner_text().startswith("Scheduled for 1 January 2040")
    assert_accessible(page)
    page.get_by_role("button", name="Unschedule (back to draft)").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#mailing-status").inner_text() == "Draft"

    send_at.get_by_label("Date").fill("01/01/2040")
    send_at.get_by_label("Time").fill("09:00")
    with page.expect_navigation():
        page.get_by_role("button", name="Schedule").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Cancel this mailing").click()
    assert page.locator("#mailing-status").inner_text() == "Cancelled"
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.CANCELLED
    assert_accessible(page)


def test_sending_page_leaves_its_sending_state_when_the_mailing_finishes(page, staff):
    mailing = MailingFactory(subject="Polling day", status=Mailing.Status.SENDING)
    Mailing.objects.filter(pk=mailing.pk).update(started_at=timezone.now())
    Delivery.objects.bulk_create(
        [Delivery(mailing=mailing, email=f"w{n}@example.org") for n in range(4)]
    )
    page.goto(f"/campaigns/mailings/{mailing.pk}/sending/")
    with page.expect_navigation():
        page.get_by_role("button", name="Pause").click()
    assert page.get_by_text("Paused. Messages being sent now will finish.").is_visible()
    assert page.get_by_role("button", name="Resume").is_visible()
    assert not page.locator("#finished-at").is_visible()
    # Another member of staff resumes it elsewhere and it finishes while this page is open.
    Delivery.objects.filter(mailing=mailing).update(status="sent")
    Mailing.objects.filter(pk=mailing.pk).update(
        status=Mailing.Status.SENT, finished_at=timezone.now()
    )
    finished_at = page.locator("#finished-at")
    wait_for(finished_at.is_visible, timeout=15)
    shown = timezone.localtime(Mailing.objects.get(pk=mailing.pk).finished_at)
    assert finished_at.inner_text() == f", finished {shown:%-d %B %Y, %H:%M}"
    assert not page.get_by_role("button", name="Resume").is_visible()
    assert not page.get_by_role("button", name="Cancel the rest").is_visible()
    assert not page.get_by_role("heading", name="Control").is_visible()
    assert page.get_by_text("Paused. Messages being sent now will finish.").count() == 0
    assert page.locator("[data-field=rate_label]").inner_text() == "Average messages per second"
    # The report made when the page opened (four waiting) is replaced by the final one.
    cells = page.locator("#report-groups tbody tr").first.locator("td")
    wait_for(lambda: cells.nth(2).inner_text() == "4", timeout=15)
    assert cells.nth(6).inner_text() == "0"
    assert_accessible(page)


def test_mailing_page_status_follows_the_mailing_as_it_finishes_while_watched(page, staff):
    mailing = MailingFactory(subject="Polling day", status=Mailing.Status.SENDING)
    Mailing.objects.filter(pk=mailing.pk).update(started_at=timezone.now())
    Delivery.objects.bulk_create(
        [Delivery(mailing=mailing, email=f"w{n}@example.org") for n in range(2)]
    )
    page.goto(mailing.get_absolute_url())
    status = page.locator("#mailing-status")
    assert status.inner_text() == "Sending"
    # The last message is recorded and the mailing finished while the page is open.
    Delivery.objects.filter(mailing=mailing).update(status="sent", sent_at=timezone.now())
    assert lifecycle.mailing_finish_if_done(mailing_id=mailing.pk) is None
    wait_for(lambda: status.inner_text() == "Sent", timeout=15)
    assert page.locator("#mailing-progress-summary").inner_text().startswith("Sent: ")
    assert_accessible(page)


def test_the_count_never_covers_a_field_and_sits_with_the_save_button(page, staff, gb_councils):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/campaigns/mailings/new/")
    page.get_by_label("Every region", exact=False).check()
    count = page.locator("#audience-count")
    wait_for(lambda: "addresses will receive" in count.inner_text(), timeout=15)
    fields = page.locator("#mailing-form input, #mailing-form select, #mailing-form textarea")
    for i in range(fields.count()):
        field = fields.nth(i)
        if not field.is_visible():
            continue
        field.scroll_into_view_if_needed()
        box, shown = field.bounding_box(), count.bounding_box()
        overlap = not (
            box["y"] + box["height"] <= shown["y"] or shown["y"] + shown["height"] <= box["y"]
            or box["x"] + box["width"] <= shown["x"] or shown["x"] + shown["width"] <= box["x"]
        )  # fmt: skip
        assert not overlap, field.get_attribute("name")
    # The count, then Update count and Save mailing right beneath it.
    save = page.get_by_role("button", name="Save mailing").bounding_box()
    shown = count.bounding_box()
    assert 0 <= save["y"] - (shown["y"] + shown["height"]) < 120
