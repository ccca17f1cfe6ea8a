"""Letters by post for the groups a mailing cannot email: a mailing to the groups with elections
on 6 May 2027, some of which have only a postal address, started for real (the audience
snapshot), its letters printed as staff would print them and read back from the PDF."""

import csv
import datetime
import io
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
from pypdf import PdfReader

from campaigns.letters import Letter, labels_pdf
from campaigns.models import Delivery, LetterPrint, Mailing
from campaigns.rendering import render_message, render_message_simple
from campaigns.services.lifecycle import mailing_start
from members.models import ExportLogEntry

pytestmark = pytest.mark.django_db

POLLING_DAY = datetime.date(2027, 5, 6)
BODY = (
    "Dear {{ recipient.first_name }},\n\n"
    "{{ group.name }} on {{ council.name }} faces the voters on {{ election.date }}: "
    "{{ election.seats_up }} seats are up."
)


def _group(region, name, *, email="", address="", seats=30, day=POLLING_DAY):
    council = CouncilFactory(region=region, name=f"{name} Council", short_name=name)
    ElectionFactory(council=council, date=day, seats_up=seats)
    return CouncilGroupFactory(
        council=council, name=f"{name} Labour Group", contact_email=email, postal_address=address
    )


@pytest.fixture
def mailing():
    """Seven groups: two with an email address (one also with a postal address), three with
    only a postal address (one written on one line), one whose only address is suppressed but
    has a postal address, one with neither, and one with only a postal address whose elections
    are another day (not in the audience)."""
    wales = RegionFactory(name="Wales")
    _group(wales, "Caerphilly", email="caerphilly@labour.example.org")
    _group(wales, "Newport", email="newport@labour.example.org", address="Civic Centre\nNP20 4UR")
    _group(wales, "Torfaen", address="Civic Centre\nPontypool\nNP4 6YB", seats=44)
    _group(wales, "Powys", address="County Hall, Llandrindod Wells, LD1 5LG", seats=68)
    _group(wales, "Conwy", address="Bodlondeb\nConwy\nLL32 8DU", seats=55)
    _group(wales, "Gwynedd", email="gone@labour.example.org", address="Stryd y Jel\nLL55 1SH")
    SuppressionFactory(email="gone@labour.example.org")
    _group(wales, "Ceredigion")
    _group(wales, "Monmouthshire", address="County Hall\nNP15 1GA", day=datetime.date(2028, 5, 4))
    mailing = MailingFactory(
        subject="Ready for {{ election.date }}",
        body=BODY,
        election_date=POLLING_DAY,
        recipients=["contact"],
    )
    assert mailing_start(mailing_id=mailing.pk)
    mailing.refresh_from_db()
    return mailing


EXPECTED = {
    "Conwy Labour Group": (["Bodlondeb", "Conwy", "LL32 8DU"], "Conwy Council", "55"),
    "Gwynedd Labour Group": (["Stryd y Jel", "LL55 1SH"], "Gwynedd Council", "30"),
    "Powys Labour Group": (["County Hall", "Llandrindod Wells", "LD1 5LG"], "Powys Council", "68"),
    "Torfaen Labour Group": (["Civic Centre", "Pontypool", "NP4 6YB"], "Torfaen Council", "44"),
}


def _pages(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _print(client, user, mailing):
    client.force_login(user)
    response = client.post(reverse("campaigns:mailing_letters", args=[mailing.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return response.content


def test_the_pdf_has_one_page_per_group_without_email_with_its_name_address_and_values(
    client, mailing
):
    pages = _pages(_print(client, StaffFactory(), mailing))
    assert len(pages) == len(EXPECTED)
    for page, (group, (address, council, seats)) in zip(
        pages, sorted(EXPECTED.items()), strict=True
    ):
        assert page.count(group) >= 2, page  # in the address and in the body
        assert " ".join(address) in page
        assert f"{group} on {council} faces the voters on 6 May 2027: {seats} seats are up" in page
        assert "Ready for 6 May 2027" in page
        assert "Dear colleague," in page
    everything = " ".join(pages)
    for emailed in ("Caerphilly", "Newport", "Ceredigion", "Monmouthshire"):
        assert emailed not in everything


def test_the_address_sits_in_the_window_of_a_dl_envelope(client, mailing):
    page = PdfReader(io.BytesIO(_print(client, StaffFactory(), mailing))).pages[0]
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip() == "Conwy Labour Group" and not found:
            found.append((tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]))

    page.extract_text(visitor_text=visit)
    mm = 72 / 25.4
    x, baseline = found[0]
    from_top = (float(page.mediabox.height) - baseline) / mm
    # The window: 20 mm from the left (give or take 2 mm), 45-50 mm down to 80-85 mm.
    assert 18 <= x / mm <= 24
    assert 47 <= from_top <= 60


def test_the_ledger_records_each_letter_once_and_every_print(client, mailing):
    first, second = StaffFactory(full_name="Ann Print"), StaffFactory(full_name="Bob Again")
    _print(client, first, mailing)
    printed_at = dict(Delivery.objects.filter(channel="post").values_list("group__name", "sent_at"))
    _print(client, second, mailing)
    letters = Delivery.objects.filter(mailing=mailing, channel=Delivery.Channel.POST)
    assert sorted(letters.values_list("group__name", flat=True)) == sorted(EXPECTED)
    assert set(letters.values_list("status", "printed_by")) == {(Delivery.Status.PRINTED, first.pk)}
    assert dict(letters.values_list("group__name", "sent_at")) == printed_at
    prints = list(LetterPrint.objects.filter(mailing=mailing).values_list("printed_by", "letters"))
    assert prints == [(first.pk, 4), (second.pk, 4)]
    assert ExportLogEntry.objects.filter(user=second, rows=4).count() == 1
    # The emails are untouched: one row per address, as before.
    assert sorted(mailing.deliveries.filter(channel="email").values_list("email", flat=True)) == [
        "caerphilly@labour.example.org",
        "gone@labour.example.org",
        "newport@labour.example.org",
    ]


def test_the_labels_pdf_has_each_address_once(client, mailing):
    client.force_login(StaffFactory())
    response = client.get(reverse("campaigns:mailing_labels", args=[mailing.pk]))
    assert response.status_code == 200
    pages = _pages(response.content)
    assert len(pages) == 1
    text = " ".join(pages)
    for group, (address, _council, _seats) in EXPECTED.items():
        assert text.count(group) == 1
        assert text.count(address[-1]) == 1
    # Reading the labels is not a print.
    assert not LetterPrint.objects.exists()
    assert not Delivery.objects.filter(status=Delivery.Status.PRINTED).exists()


def test_the_report_shows_letters_beside_the_emails_and_the_unreachable_groups(client, mailing):
    staff = StaffFactory(email="printer@example.org")
    _print(client, staff, mailing)
    page = client.get(reverse("campaigns:mailing_sending", args=[mailing.pk])).text
    assert "4 letters to groups with no email address: 4 printed, 0 not printed yet." in page
    unreachable = page.split('id="unreachable-groups">')[1].split("</ul>")[0]
    assert re.findall(r"<li>([^<]+)</li>", unreachable) == [
        "Ceredigion Labour Group (Ceredigion Council)"
    ]
    response = client.get(reverse("campaigns:mailing_report_csv", args=[mailing.pk]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    torfaen = next(row for row in rows if row["group"] == "Torfaen Labour Group")
    assert (torfaen["channel"], torfaen["status"], torfaen["email"]) == ("post", "printed", "")
    assert torfaen["postal_address"] == "Civic Centre\nPontypool\nNP4 6YB"
    assert torfaen["printed_by"] == "printer@example.org" and torfaen["sent_at"]
    emailed = next(row for row in rows if row["group"] == "Caerphilly Labour Group")
    assert (emailed["channel"], emailed["email"]) == ("email", "caerphilly@labour.example.org")


def test_only_those_who_may_send_are_offered_the_letters(client, mailing):
    wales = RegionFactory(name="Wales")
    Mailing.objects.filter(pk=mailing.pk).update(owner_region=wales)
    url = reverse("campaigns:mailing_sending", args=[mailing.pk])
    client.force_login(StaffFactory())
    staff_page = client.get(url).text
    assert reverse("campaigns:mailing_letters", args=[mailing.pk]) in staff_page
    assert reverse("campaigns:mailing_labels", args=[mailing.pk]) in staff_page
    rep = RepresentativeFactory(region=wales).user
    client.force_login(rep)
    rep_page = client.get(url).text
    assert "4 letters to groups with no email address" in rep_page
    assert reverse("campaigns:mailing_letters", args=[mailing.pk]) not in rep_page


def test_retention_removes_a_letters_address_with_the_emails(client, mailing):
    from campaigns.services.retention import delivery_addresses_anonymise

    _print(client, StaffFactory(), mailing)
    Mailing.objects.filter(pk=mailing.pk).update(
        status=Mailing.Status.SENT, finished_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    delivery_addresses_anonymise(days=730)
    letters = Delivery.objects.filter(mailing=mailing, channel=Delivery.Channel.POST)
    assert letters.count() == 4
    assert all(context == {} for context in letters.values_list("context", flat=True))
    assert set(letters.values_list("status", flat=True)) == {Delivery.Status.PRINTED}


def test_labels_fill_sheets_of_21_one_label_per_address():
    letters = [
        Letter(
            delivery_id=n,
            group=f"Group {n:02d}",
            council="",
            region="",
            address=[f"Group {n:02d}", "Civic Centre", f"AB{n:02d} 1CD"],
            context={},
        )
        for n in range(43)
    ]
    pages = _pages(labels_pdf(letters=letters))
    assert len(pages) == 3
    assert [len(re.findall(r"Group \d\d", page)) for page in pages] == [21, 21, 1]
    text = " ".join(pages)
    assert all(text.count(f"AB{n:02d} 1CD") == 1 for n in range(43))


def test_a_letter_is_the_mailings_own_message_with_values_shown_literally():
    rendered = render_message(
        subject="News for {{ group.name }}",
        body="**Dear** {{ recipient.first_name }}, see [the pack](https://x.example/).",
        context={"recipient": {"first_name": "<b>Sam</b> & co"}, "group": {"name": "G"}},
    )
    assert rendered.content == (
        "<p><strong>Dear</strong> &lt;b&gt;Sam&lt;/b&gt; &amp; co, see "
        '<a href="https://x.example/" rel="noopener noreferrer">the pack</a>.</p>'
    )
    assert "Unsubscribe" not in rendered.content and "Unsubscribe" not in rendered.html
    simple = render_message_simple(
        subject="News for {{ group.name }}",
        body="**Dear** {{ recipient.first_name }}, see [the pack](https://x.example/).",
        context={"recipient": {"first_name": "<b>Sam</b> & co"}, "group": {"name": "G"}},
    )
    assert simple.content == rendered.content
