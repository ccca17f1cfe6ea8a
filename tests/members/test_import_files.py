"""CSV imports of councillors from files as spreadsheets really save them, a preview a person
can read, and background imports that survive failures: a broker that is down, a write that
fails half-way, a job lost with its worker."""

import datetime
import os
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from accessibility import assert_accessible
from browsing import log_in
from celery import Celery
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from factories import (
    PASSWORD,
    CouncilFactory,
    CouncillorFactory,
    RegionFactory,
    RepresentativeFactory,
)
from polling import wait_for
from workers import current_database_url, free_port, worker_start, worker_stop

from alc_portal.celery import app as celery_app
from alc_portal.mailcatcher import SmtpCatcher
from members import imports
from members.models import Councillor, CouncillorImport, JoinRequest, User
from members.services import councillor_imports, invitations
from members.tasks import notices_sweep

pytestmark = pytest.mark.django_db

HEADER = "full_name,email,council,ward,phone\n"


@pytest.fixture
def rep_client(client, region_x):
    client.force_login(RepresentativeFactory(region=region_x).user)
    return client


def upload(client, raw: bytes, *, name="councillors.csv"):
    return client.post(
        reverse("import_upload", args=["region-x"]),
        {"file": SimpleUploadedFile(name, raw, content_type="text/csv")},
    )


def latest_import():
    return CouncillorImport.objects.latest("uploaded_at")


# Files as spreadsheets save them


def test_a_semicolon_separated_file_is_read(rep_client, council_x):
    raw = (
        b"full_name;email;council;ward;phone\n"
        b"Ada Lovelace;ada@example.org;E0600001;North, Upper Ward;\n"
        b"Mary Seacole;mary@example.org;Oakfield;South Ward;\n"
    )
    response = upload(rep_client, raw)
    assert response.status_code == 302
    rows = latest_import().report["rows"]
    assert [(row["action"], row["full_name"], row["ward"]) for row in rows] == [
        ("create", "Ada Lovelace", "North, Upper Ward"),
        ("create", "Mary Seacole", "South Ward"),
    ]


def test_excel_unicode_text_is_read_as_utf16_with_tabs(rep_client, council_x):
    text = (
        "Full name\tEmail address\tCouncil\tWard\n"
        "Siân Llŷr\tsian@example.org\tE0600001\tŴyddgrug\n"
        "Zoë Brontë\tzoe@example.org\tE0600001\tSaint Hélier\n"
    )
    raw = text.encode("utf-16")  # with a byte-order mark, as Excel writes it
    assert raw.startswith(b"\xff\xfe")
    upload(rep_client, raw, name="councillors.txt")
    imp = latest_import()
    assert [row["full_name"] for row in imp.report["rows"]] == ["Siân Llŷr", "Zoë Brontë"]
    assert imp.report["counts"]["create"] == 2
    assert imp.report["warnings"] == []


def test_big_endian_utf16_is_read(rep_client, council_x):
    raw = "\ufeff".encode("utf-16-be") + (HEADER + "Ada,ada@example.org,E0600001,W,\n").encode(
        "utf-16-be"
    )
    upload(rep_client, raw)
    assert latest_import().report["counts"]["create"] == 1


@pytest.mark.parametrize(
    "header",
    [
        "Name,Email address,Council name,Ward/division",
        "FULL NAME,E-mail,council,Ward or division",
        " full_name , EMAIL , Council , ward ",
        "Councillor name,E-Mail Address,Local authority,Division",
        "Full Name,Email,Council,Ward,Telephone",
    ],
)
def test_header_names_are_matched_ignoring_case_spaces_and_punctuation(
    rep_client, council_x, header
):
    raw = f"{header}\nAda Lovelace,ada@example.org,E0600001,North Ward\n".encode()
    response = upload(rep_client, raw)
    assert response.status_code == 302, response.text
    row = latest_import().report["rows"][0]
    assert (row["action"], row["full_name"], row["email"], row["council"], row["ward"]) == (
        "create",
        "Ada Lovelace",
        "ada@example.org",
        "Oakfield Borough Council",
        "North Ward",
    )


def test_a_header_naming_the_same_column_twice_is_refused(rep_client, council_x):
    response = upload(rep_client, b"Name,Full name,Email,Council,Ward\nA,B,a@example.org,X,W\n")
    assert response.status_code == 200
    assert "These columns appear more than once: full_name." in response.text
    assert not CouncillorImport.objects.exists()


def test_trailing_blank_fields_are_not_an_error_but_extra_values_are(rep_client, council_x):
    raw = (
        b"full_name,email,council,ward,,\n"
        b"Ada Lovelace,ada@example.org,E0600001,North Ward,,\n"
        b"Mary Seacole,mary@example.org,E0600001,South Ward,, ,,,\n"
        b"Extra Value,extra@example.org,E0600001,Ward,,,surprise\n"
    )
    upload(rep_client, raw)
    rows = latest_import().report["rows"]
    assert [row["action"] for row in rows] == ["create", "create", "error"]
    assert rows[2]["errors"] == ["The row has more fields than the header line."]


def test_a_windows_1252_file_warns_to_check_accented_names(rep_client, council_x):
    raw = (HEADER + "Zoë Brontë,zoe@example.org,E0600001,Saint Hélier,\n").encode("cp1252")
    response = upload(rep_client, raw)
    imp = latest_import()
    assert imp.report["rows"][0]["full_name"] == "Zoë Brontë"
    page = rep_client.get(response.url).text
    assert "Check that names with accents" in page
    assert 'class="message message-warning"' in page


def test_a_utf8_file_has_no_encoding_warning(rep_client, council_x):
    response = upload(rep_client, (HEADER + "Zoë Brontë,zoe@example.org,E0600001,W,\n").encode())
    assert "Check that names with accents" not in rep_client.get(response.url).text


def test_a_semicolon_inside_a_quoted_comma_separated_header_does_not_decide_the_separator():
    rows = imports.read_rows('full_name,email,council,"Ward; or division"\nA,a@b.org,C,W\n')
    assert (rows[0]["email"], rows[0]["ward"]) == ("a@b.org", "W")


# A preview a person can read


def test_preview_names_changed_fields_in_plain_words(rep_client, council_x):
    CouncillorFactory(
        council=council_x, user__email="ada@example.org", user__full_name="Ada King", ward="Old"
    )
    response = upload(
        rep_client, (HEADER + "Ada Lovelace,ada@example.org,E0600001,New,\n").encode()
    )
    page = rep_client.get(response.url).text
    assert "<li>Name: “Ada King” → “Ada Lovelace”</li>" in page
    assert "<li>Ward: “Old” → “New”</li>" in page
    assert "full_name:" not in page


def test_preview_says_plainly_that_a_former_councillor_is_reinstated(rep_client, council_x):
    CouncillorFactory(
        council=council_x,
        user__email="ada@example.org",
        user__full_name="Ada Lovelace",
        ward="North Ward",
        left_on=datetime.date(2024, 5, 2),
    )
    response = upload(
        rep_client, (HEADER + "Ada Lovelace,ada@example.org,E0600001,North Ward,\n").encode()
    )
    page = rep_client.get(response.url).text
    assert "Reinstated as a serving councillor (had left on 2 May 2024)" in page
    assert "left_on" not in page
    assert "2024-05-02" not in page


# Failures a person can recover from


@pytest.fixture
def broker_unreachable():
    """Point the project's Celery app at a port where no broker listens, as when Redis is down."""
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield
    celery_app.conf.broker_url = saved
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _big_file(gss: str, count: int = 1_200, *, prefix: str = "person") -> bytes:
    rows = "".join(
        f"Person {n},{prefix}-{n}@example.org,{gss},Ward {n % 40}\n" for n in range(count)
    )
    return (HEADER + rows).encode()


@pytest.mark.django_db(transaction=True)
def test_an_import_that_cannot_be_queued_stays_confirmable_with_a_message(
    rep_client, council_x, broker_unreachable
):
    upload(rep_client, _big_file("E0600001"))
    imp = latest_import()

    response = rep_client.post(reverse("import_confirm", args=[imp.pk]), follow=True)

    assert response.status_code == 200
    assert "background job service is not answering" in response.text
    imp.refresh_from_db()
    assert imp.status == CouncillorImport.Status.FAILED
    assert imp.report["error"] == councillor_imports.IMPORT_NOT_STARTED
    assert imp.content  # the file is kept for the next try
    assert "Try again</button>" in response.text
    assert not Councillor.objects.exists()


def test_a_recoverable_failed_import_can_be_confirmed_again(
    rep_client, council_x, django_capture_on_commit_callbacks
):
    upload(rep_client, _big_file("E0600001"))
    imp = latest_import()
    report = {**imp.report, "error": councillor_imports.IMPORT_INTERRUPTED}
    CouncillorImport.objects.filter(pk=imp.pk).update(
        status=CouncillorImport.Status.FAILED, report=report
    )
    page = rep_client.get(reverse("import_detail", args=[imp.pk])).text
    assert "The import stopped because of a problem on the portal" in page

    with django_capture_on_commit_callbacks() as queued:
        rep_client.post(reverse("import_confirm", args=[imp.pk]))

    imp.refresh_from_db()
    assert imp.status == CouncillorImport.Status.QUEUED
    assert "error" not in imp.report
    assert len(queued) == 1


def test_an_import_that_failed_on_its_file_cannot_be_confirmed_again(rep_client, council_x):
    upload(rep_client, _big_file("E0600001"))
    imp = latest_import()
    CouncillorImport.objects.filter(pk=imp.pk).update(
        status=CouncillorImport.Status.FAILED, content=""
    )
    response = rep_client.post(reverse("import_confirm", args=[imp.pk]), follow=True)
    assert "already been confirmed" in response.text
    assert "Try again</button>" not in response.text
    imp.refresh_from_db()
    assert imp.status == CouncillorImport.Status.FAILED


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 320])
def test_a_failed_import_is_explained_and_tried_again_by_keyboard(page, width, broker_unreachable):
    page.set_viewport_size({"width": width, "height": 800})
    region = RegionFactory(name="Region X", slug="region-x")
    CouncilFactory(region=region, gss_code="E0600001")
    rep = RepresentativeFactory(region=region).user
    raw = (HEADER + "Zoë Brontë,zoe@example.org,E0600001,Saint Hélier,\n").encode("cp1252")
    warned = councillor_imports.councillor_import_preview(
        region=region, uploaded_by=rep, filename="windows.csv", raw=raw
    )
    imp = councillor_imports.councillor_import_preview(
        region=region, uploaded_by=rep, filename="big.csv", raw=_big_file("E0600001")
    )
    report = {**imp.report, "error": councillor_imports.IMPORT_INTERRUPTED}
    CouncillorImport.objects.filter(pk=imp.pk).update(
        status=CouncillorImport.Status.FAILED, report=report
    )
    log_in(page, rep.email, PASSWORD)

    page.goto(reverse("import_detail", args=[warned.pk]))
    assert page.get_by_text("Check that names with accents").is_visible()
    assert_accessible(page)

    page.goto(reverse("import_detail", args=[imp.pk]))
    assert page.get_by_role("alert").get_by_text("problem on the portal").is_visible()
    assert_accessible(page)
    button = page.get_by_role("button", name="Try again")
    button.focus()
    page.keyboard.press("Enter")
    # The broker is still down: the page says so and offers the button again.
    page.wait_for_selector("text=background job service is not answering")
    assert page.get_by_role("button", name="Try again").is_visible()
    assert_accessible(page)
    imp.refresh_from_db()
    assert imp.status == CouncillorImport.Status.FAILED
    assert imp.report["error"] == councillor_imports.IMPORT_NOT_STARTED


# Background imports in a real worker, which writes in small chunks


QUEUE_DB = 9  # a Redis database of its own, so only this module's worker takes these jobs


def _broker_url() -> str:
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{QUEUE_DB}"))


@pytest.fixture
def chunked_worker(transactional_db, django_db_blocker):
    """A worker writing imports 50 rows at a time, on its own broker and SMTP server. One per
    test, stopped before the test's data is emptied: what the test set going (an import's
    invitations, say) would otherwise still be running then, and deadlock with the emptying."""
    client = redis.Redis.from_url(_broker_url())
    client.flushdb()
    client.close()
    smtp = SmtpCatcher(host="127.0.0.1", port=0).start()
    names = ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_URL", "IMPORT_CHUNK_ROWS")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.pop("EMAIL_URL", None)
    os.environ["EMAIL_HOST"], os.environ["EMAIL_PORT"] = smtp.host, str(smtp.port)
    os.environ["IMPORT_CHUNK_ROWS"] = "50"
    try:
        with django_db_blocker.unblock():
            database_url = current_database_url()
        proc = worker_start(database_url=database_url, redis_url=_broker_url(), name="chunked")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    sender = Celery(broker=_broker_url(), set_as_current=False)
    proc.send = lambda task, *args: sender.send_task(task, args=list(args))
    proc.smtp = smtp
    yield proc
    sender.close()
    worker_stop(proc)
    smtp.stop()


def _queued_import(region, rep, raw: bytes) -> CouncillorImport:
    imp = councillor_imports.councillor_import_preview(
        region=region, uploaded_by=rep.user, filename="big.csv", raw=raw
    )
    assert not imp.report["counts"]["error"]
    CouncillorImport.objects.filter(pk=imp.pk).update(status=CouncillorImport.Status.QUEUED)
    return imp


@pytest.fixture
def big_region(transactional_db):
    region = RegionFactory(name="Region Big", slug="region-big")
    CouncilFactory(region=region, gss_code="E0800001")
    return region


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_progress_is_reported_while_a_background_import_runs(chunked_worker, big_region, client):
    rep = RepresentativeFactory(region=big_region)
    client.force_login(rep.user)
    imp = _queued_import(big_region, rep, _big_file("E0800001"))
    progress_url = reverse("import_progress", args=[imp.pk])
    seen = []

    chunked_worker.send("members.tasks.councillor_import_run", imp.pk)

    def finished():
        data = client.get(progress_url).json()
        seen.append(data["processed_rows"])
        return data["finished"]

    wait_for(finished, timeout=180, interval=0.02)
    imp.refresh_from_db()
    assert imp.status == CouncillorImport.Status.DONE
    assert Councillor.objects.filter(council__region=big_region).count() == 1_200
    part_way = [count for count in seen if 0 < count < 1_200]
    assert part_way, f"no progress seen between 0 and 1,200 rows: {sorted(set(seen))}"
    # Progress comes in steps of the worker's chunk size (50 here, not the default 500), never
    # backwards.
    assert all(count % 50 == 0 for count in part_way)
    assert any(count % 500 for count in part_way), sorted(set(part_way))
    assert part_way == sorted(part_way)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_write_failing_half_way_saves_nothing_keeps_the_file_and_can_be_retried(
    chunked_worker, big_region, client
):
    rep = RepresentativeFactory(region=big_region)
    client.force_login(rep.user)
    rows = [f"Person {n},person-{n}@example.org,E0800001,Ward {n % 40}\n" for n in range(1_200)]
    rows[700] = "Person 700,person-700@example.org,E0800001,Broken Ward\n"
    imp = _queued_import(big_region, rep, (HEADER + "".join(rows)).encode())
    users_before = User.objects.count()
    with connection.cursor() as cursor:
        # The database refuses the 701st councillor, after 700 have been written.
        cursor.execute(
            "CREATE FUNCTION test_refuse_broken_ward() RETURNS trigger AS $$ BEGIN "
            "IF NEW.ward = 'Broken Ward' THEN RAISE EXCEPTION 'disk full'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_broken_ward BEFORE INSERT ON members_councillor "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse_broken_ward()"
        )
    try:
        chunked_worker.send("members.tasks.councillor_import_run", imp.pk)

        def settled():
            imp.refresh_from_db()
            return imp.status in ("done", "failed")

        wait_for(settled, timeout=120, interval=0.2)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse_broken_ward ON members_councillor")
            cursor.execute("DROP FUNCTION test_refuse_broken_ward()")

    assert imp.status == CouncillorImport.Status.FAILED
    assert imp.report["error"] == councillor_imports.IMPORT_INTERRUPTED
    assert imp.processed_rows == 0
    assert imp.content.count("\n") == 1_201  # the file is kept
    assert not Councillor.objects.exists()
    assert User.objects.count() == users_before
    assert not JoinRequest.objects.exists()
    page = client.get(reverse("import_detail", args=[imp.pk])).text
    assert "nothing was saved" in page
    assert "The import stopped because of a problem on the portal" in page
    assert "Try again</button>" in page

    # The cause gone, the same import is confirmed again and completes.
    councillor_imports.councillor_import_confirm(councillor_import=imp)
    chunked_worker.send("members.tasks.councillor_import_run", imp.pk)

    def done():
        imp.refresh_from_db()
        return imp.status in ("done", "failed")

    wait_for(done, timeout=180, interval=0.2)
    assert imp.status == CouncillorImport.Status.DONE
    assert Councillor.objects.count() == 1_200
    assert Councillor.objects.filter(ward="Broken Ward").count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_sweep_requeues_an_import_whose_job_was_lost_but_not_one_a_worker_holds(
    chunked_worker, big_region
):
    rep = RepresentativeFactory(region=big_region)
    long_ago = (timezone.now() - datetime.timedelta(hours=1)).isoformat()
    lost = _queued_import(big_region, rep, _big_file("E0800001", 5, prefix="lost"))
    held = _queued_import(big_region, rep, _big_file("E0800001", 5, prefix="held"))
    recent = _queued_import(big_region, rep, _big_file("E0800001", 5, prefix="recent"))
    for imp, status in ((lost, "running"), (held, "running")):
        imp.refresh_from_db()
        imp.report["queued_at"] = long_ago
        CouncillorImport.objects.filter(pk=imp.pk).update(status=status, report=imp.report)
    CouncillorImport.objects.filter(pk__in=[lost.pk, held.pk, recent.pk]).update(
        uploaded_at=timezone.now() - datetime.timedelta(hours=1)
    )
    recent.refresh_from_db()
    recent.report["queued_at"] = timezone.now().isoformat()
    CouncillorImport.objects.filter(pk=recent.pk).update(report=recent.report)

    with connection.cursor() as cursor:
        # As a worker applying `held` would: it holds the import's advisory lock.
        cursor.execute(
            "SELECT pg_advisory_lock(%s)", [councillor_imports.IMPORT_LOCK_BASE + held.pk]
        )
    try:
        chunked_worker.send("members.tasks.onboarding_sweep")
        wait_for(lambda: CouncillorImport.objects.get(pk=lost.pk).status == "done", timeout=60)
        # The job the sweep queued has run, so the sweep itself has finished.
        held.refresh_from_db()
        assert held.status == CouncillorImport.Status.RUNNING
        # The worker runs jobs one at a time, in the order they were queued: once a job queued
        # now is done, any other job the sweep queued has run too, and `recent` would be done.
        marker = _queued_import(big_region, rep, _big_file("E0800001", 1, prefix="marker"))
        chunked_worker.send("members.tasks.councillor_import_run", marker.pk)
        wait_for(lambda: CouncillorImport.objects.get(pk=marker.pk).status == "done", timeout=60)
        recent.refresh_from_db()
        assert recent.status == CouncillorImport.Status.QUEUED
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s)", [councillor_imports.IMPORT_LOCK_BASE + held.pk]
            )
    emails = set(Councillor.objects.values_list("user__email", flat=True))
    assert emails == {f"lost-{n}@example.org" for n in range(5)} | {"marker-0@example.org"}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_sweep_sends_invitations_whose_job_was_lost(
    chunked_worker, big_region, django_capture_on_commit_callbacks
):
    """An invitation is a row in the outbox from the moment it is made: if the task that was to
    send it is lost, beat's sweep sends it, once."""
    council = big_region.councils.get()
    chunked_worker.smtp.clear()
    councillor = CouncillorFactory(council=council, user__email="lost@example.org")
    with django_capture_on_commit_callbacks():  # the task that would send it: never queued
        record = invitations.invitation_record_and_queue(
            councillor=councillor, user=councillor.user, by=None, reason="Invited."
        )

    chunked_worker.send("members.tasks.notices_sweep")

    messages = chunked_worker.smtp.wait_for(1, timeout=60)
    assert [m["To"] for m in messages] == ["lost@example.org"]
    wait_for(lambda: JoinRequest.objects.get(pk=record.pk).invited_at is not None, timeout=30)
    # Sent once: a second sweep, run here to its end, finds nothing left to send.
    assert notices_sweep() == 0
    assert len(chunked_worker.smtp.messages) == 1
