"""Attacks on the records that must last: taking personal data away unrecorded, tidying away
the record of a download, and deleting the record of an erasure."""

import datetime

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    ErasureRequestFactory,
    MailingFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
)

from campaigns.models import Delivery
from members.models import ErasureRequest, ExportLogEntry
from members.services.exports import export_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def region():
    region = RegionFactory(name="Testshire")
    council = CouncilFactory(region=region)
    CouncillorFactory.create_batch(3, council=council)
    CouncilGroupFactory(council=council)
    return region


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _downloads(region):
    """Each personal-data download: (who downloads it, its URL, kind, rows it holds)."""
    rep = RepresentativeFactory(region=region).user
    staff = StaffFactory()
    councillor = CouncillorFactory(council=region.councils.first())
    mailing = MailingFactory(status="sent")
    for n in range(4):
        Delivery.objects.create(mailing=mailing, email=f"g{n}@example.org", status="sent")
    return [
        (rep, reverse("export_councillors", args=[region.slug]), "region_councillors", 4),
        (rep, reverse("export_groups", args=[region.slug]), "region_groups", 1),
        (staff, reverse("campaigns:mailing_report_csv", args=[mailing.pk]), "mailing_report", 4),
        (councillor.user, reverse("my_data_json"), "own_data_json", None),
        (councillor.user, reverse("my_data_csv"), "own_data_csv", None),
    ]


@pytest.mark.parametrize("which", range(5))
def test_every_personal_data_download_writes_exactly_one_log_entry(region, which):
    user, url, kind, rows = _downloads(region)[which]
    before = timezone.now()
    response = _as(user).get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body
    [entry] = ExportLogEntry.objects.all()
    assert (entry.user, entry.kind) == (user, kind)
    assert entry.at >= before
    if rows is not None:
        assert entry.rows == rows
    else:
        assert entry.rows > 0


def test_a_download_is_logged_each_time(region):
    user, url, _kind, _rows = _downloads(region)[0]
    client = _as(user)
    client.get(url)
    client.get(url)
    assert ExportLogEntry.objects.count() == 2


@pytest.fixture
def entry():
    return export_record(by=UserFactory(), kind="region_councillors", subject="Testshire", rows=9)


def test_the_database_refuses_to_change_an_export_log_entry(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        ExportLogEntry.objects.filter(pk=entry.pk).update(rows=0)
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.subject = "Nothing to see"
        entry.save()
    entry.refresh_from_db()
    assert (entry.rows, entry.subject) == (9, "Testshire")


def test_the_database_refuses_to_delete_an_export_log_entry(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        ExportLogEntry.objects.filter(pk=entry.pk).delete()
    assert ExportLogEntry.objects.filter(pk=entry.pk).exists()


def test_not_even_a_superuser_can_change_or_delete_the_log_in_the_admin(entry):
    boss = _as(StaffFactory(is_superuser=True))
    assert boss.get(reverse("admin:members_exportlogentry_changelist")).status_code == 200
    change = reverse("admin:members_exportlogentry_change", args=[entry.pk])
    assert boss.post(change, {"rows": 0, "subject": "x"}).status_code == 403
    delete = reverse("admin:members_exportlogentry_delete", args=[entry.pk])
    assert boss.post(delete, {"post": "yes"}).status_code == 403
    bulk = reverse("admin:members_exportlogentry_changelist")
    boss.post(bulk, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    entry.refresh_from_db()
    assert entry.rows == 9


def test_the_national_office_reads_the_log_filtered_by_person_and_date():
    alice = UserFactory(full_name="Alice Exporter", email="alice@example.org")
    bob = UserFactory(full_name="Bob Other", email="bob@example.org")
    export_record(by=alice, kind="region_groups", subject="Old one", rows=1)
    ExportLogEntry.objects.create(
        user=alice,
        kind="region_groups",
        subject="Last year",
        rows=2,
        at=timezone.now() - datetime.timedelta(days=400),
    )
    export_record(by=bob, kind="mailing_report", subject="Bob's", rows=3)
    staff = _as(StaffFactory())
    page = staff.get(reverse("export_log"), {"person": "alice"}).text
    assert "Old one" in page and "Last year" in page and "Bob&#x27;s" not in page
    since = (timezone.localdate() - datetime.timedelta(days=30)).strftime("%d/%m/%Y")
    page = staff.get(reverse("export_log"), {"person": "Exporter", "since": since}).text
    assert "Old one" in page and "Last year" not in page


@pytest.mark.parametrize("who", ["councillor", "representative", "anonymous"])
def test_only_the_national_office_reads_the_log(entry, region, who):
    client = Client()
    if who == "councillor":
        client.force_login(CouncillorFactory().user)
    elif who == "representative":
        client.force_login(RepresentativeFactory(region=region).user)
    response = client.get(reverse("export_log"))
    assert response.status_code in (302, 403)
    # The representative's menu names their own region, Testshire: the entry itself, its
    # subject in the log's table, is what must not show.
    assert "<td>Testshire" not in response.text
    assert ">9<" not in response.text


def test_nobody_can_delete_an_erasure_request():
    erasure = ErasureRequestFactory()
    boss = _as(StaffFactory(is_superuser=True))
    delete = reverse("admin:members_erasurerequest_delete", args=[erasure.pk])
    assert boss.post(delete, {"post": "yes"}).status_code == 403
    bulk = reverse("admin:members_erasurerequest_changelist")
    boss.post(bulk, {"action": "delete_selected", "_selected_action": [erasure.pk], "post": "yes"})
    with pytest.raises(DatabaseError), transaction.atomic():
        ErasureRequest.objects.filter(pk=erasure.pk).delete()
    assert ErasureRequest.objects.filter(pk=erasure.pk).exists()
