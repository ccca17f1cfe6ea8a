"""The sending, suppression and unsubscribe pages in a real browser: live progress, keyboard
use, and axe-core at desktop and phone widths."""

import pytest
from accessibility import assert_accessible
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from browsing import log_in
from factories import PASSWORD, MailingFactory, StaffFactory, SuppressionFactory
from polling import wait_for

from campaigns.models import Delivery, Mailing, Suppression
from campaigns.unsubscribe import unsubscribe_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def staff(page):
    user = StaffFactory()
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    TOTP.activate(user, SECRET)
    log_in(page, user.email, PASSWORD, totp_secret=SECRET)
    return user


def test_progress_updates_live_and_the_page_is_accessible(page, staff):
    mailing = MailingFactory(subject="Polling day", status=Mailing.Status.SENDING)
    Delivery.objects.bulk_create(
        [Delivery(mailing=mailing, email=f"p{n}@example.org") for n in range(10)]
    )
    Delivery.objects.filter(email="p0@example.org").update(
        status="failed", last_error="550 5.1.1 <p0@example.org> unknown " + "x" * 200
    )
    page.goto(f"/campaigns/mailings/{mailing.pk}/sending/")
    sent = page.locator("[data-field=sent]")
    assert sent.inner_text() == "0"
    Delivery.objects.filter(status="pending").update(status="sent")
    wait_for(lambda: sent.inner_text() == "9", timeout=15)
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_role("button", name="Pause").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.PAUSED
    assert page.get_by_role("button", name="Resume").is_visible()


def test_suppression_list_is_accessible_and_works_by_keyboard(page, staff):
    SuppressionFactory(email="long." + "a" * 60 + "@example.org", note="Asked by phone")
    page.goto("/campaigns/suppressions/")
    page.get_by_label("Email").fill("not an address")
    with page.expect_navigation():
        page.get_by_label("Email").press("Enter")
    assert page.locator("#id_email_error").is_visible()
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_label("Email").fill("someone@example.org")
    with page.expect_navigation():
        page.get_by_label("Email").press("Enter")
    assert Suppression.objects.filter(email="someone@example.org", reason="staff").exists()


def test_unsubscribe_page_is_accessible_and_one_button_press_unsubscribes(page):
    delivery = Delivery.objects.create(mailing=MailingFactory(), email="alex@example.org")
    token = unsubscribe_token(delivery_id=delivery.pk)
    page.goto(f"/unsubscribe/{token}/")
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Unsubscribe alex@example.org").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are unsubscribed"
    assert Suppression.objects.get().email == "alex@example.org"
    assert_accessible(page)
