"""Printing letters from the sending page in a real browser: the button downloads the PDF,
the print then shows in the page's list of prints, and the page stays accessible at desktop
and phone widths."""

import datetime

import pytest
from accessibility import assert_accessible
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from browsing import log_in
from factories import (
    PASSWORD,
    CouncilFactory,
    CouncilGroupFactory,
    ElectionFactory,
    MailingFactory,
    RegionFactory,
    StaffFactory,
)

from campaigns.models import Delivery, LetterPrint
from campaigns.services.lifecycle import mailing_start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
POLLING_DAY = datetime.date(2027, 5, 6)


@pytest.fixture
def staff(page):
    user = StaffFactory()
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    TOTP.activate(user, SECRET)
    log_in(page, user.email, PASSWORD, totp_secret=SECRET)
    return user


def test_staff_print_the_letters_from_the_sending_page(page, staff):
    region = RegionFactory(name="Wales")
    for name, address in (("Torfaen", "Civic Centre\nPontypool\nNP4 6YB"), ("Ceredigion", "")):
        council = CouncilFactory(region=region, name=f"{name} Council", short_name=name)
        ElectionFactory(council=council, date=POLLING_DAY)
        CouncilGroupFactory(council=council, contact_email="", postal_address=address)
    mailing = MailingFactory(election_date=POLLING_DAY, recipients=["contact"], regions=[region])
    mailing_start(mailing_id=mailing.pk)
    page.goto(f"/campaigns/mailings/{mailing.pk}/sending/")
    counts = page.inner_text("#letters-counts")
    assert counts == "1 letter to a group with no email address: 0 printed, 1 not printed yet."
    assert page.locator("#unreachable-groups li").all_inner_texts() == [
        "Ceredigion Labour Group (Ceredigion Council)"
    ]
    with page.expect_download() as download:
        page.get_by_role("button", name="Print the letters (PDF)").click()
    assert download.value.suggested_filename == f"mailing-{mailing.pk}-letters.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert LetterPrint.objects.get().printed_by == staff
    assert Delivery.objects.get(channel="post").status == Delivery.Status.PRINTED
    page.reload()
    assert page.locator("#letter-prints tbody tr").count() == 1
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 800})
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
