"""What helps a representative fix an import: templates to start from, and a preview with its
errors summarised at the top, each linking to its row, and shown in full under the row."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from factories import RepresentativeFactory

from members.group_imports import GROUP_COLUMNS
from members.imports import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from members.models import CouncillorImport, ExportLogEntry
from regions.models import Region

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "static" / "import"


@pytest.fixture
def wales_rep(gb_councils):
    return RepresentativeFactory(region=Region.objects.get(slug="wales")).user


def _upload(client, url, content: bytes):
    return client.post(url, {"file": SimpleUploadedFile("f.csv", content, content_type="text/csv")})


@pytest.mark.parametrize(
    ("template", "columns", "upload"),
    [
        ("councillors.csv", [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS], "import_upload"),
        ("groups.csv", list(GROUP_COLUMNS), "group_import_upload"),
    ],
)
def test_each_template_has_the_imports_columns_and_an_example_it_accepts(
    client, wales_rep, template, columns, upload
):
    content = (STATIC / template).read_bytes()
    assert content.decode().splitlines()[0].split(",") == columns
    client.force_login(wales_rep)
    page = client.get(reverse(upload, args=["wales"])).text
    assert f"import/{template}" in page
    response = _upload(client, reverse(upload, args=["wales"]), content)
    imported = CouncillorImport.objects.latest("pk")
    assert response.status_code == 302
    assert imported.report["counts"]["error"] == 0


def test_errors_are_summarised_at_the_top_and_shown_in_full_under_their_rows(client, wales_rep):
    client.force_login(wales_rep)
    rows = [
        "full_name,email,council,ward",
        "Good Person,good@example.org,Cardiff,Cathays",
        "No Email,,Cardiff,Cathays",
        "Bad Council,bad@example.org,Atlantis,Somewhere",
    ]
    _upload(client, reverse("import_upload", args=["wales"]), "\n".join(rows).encode())
    latest = CouncillorImport.objects.latest("pk")
    page = client.get(reverse("import_detail", args=[latest.pk])).text
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0)
    assert "2 rows need correcting" in summary
    assert re.findall(r'href="#line-(\d+)"', summary) == ["3", "4"]
    for line in ("3", "4"):
        assert f'<tr id="line-{line}" class="has-errors">' in page
        assert f'aria-label="Errors on line {line}"' in page
    assert "Atlantis" in re.search(r'aria-label="Errors on line 4">(.*?)</ul>', page, re.S).group(1)


def test_the_rows_with_errors_download_as_a_csv_that_the_import_reads_again(client, wales_rep):
    client.force_login(wales_rep)
    rows = [
        "full_name,email,council,ward",
        "Good Person,good@example.org,Cardiff,Cathays",
        "No Email,,Cardiff,Cathays",
        "Bad Council,bad@example.org,Atlantis,Somewhere",
    ]
    _upload(client, reverse("import_upload", args=["wales"]), "\n".join(rows).encode())
    latest = CouncillorImport.objects.latest("pk")
    page = client.get(reverse("import_detail", args=[latest.pk])).text
    url = reverse("import_rejected_rows", args=[latest.pk])
    assert f'href="{url}"' in page
    response = client.get(url)
    content = response.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(content)))
    assert table[0] == ["full_name", "email", "council", "ward", "phone", "errors"]
    assert [row[:4] for row in table[1:]] == [
        ["No Email", "", "Cardiff", "Cathays"],
        ["Bad Council", "bad@example.org", "Atlantis", "Somewhere"],
    ]
    assert "Atlantis" in table[2][5]
    entry = ExportLogEntry.objects.get()
    assert (entry.kind, entry.rows, entry.user) == ("import_rejected_rows", 2, wales_rep)
    # Corrected in a spreadsheet, errors column and all, the file imports.
    table[1][1] = "no.email@example.org"
    table[2][2] = "Cardiff"
    fixed = io.StringIO()
    csv.writer(fixed).writerows(table)
    _upload(client, reverse("import_upload", args=["wales"]), fixed.getvalue().encode())
    assert CouncillorImport.objects.latest("pk").report["counts"]["error"] == 0
