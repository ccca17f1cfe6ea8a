"""CSV import of councillors: preview row by row, all-or-nothing, idempotent."""

import re

import pytest
from allauth.account.models import EmailAddress
from browsing import log_in
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import (
    PASSWORD,
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    GroupOfficerFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
    profile_form_data,
)
from polling import wait_for

from members.models import Councillor, CouncillorImport, Decision, JoinRequest, User
from members.services import councillor_imports

pytestmark = pytest.mark.django_db

HEADER = "full_name,email,council,ward,phone\n"


@pytest.fixture
def council_y():
    return CouncilFactory(
        region=RegionFactory(name="Region Y", slug="region-y"),
        name="Elmbridge District Council",
        short_name="Elmbridge",
        gss_code="E0700002",
    )


@pytest.fixture
def rep_client(client, region_x):
    rep = RepresentativeFactory(region=region_x)
    client.force_login(rep.user)
    client.rep = rep.user
    return client


def upload(client, region_slug, text, *, name="councillors.csv", encoding="utf-8"):
    data = text.encode(encoding) if isinstance(text, str) else text
    return client.post(
        reverse("import_upload", args=[region_slug]),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def latest_import():
    return CouncillorImport.objects.latest("uploaded_at")


def rows_by_line(councillor_import):
    return {row["line"]: row for row in councillor_import.report["rows"]}


GOOD_ROWS = (
    "Ada Lovelace,ada@example.org,E0600001,North Ward,020 7946 0000\n"
    "Mary Seacole,MARY@example.org,oakfield borough council,South Ward,\n"
)


# A file with both good rows and every kind of bad row. Line numbers count the header as 1.
LONG_NAME = "N" * 151
BAD_ROWS = (
    "Nobody Known,unknown@example.org,Nowhere Council,Ward,\n"  # line 4
    "Out Side,outside@example.org,E0700002,Ward,\n"  # 5: council in another region
    "Bad Email,not-an-email,E0600001,Ward,\n"  # 6
    "Ada Again,ada@example.org,E0600001,Ward,\n"  # 7: duplicate email in the file
    ",noname@example.org,E0600001,Ward,\n"  # 8: missing name
    f"{LONG_NAME},long@example.org,E0600001,Ward,\n"  # 9: overlong
    "Bad Phone,phone@example.org,E0600001,Ward,call me maybe\n"  # 10
    "<script>alert(1)</script>,script@example.org,E0600001,Ward,\n"  # 11
)
MIXED_FILE = HEADER + GOOD_ROWS + BAD_ROWS

# The same file after the representative has corrected it: some bad rows fixed, the others
# (people who are not theirs to import, or not real) taken out.
FIXES = {
    "Bad Email,not-an-email,": "Bad Email,bad.email@example.org,",
    ",noname@example.org,": "Noor Name,noname@example.org,",
    "Ward,call me maybe": "Ward,020 7946 0999",
}
REMOVED = ("Nobody Known", "Out Side", "Ada Again", LONG_NAME, "<script>")


def _fixed_file() -> str:
    text = MIXED_FILE
    for bad, good in FIXES.items():
        assert bad in text
        text = text.replace(bad, good)
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith(REMOVED))


def test_preview_reports_every_bad_row_and_writes_nothing(rep_client, council_x, council_y):
    users_before = User.objects.count()

    response = upload(rep_client, "region-x", MIXED_FILE)

    imp = latest_import()
    assert response.status_code == 302
    assert response.url == reverse("import_detail", args=[imp.pk])
    rows = rows_by_line(imp)
    assert rows[2]["action"] == rows[3]["action"] == "create"
    assert "No council called 'Nowhere Council'" in rows[4]["errors"][0]
    assert "is in Region Y, not Region X" in rows[5]["errors"][0]
    assert "valid email" in rows[6]["errors"][0]
    assert "also on line 2" in rows[7]["errors"][0]
    assert "full name" in rows[8]["errors"][0]
    assert "too long" in rows[9]["errors"][0]
    assert "phone number" in rows[10]["errors"][0]
    assert "cannot contain" in rows[11]["errors"][0]
    assert imp.report["counts"] == {"create": 2, "update": 0, "unchanged": 0, "error": 8}

    page = rep_client.get(response.url)
    assert "8 rows with errors" in page.text
    assert "Nothing can be imported" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text

    refused = rep_client.post(reverse("import_confirm", args=[imp.pk]), follow=True)
    assert "The file has errors" in refused.text
    assert User.objects.count() == users_before
    assert not Councillor.objects.exists()
    imp.refresh_from_db()
    assert imp.status == CouncillorImport.Status.PREVIEWED


def test_the_corrected_file_imports_exactly_the_good_rows(rep_client, council_x, council_y):
    upload(rep_client, "region-x", MIXED_FILE)
    rep_client.post(reverse("import_confirm", args=[latest_import().pk]))
    users_before = set(User.objects.values_list("email", flat=True))

    upload(rep_client, "region-x", _fixed_file())
    imp = latest_import()
    assert imp.report["counts"] == {"create": 5, "update": 0, "unchanged": 0, "error": 0}
    response = rep_client.post(reverse("import_confirm", args=[imp.pk]), follow=True)

    assert "The import is complete" in response.text
    imp.refresh_from_db()
    assert imp.status == CouncillorImport.Status.DONE
    assert imp.processed_rows == imp.total_rows == 5
    people = {
        c.user.email: (c.user.full_name, c.council_id, c.ward, c.phone)
        for c in Councillor.objects.select_related("user")
    }
    assert people == {
        "ada@example.org": ("Ada Lovelace", council_x.pk, "North Ward", "020 7946 0000"),
        "mary@example.org": ("Mary Seacole", council_x.pk, "South Ward", ""),
        "bad.email@example.org": ("Bad Email", council_x.pk, "Ward", ""),
        "noname@example.org": ("Noor Name", council_x.pk, "Ward", ""),
        "phone@example.org": ("Bad Phone", council_x.pk, "Ward", "020 7946 0999"),
    }
    assert set(User.objects.values_list("email", flat=True)) - users_before == set(people)
    ada = User.objects.get(email="ada@example.org")
    assert not ada.has_usable_password()
    assert ada.history.count() == 1


def test_importing_the_same_file_twice_changes_nothing_the_second_time(rep_client, council_x):
    upload(rep_client, "region-x", HEADER + GOOD_ROWS)
    rep_client.post(reverse("import_confirm", args=[latest_import().pk]))
    snapshot = list(Councillor.objects.values().order_by("pk"))
    history = Councillor.history.count()

    upload(rep_client, "region-x", HEADER + GOOD_ROWS)
    second = latest_import()
    assert second.report["counts"] == {"create": 0, "update": 0, "unchanged": 2, "error": 0}
    rep_client.post(reverse("import_confirm", args=[second.pk]))

    assert list(Councillor.objects.values().order_by("pk")) == snapshot
    assert Councillor.history.count() == history
    assert User.objects.filter(email__in=["ada@example.org", "mary@example.org"]).count() == 2


def test_preview_shows_which_fields_of_an_existing_councillor_change(rep_client, council_x):
    existing = CouncillorFactory(
        council=council_x, ward="Old Ward", user__email="ada@example.org", user__full_name="Ada L"
    )
    upload(rep_client, "region-x", HEADER + "Ada Lovelace,ada@example.org,E0600001,Old Ward,\n")
    row = latest_import().report["rows"][0]
    assert row["action"] == "update"
    assert row["changes"] == {"full_name": ["Ada L", "Ada Lovelace"]}

    rep_client.post(reverse("import_confirm", args=[latest_import().pk]))
    existing.user.refresh_from_db()
    assert existing.user.full_name == "Ada Lovelace"


def test_an_import_moving_a_councillor_to_another_council_ends_their_old_group_offices(
    rep_client, council_x, region_x
):
    old_council = CouncilFactory(region=region_x, gss_code="E0600009")
    moving = CouncillorFactory(council=old_council, ward="Ward", user__email="ada@example.org")
    staying = CouncillorFactory(council=council_x, ward="Ward", user__email="mary@example.org")
    leader = GroupOfficerFactory(
        group=CouncilGroupFactory(council=old_council), role="leader", user=moving.user
    )
    whip = GroupOfficerFactory(
        group=CouncilGroupFactory(council=council_x), role="chief_whip", user=staying.user
    )
    upload(
        rep_client,
        "region-x",
        HEADER
        + f"{moving.user.full_name},ada@example.org,E0600001,Ward,\n"
        + f"{staying.user.full_name},mary@example.org,E0600001,New Ward,\n",
    )
    assert "council" in latest_import().report["rows"][0]["changes"]

    rep_client.post(reverse("import_confirm", args=[latest_import().pk]))

    moving.refresh_from_db()
    assert moving.council == council_x
    leader.refresh_from_db()
    assert leader.end_date == timezone.localdate()
    latest = leader.history.first()
    assert latest.history_change_reason == (
        "Term ended: moved to another council (Import of councillors.csv)"
    )
    assert latest.history_user == rep_client.rep
    # A councillor whose council did not change keeps their office.
    whip.refresh_from_db()
    assert whip.end_date is None


def test_councillor_of_another_region_cannot_be_changed_by_import(rep_client, council_x, council_y):
    CouncillorFactory(council=council_y, user__email="ada@example.org")
    upload(rep_client, "region-x", HEADER + "Ada Lovelace,ada@example.org,E0600001,Ward,\n")
    row = latest_import().report["rows"][0]
    assert row["action"] == "error"
    assert "another region" in row["errors"][0]


def _everything():
    return (
        list(User.objects.values().order_by("pk")),
        list(Councillor.objects.values().order_by("pk")),
        list(JoinRequest.objects.values().order_by("pk")),
        User.history.count(),
    )


def test_a_row_with_a_staff_members_email_is_an_error_and_nothing_is_written(rep_client, council_x):
    staff = StaffFactory(email="director@alc.example.org")
    before = _everything()

    upload(
        rep_client,
        "region-x",
        HEADER
        + "Ada Lovelace,ada@example.org,E0600001,North Ward,\n"
        + "Taken Over,Director@ALC.example.org,E0600001,Ward,\n",
    )
    imp = latest_import()
    row = rows_by_line(imp)[3]
    assert row["action"] == "error"
    assert "already exists but has no councillor profile" in row["errors"][0]
    assert imp.report["counts"] == {"create": 1, "update": 0, "unchanged": 0, "error": 1}
    page = rep_client.get(reverse("import_detail", args=[imp.pk])).text
    assert "already exists but has no councillor profile" in page

    refused = rep_client.post(reverse("import_confirm", args=[imp.pk]), follow=True)
    assert "The file has errors" in refused.text
    assert _everything() == before
    assert not Councillor.objects.filter(user=staff).exists()


def test_an_account_that_appears_between_preview_and_confirm_is_not_taken_over(
    rep_client, council_x
):
    upload(rep_client, "region-x", HEADER + "Ann Other,ann@example.org,E0600001,Ward,\n")
    imp = latest_import()
    assert imp.report["counts"]["create"] == 1
    UserFactory(email="ann@example.org")
    before = _everything()

    response = rep_client.post(reverse("import_confirm", args=[imp.pk]), follow=True)

    assert "now has errors" in response.text
    assert _everything() == before


def test_a_row_with_another_accounts_second_address_is_an_error(rep_client, council_x):
    member = CouncillorFactory(council=council_x, user__email="ada@example.org")
    EmailAddress.objects.create(user=member.user, email="ada.home@example.org", verified=True)
    upload(rep_client, "region-x", HEADER + "Ada Home,ADA.HOME@example.org,E0600001,Ward,\n")
    row = latest_import().report["rows"][0]
    assert row["action"] == "error"
    assert "extra address on someone else's account" in row["errors"][0]


def test_a_row_with_a_seven_digit_phone_number_is_an_error(rep_client, council_x):
    upload(rep_client, "region-x", HEADER + "Ada Lovelace,ada@example.org,E0600001,W,946 0000\n")
    row = latest_import().report["rows"][0]
    assert row["action"] == "error"
    assert "10 to 15 digits" in row["errors"][0]


def test_an_old_phone_number_already_held_imports_unchanged(rep_client, council_x):
    """A number saved under older rules, exported and imported again, is not an error."""
    CouncillorFactory(
        council=council_x, user__email="ada@example.org", user__full_name="Ada", ward="W",
        phone="946 0000",
    )  # fmt: skip
    upload(rep_client, "region-x", HEADER + "Ada,ada@example.org,E0600001,W,946 0000\n")
    assert latest_import().report["rows"][0]["action"] == "unchanged"
    upload(rep_client, "region-x", HEADER + "Ada,ada@example.org,E0600001,W,946 0001\n")
    assert latest_import().report["rows"][0]["action"] == "error"


def test_windows_1252_file_with_bom_less_header_is_read(rep_client, council_x):
    text = HEADER + "Zoë Brontë,zoe@example.org,E0600001,Saint Hélier,\n"
    upload(rep_client, "region-x", text, encoding="cp1252")
    row = latest_import().report["rows"][0]
    assert row["action"] == "create"
    assert row["full_name"] == "Zoë Brontë"


def test_utf8_file_with_bom_is_read(rep_client, council_x):
    upload(rep_client, "region-x", "\ufeff" + HEADER + GOOD_ROWS, encoding="utf-8")
    assert latest_import().report["counts"]["create"] == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"name,mail\nA,b@example.org\n", "Missing: email, council, ward"),
        (b"nom,courriel\nA,b@example.org\n", "Missing: full_name, email, council, ward"),
        (HEADER.encode(), "no councillors"),
        (b"\x00\x01\x02binary", "not a CSV file"),
        (HEADER.encode() + b'"Unclosed,a@example.org,E0600001,Ward,\n', "not valid CSV"),
    ],
)
def test_unreadable_files_get_a_clear_message_not_a_500(rep_client, council_x, content, message):
    response = upload(rep_client, "region-x", content)
    assert response.status_code == 200
    assert message in response.text
    assert not CouncillorImport.objects.exists()


def test_files_over_the_size_limit_are_refused(rep_client, council_x):
    big = HEADER + "x" * (2 * 1024 * 1024 + 1)
    response = upload(rep_client, "region-x", big)
    assert "larger than 2 MB" in response.text
    assert not CouncillorImport.objects.exists()


def test_files_over_the_row_limit_are_refused(rep_client, council_x):
    rows = "".join(f"P,p{n}@example.org,E0600001,W\n" for n in range(20_001))
    response = upload(rep_client, "region-x", "full_name,email,council,ward\n" + rows)
    assert "more than 20,000 rows" in response.text
    assert not CouncillorImport.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_large_import_runs_in_the_worker_to_completion(celery_worker, worker_smtp, client):
    worker_smtp.clear()
    region = RegionFactory(name="Region Big", slug="region-big")
    CouncilFactory(region=region, gss_code="E0800001")
    rep = RepresentativeFactory(region=region)
    client.force_login(rep.user)
    rows = "".join(
        f"Person {n},person-{n}@example.org,E0800001,Ward {n % 40}\n" for n in range(1_200)
    )

    upload(client, "region-big", HEADER + rows)
    imp = latest_import()
    assert imp.total_rows == 1_200
    response = client.post(reverse("import_confirm", args=[imp.pk]), follow=True)
    assert "has started" in response.text

    def finished():
        imp.refresh_from_db()
        return imp.status in ("done", "failed")

    wait_for(finished, timeout=120, interval=0.5)
    assert imp.status == CouncillorImport.Status.DONE
    assert imp.processed_rows == imp.total_rows == 1_200
    assert Councillor.objects.filter(council__region=region).count() == 1_200
    # Every new councillor is invited, once, through the real SMTP server, and whoever
    # uploaded the file is told it is done.
    wait_for(lambda: len(worker_smtp.messages) >= 1_201, timeout=180, interval=0.5)
    assert {m["To"] for m in worker_smtp.messages} == {
        f"person-{n}@example.org" for n in range(1_200)
    } | {rep.user.email}
    assert len(worker_smtp.messages) == 1_201
    [done] = [m for m in worker_smtp.messages if m["To"] == rep.user.email]
    assert "is done" in done["Subject"]
    assert "1200 added" in done.get_body(("plain",)).get_content()
    progress = client.get(reverse("import_progress", args=[imp.pk])).json()
    assert progress == {
        "status": "done",
        "status_label": "Done",
        "processed_rows": 1_200,
        "total_rows": 1_200,
        "finished": True,
    }


def test_a_large_import_page_shows_a_progress_bar_fed_by_the_progress_endpoint(
    rep_client, council_x
):
    rows = "".join(
        f"Person {n},person-{n}@example.org,E0600001,Ward {n % 40}\n" for n in range(1_200)
    )
    upload(rep_client, "region-x", HEADER + rows)
    imp = latest_import()
    detail = reverse("import_detail", args=[imp.pk])
    progress = reverse("import_progress", args=[imp.pk])
    # Confirmed: queued for the worker (which this test does not run) once the request commits.
    rep_client.post(reverse("import_confirm", args=[imp.pk]))
    imp.refresh_from_db()
    assert imp.status == CouncillorImport.Status.QUEUED

    page = rep_client.get(detail).text

    assert re.search(r'<script src="/static/js/import_progress\.js[^"]*" defer></script>', page)
    assert finders.find("js/import_progress.js")
    section = page.split("data-import-progress=")[1].split("</section>")[0]
    assert section.startswith(f'"{progress}"')
    assert '<label for="import-progress-bar">' in section
    assert '<progress id="import-progress-bar" max="1200" value="0">' in section
    assert rep_client.get(progress).json() == {
        "status": "queued",
        "status_label": "Queued",
        "processed_rows": 0,
        "total_rows": 1_200,
        "finished": False,
    }

    # Part way through, as the worker reports it.
    CouncillorImport.objects.filter(pk=imp.pk).update(
        status=CouncillorImport.Status.RUNNING, processed_rows=480
    )
    assert rep_client.get(progress).json() == {
        "status": "running",
        "status_label": "Running",
        "processed_rows": 480,
        "total_rows": 1_200,
        "finished": False,
    }
    assert 'max="1200" value="480"' in rep_client.get(detail).text
    assert not Councillor.objects.exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_progress_bar_follows_the_import_in_a_browser(page):
    region = RegionFactory(name="Region P", slug="region-p")
    CouncilFactory(region=region, gss_code="E0900001")
    rep = RepresentativeFactory(region=region, user__email="rep.p@example.org")
    rows = "".join(f"Person {n},p-{n}@example.org,E0900001,Ward\n" for n in range(1_200))
    imp = councillor_imports.councillor_import_preview(
        region=region, uploaded_by=rep.user, filename="big.csv", raw=(HEADER + rows).encode()
    )
    # As a worker leaves it when it has started.
    CouncillorImport.objects.filter(pk=imp.pk).update(status=CouncillorImport.Status.RUNNING)
    log_in(page, "rep.p@example.org", PASSWORD)
    page.goto(reverse("import_detail", args=[imp.pk]))
    bar = page.get_by_label("Rows imported")
    assert bar.get_attribute("value") == "0"

    CouncillorImport.objects.filter(pk=imp.pk).update(processed_rows=600)
    wait_for(lambda: bar.evaluate("bar => bar.value") == 600, timeout=15)
    assert "Running: 600 of 1200 rows" in page.locator("[data-progress-text]").inner_text()

    CouncillorImport.objects.filter(pk=imp.pk).update(
        status=CouncillorImport.Status.DONE, processed_rows=1_200
    )
    # Finished: the page reloads itself and the bar gives way to the result.
    page.wait_for_selector("#import-progress-bar", state="detached")


def test_new_councillors_from_an_import_are_invited_once_it_commits(
    rep_client, council_x, django_capture_on_commit_callbacks
):
    CouncillorFactory(council=council_x, user__email="mary@example.org")
    upload(rep_client, "region-x", HEADER + GOOD_ROWS)
    imp = latest_import()

    with django_capture_on_commit_callbacks() as queued:
        rep_client.post(reverse("import_confirm", args=[imp.pk]))

    # Mary already has an account: only Ada is new, so only Ada is invited.
    invited = JoinRequest.objects.get()
    assert (invited.email, invited.status, invited.council_id, invited.ward) == (
        "ada@example.org",
        Decision.APPROVED,
        council_x.pk,
        "North Ward",
    )
    assert invited.decided_by == rep_client.rep
    assert len(queued) == 1


# Spreadsheet formulas and the page after an import


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('"=HYPERLINK(""http://evil.example"",""x"")",f@example.org,E0600001,Ward,', "Names"),
        ("+Plus Name,p@example.org,E0600001,Ward,", "Names cannot start with"),
        ("-Minus Name,m@example.org,E0600001,Ward,", "Names cannot start with"),
        ("@At Name,a@example.org,E0600001,Ward,", "Names cannot start with"),
        ("Ward Formula,w@example.org,E0600001,=SUM(A1),", "Ward names cannot start with"),
        ("Ward Quoted,q@example.org,E0600001,'@SUM(A1),", "Ward names cannot start with"),
    ],
)
def test_a_name_or_ward_a_spreadsheet_would_run_as_a_formula_is_refused(
    rep_client, council_x, row, message
):
    upload(rep_client, "region-x", HEADER + row + "\n")
    imp = latest_import()
    [planned] = imp.report["rows"]
    assert planned["action"] == "error"
    assert any(message in error for error in planned["errors"]), planned["errors"]
    assert "formula" in " ".join(planned["errors"])
    rep_client.post(reverse("import_confirm", args=[imp.pk]))
    assert not Councillor.objects.exists()


def test_a_hyphen_or_plus_inside_a_name_or_ward_is_fine(rep_client, council_x):
    upload(rep_client, "region-x", HEADER + "Ann-Marie O'Neil,ann@example.org,E0600001,A+B Ward,\n")
    assert latest_import().report["counts"]["create"] == 1


@pytest.mark.parametrize("bad", ['=HYPERLINK("http://evil.example","x")', "@SUM(A1)"])
def test_every_form_refuses_a_formula_name_like_the_import(rep_client, council_x, bad):
    rep = rep_client.post(
        reverse("councillor_add", args=[council_x.slug]),
        {"full_name": bad, "email": "new@example.org", "ward": bad, "phone": ""},
    )
    assert rep.status_code == 200
    for field in ("full_name", "ward"):
        errors = re.search(rf'id="id_{field}_error">(.*?)</ul>', rep.text, re.S)
        assert errors and "cannot start with =, +, - or @" in errors.group(1)

    join = Client().post(
        reverse("join"),
        {"full_name": bad, "council": "E0600001", "ward": "North", "email": "j@example.org"},
    )
    assert "cannot start with =, +, - or @" in join.text
    assert not JoinRequest.objects.exists()
    assert not User.objects.filter(email__in=["new@example.org", "j@example.org"]).exists()


def test_profile_refuses_a_formula_name_like_the_import(client, council_x):
    councillor = CouncillorFactory(council=council_x, user__full_name="Ada Lovelace", ward="North")
    client.force_login(councillor.user)
    response = client.post(
        reverse("profile_edit"), profile_form_data(councillor, full_name="=1+1", ward="+North")
    )
    assert response.status_code == 200
    # Beside each of the two fields, and again in the summary at the top linking to them.
    form = response.text.split("data-error-summary>")[1].split("</div>", 1)[1]
    assert form.count("cannot start with =, +, - or @") == 2
    assert response.text.count("cannot start with =, +, - or @") == 4
    councillor.refresh_from_db()
    councillor.user.refresh_from_db()
    assert (councillor.user.full_name, councillor.ward) == ("Ada Lovelace", "North")


def test_a_finished_import_says_what_was_done_in_the_past_tense(rep_client, council_x):
    CouncillorFactory(council=council_x, user__email="ada@example.org", user__full_name="Ada L")
    upload(rep_client, "region-x", HEADER + GOOD_ROWS)
    imp = latest_import()
    preview = rep_client.get(reverse("import_detail", args=[imp.pk])).text
    assert "to create" in preview and "Rows that would create" in preview

    rep_client.post(reverse("import_confirm", args=[imp.pk]))

    page = rep_client.get(reverse("import_detail", args=[imp.pk])).text
    summary = re.search(r'<ul class="import-counts".*?</ul>', page, re.S).group(0)
    assert re.search(r">1</span> created<", summary)
    assert re.search(r">1</span> changed<", summary)
    assert "to create" not in page and "to change" not in page
    assert "would" not in page
    assert "Rows that created or changed a councillor" in page
    assert "1 councillor created and 1 changed" in page
    assert "Import 2" not in page


def test_a_file_that_changes_nothing_offers_no_import_button(rep_client, council_x):
    upload(rep_client, "region-x", HEADER + GOOD_ROWS)
    rep_client.post(reverse("import_confirm", args=[latest_import().pk]))

    upload(rep_client, "region-x", HEADER + GOOD_ROWS)
    page = rep_client.get(reverse("import_detail", args=[latest_import().pk])).text

    assert "matches what is already stored" in page
    assert "Import 0" not in page
    assert reverse("import_confirm", args=[latest_import().pk]) not in page


def test_a_finished_import_says_so_once_counts_the_invitations_and_leads_on(
    rep_client, region_x, council_x
):
    upload(rep_client, "region-x", HEADER + GOOD_ROWS)
    imp = latest_import()

    response = rep_client.post(reverse("import_confirm", args=[imp.pk]), follow=True)

    page = response.text
    assert page.count("The import is complete") == 1
    assert "The import is complete: 2 councillors created and 0 changed." in page
    assert "emailed to each of the 2 new councillors" in page
    assert f'href="{reverse("regions:region", args=[region_x.slug])}"' in page
    assert f'href="{reverse("import_upload", args=[region_x.slug])}">Import another file' in page
    # The invitations the page speaks of are on their way.
    assert JoinRequest.objects.filter(status=Decision.APPROVED).count() == 2


def test_a_finished_import_that_created_nobody_mentions_no_invitations(
    rep_client, region_x, council_x
):
    upload(rep_client, "region-x", HEADER + GOOD_ROWS)
    rep_client.post(reverse("import_confirm", args=[latest_import().pk]))
    upload(rep_client, "region-x", HEADER + "Ada Lovelace,ada@example.org,E0600001,East Ward,\n")
    imp = latest_import()
    page = rep_client.post(reverse("import_confirm", args=[imp.pk]), follow=True).text
    assert "0 councillors created and 1 changed" in page
    assert "invitation" not in page.split("<main")[1].split("<table")[0]
    assert "Import another file" in page
