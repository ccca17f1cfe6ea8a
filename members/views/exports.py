"""Downloads of personal data (a region's councillors and groups as CSV), each written to the
export log, and the export log itself, for the national office."""

import csv

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_safe

from alc_portal.dates import BritishDateField
from alc_portal.forms import DescribedFieldsMixin
from members import selectors
from members.access import (
    export_log_visible_to,
    get_import_for_user_or_404,
    require_national_staff,
)
from members.imports import spreadsheet_cell
from members.models import ExportLogEntry
from members.services.exports import export_record
from regions.access import get_region_for_user_or_404


class ExportLogFilterForm(DescribedFieldsMixin, forms.Form):
    person = forms.CharField(
        label="Person",
        required=False,
        max_length=254,
        help_text="Part of the name or email address of who downloaded it.",
    )
    since = BritishDateField(label="From", required=False)
    until = BritishDateField(label="To", required=False)

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date must be on or after the start date.")
        return data

    def filter(self, entries):
        data = self.cleaned_data
        if data.get("person"):
            text = data["person"].strip()
            entries = entries.filter(
                Q(user__email__icontains=text) | Q(user__full_name__icontains=text)
            )
        if data.get("since"):
            entries = entries.filter(at__date__gte=data["since"])
        if data.get("until"):
            entries = entries.filter(at__date__lte=data["until"])
        return entries


@login_required
@require_safe
def export_log(request):
    require_national_staff(request.user)
    form = ExportLogFilterForm(request.GET or None)
    entries = export_log_visible_to(request.user).select_related("user")
    if form.is_bound and form.is_valid():
        entries = form.filter(entries)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "members/export_log.html", context)


def _csv_download(request, *, kind: str, subject: str, filename: str, header, rows):
    """A CSV of personal data, noted in the export log (one entry per download)."""
    rows = list(rows)
    export_record(by=request.user, kind=kind, subject=subject, rows=len(rows))
    return _csv_response(filename, header, rows)


def _csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # lets Excel recognise UTF-8
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_cell(value) for value in row])
    return response


# What each region export holds: its kind in the export log, and the read that makes it.
REGION_TABLES = {
    "councillors": (ExportLogEntry.Kind.REGION_COUNCILLORS, selectors.region_councillors_table),
    "groups": (ExportLogEntry.Kind.REGION_GROUPS, selectors.region_groups_table),
}


def _region_csv(request, region_slug: str, what: str):
    region = get_region_for_user_or_404(request.user, region_slug, manage=True)
    kind, table = REGION_TABLES[what]
    header, rows = table(request.user, region)
    return _csv_download(
        request,
        kind=kind,
        subject=region.name,
        filename=f"{region.slug}-{what}.csv",
        header=header,
        rows=rows,
    )


@login_required
@require_GET
def export_councillors(request, region_slug):
    return _region_csv(request, region_slug, "councillors")


@login_required
@require_GET
def export_groups(request, region_slug):
    return _region_csv(request, region_slug, "groups")


@login_required
@require_GET
def import_rejected_rows(request, pk):
    councillor_import = get_import_for_user_or_404(request.user, pk)
    if not councillor_import.content or not councillor_import.report.get("counts", {}).get("error"):
        raise Http404("This import has no rows with errors to download.")
    header, rows = selectors.import_rejected_rows_table(councillor_import)
    name = councillor_import.filename.rsplit(".", 1)[0] or "import"
    return _csv_download(
        request,
        kind=ExportLogEntry.Kind.IMPORT_REJECTED_ROWS,
        subject=f"Rows with errors in {councillor_import.filename} ({councillor_import.region})",
        filename=f"{slugify(name) or 'import'}-rows-with-errors.csv",
        header=header,
        rows=rows,
    )
