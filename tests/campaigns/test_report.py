"""The final report of a mailing: per group, what became of each address, the groups with no
address to write to, the suppressed and cancelled addresses, and a CSV of it all."""

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    MailingFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    SuppressionFactory,
    UserFactory,
)

from campaigns.models import Delivery, Mailing
from campaigns.services import lifecycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def wales():
    return RegionFactory(name="Wales")


@pytest.fixture
def started(wales):
    """A Welsh mailing started to three groups: Cardiff (two addresses, one of them now sent,
    one failed), Swansea (its only address suppressed) and Newport (no address at all)."""
    cardiff = CouncilGroupFactory(
        council=CouncilFactory(region=wales, name="Cardiff Council", short_name="Cardiff"),
        name="Cardiff Labour Group",
        contact_email="cardiff@labour.example.org",
    )
    CouncilGroupFactory(
        council=CouncilFactory(region=wales, name="Swansea Council", short_name="Swansea"),
        name="Swansea Labour Group",
        contact_email="swansea@labour.example.org",
    )
    CouncilGroupFactory(
        council=CouncilFactory(region=wales, name="Newport Council", short_name="Newport"),
        name="Newport Labour Group",
        contact_email="",
    )
    SuppressionFactory(email="swansea@labour.example.org")
    mailing = MailingFactory(regions=[wales], owner_region=wales, recipients=["contact"])
    mailing.approved_by = StaffFactory()
    mailing.save()
    # A second address for Cardiff, written to directly rather than through the rule.
    assert lifecycle.mailing_start(mailing_id=mailing.pk)
    Delivery.objects.create(
        mailing=mailing, email="leader@cardiff.example.org", group=cardiff, status="failed"
    )
    Delivery.objects.filter(mailing=mailing, email="cardiff@labour.example.org").update(
        status="sent", sent_at=timezone.now(), attempts=1
    )
    return mailing


def report_page(client, mailing, **params):
    return client.get(reverse("campaigns:mailing_sending", args=[mailing.pk]), params)


def rows_of(html: str, table_id: str) -> list[list[str]]:
    """The table's body rows as lists of cell texts (tags stripped)."""
    table = html.split(f'id="{table_id}"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)
        ]
        for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_starting_records_each_address_group_and_the_groups_without_address(started):
    by_email = dict(Delivery.objects.filter(mailing=started).values_list("email", "group__name"))
    assert by_email["cardiff@labour.example.org"] == "Cardiff Labour Group"
    assert by_email["swansea@labour.example.org"] == "Swansea Labour Group"
    started.refresh_from_db()
    assert sorted(g["name"] for g in started.groups_without_address) == [
        "Newport Labour Group",
        "Swansea Labour Group",
    ]
    assert {g["region"] for g in started.groups_without_address} == {"Wales"}


def test_report_shows_every_group_with_its_counts(client, started):
    client.force_login(StaffFactory())
    html = report_page(client, started).text
    assert rows_of(html, "report-groups") == [
        ["Wales", "Cardiff Council", "Cardiff Labour Group", "1", "1", "0", "0", "0", "—"],
        ["Wales", "Swansea Council", "Swansea Labour Group", "0", "0", "1", "0", "0", "—"],
    ]
    assert rows_of(html, "report-no-address") == [
        ["Wales", "Newport Council", "Newport Labour Group"],
        ["Wales", "Swansea Council", "Swansea Labour Group"],
    ]


def test_report_folds_the_groups_without_address_under_a_summary_with_their_count(client, started):
    client.force_login(StaffFactory())
    html = report_page(client, started).text
    folded = html.split('<details class="report-details" id="no-address-details">')[1]
    summary, rest = folded.split("</summary>", 1)
    assert summary.strip().endswith("2 groups with no address to write to")
    assert 'id="report-no-address"' in rest.split("</details>")[0]


def test_report_lists_suppressed_and_cancelled_addresses_as_well_as_failed(client, started):
    lifecycle.mailing_cancel(mailing_id=started.pk)
    Delivery.objects.create(mailing=started, email="late@example.org", status="cancelled")
    client.force_login(StaffFactory())
    html = report_page(client, started).text
    assert [r[0] for r in rows_of(html, "failed-table")] == ["leader@cardiff.example.org"]
    assert [r[0] for r in rows_of(html, "suppressed-table")] == ["swansea@labour.example.org"]
    assert [r[0] for r in rows_of(html, "cancelled-table")] == ["late@example.org"]


def test_suppressed_addresses_past_the_first_page_can_be_seen(client):
    mailing = MailingFactory(status=Mailing.Status.SENT)
    Delivery.objects.bulk_create(
        Delivery(mailing=mailing, email=f"s{n:04d}@example.org", status="suppressed")
        for n in range(250)
    )
    client.force_login(StaffFactory())
    html = report_page(client, mailing, suppressed_page=2).text
    assert "201 to 250 of 250" in html
    assert "s0249@example.org" in html and "s0100@example.org" not in html


def read_csv(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_report_has_one_row_per_address_with_its_group(client, started):
    client.force_login(StaffFactory())
    rows = read_csv(client.get(reverse("campaigns:mailing_report_csv", args=[started.pk])))
    assert [(r["council"], r["group"], r["email"], r["status"]) for r in rows] == [
        ("Cardiff Council", "Cardiff Labour Group", "cardiff@labour.example.org", "sent"),
        ("Cardiff Council", "Cardiff Labour Group", "leader@cardiff.example.org", "failed"),
        ("Swansea Council", "Swansea Labour Group", "swansea@labour.example.org", "suppressed"),
    ]
    assert list(rows[0]) == [
        "region",
        "council",
        "group",
        "email",
        "status",
        "sent_at",
        "attempts",
        "last_error",
        "channel",
        "postal_address",
        "printed_by",
    ]
    assert rows[0]["region"] == "Wales" and rows[0]["attempts"] == "1" and rows[0]["sent_at"]


def test_csv_cells_never_start_a_formula(client):
    mailing = MailingFactory(status=Mailing.Status.SENT)
    Delivery.objects.create(
        mailing=mailing, email="x@example.org", status="failed", last_error="=HYPERLINK(1)"
    )
    client.force_login(StaffFactory())
    [row] = read_csv(client.get(reverse("campaigns:mailing_report_csv", args=[mailing.pk])))
    assert row["last_error"] == "'=HYPERLINK(1)"


def test_region_rep_downloads_their_mailings_report(client, started, wales):
    client.force_login(RepresentativeFactory(region=wales).user)
    response = client.get(reverse("campaigns:mailing_report_csv", args=[started.pk]))
    assert len(read_csv(response)) == 3


@pytest.mark.parametrize("who", ["other_rep", "councillor"])
def test_others_cannot_know_the_report_exists(client, started, who):
    user = RepresentativeFactory().user if who == "other_rep" else UserFactory()
    client.force_login(user)
    assert client.get(reverse("campaigns:mailing_report_csv", args=[started.pk])).status_code == 404
    assert report_page(client, started).status_code == 404


@pytest.mark.parametrize("count", [20, 2000])
def test_report_makes_a_fixed_number_of_queries(client, count, django_assert_max_num_queries):
    region = RegionFactory()
    groups = [CouncilGroupFactory(council=CouncilFactory(region=region)) for _ in range(4)]
    mailing = MailingFactory(status=Mailing.Status.SENT)
    statuses = ["sent", "failed", "suppressed", "cancelled"]
    Delivery.objects.bulk_create(
        Delivery(
            mailing=mailing,
            email=f"a{n:05d}@example.org",
            group=groups[n % 4],
            status=statuses[n % 4],
            last_error="550 no",
        )
        for n in range(count)
    )
    Mailing.objects.filter(pk=mailing.pk).update(
        groups_without_address=[{"id": 1, "name": "G", "council": "C", "region": "R"}] * 50
    )
    client.force_login(StaffFactory())
    with django_assert_max_num_queries(20):
        html = report_page(client, mailing).text
    assert len(rows_of(html, "report-groups")) == 4
    assert html.count('class="sending-email"') == 3 * min(count // 4, 200)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("campaigns:mailing_report_csv", args=[mailing.pk]))
        assert len(read_csv(response)) == count
