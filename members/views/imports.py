"""CSV imports of councillors and of Labour groups' details: upload, preview, confirm, and the
progress of large files. Both kinds share the preview, confirm and progress pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from members import imports, services
from members.access import get_import_for_user_or_404, imports_managed_by
from members.forms.onboarding import GroupImportUploadForm, ImportUploadForm
from members.models import CouncillorImport
from regions.access import get_region_for_user_or_404

# The import preview lists every row that would change something or has an error; a very
# large file's unchanged rows are only counted.
PREVIEW_ROW_LIMIT = 5_000
ERROR_SUMMARY_LIMIT = 50


def _upload(request, region_slug, *, kind, form_class, template):
    region = get_region_for_user_or_404(request.user, region_slug, manage=True)
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            councillor_import = services.councillor_imports.councillor_import_preview(
                region=region,
                uploaded_by=request.user,
                filename=upload.name,
                raw=upload.read(),
                kind=kind,
            )
        except imports.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("import_detail", pk=councillor_import.pk)
    recent = (
        imports_managed_by(request.user).filter(region=region, kind=kind).defer("content", "report")
    )
    context = {"form": form, "region": region, "recent": recent[:10]}
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request, region_slug):
    return _upload(
        request,
        region_slug,
        kind=CouncillorImport.Kind.COUNCILLORS,
        form_class=ImportUploadForm,
        template="members/import_upload.html",
    )


@login_required
@require_http_methods(["GET", "POST"])
def group_import_upload(request, region_slug):
    return _upload(
        request,
        region_slug,
        kind=CouncillorImport.Kind.GROUPS,
        form_class=GroupImportUploadForm,
        template="members/group_import_upload.html",
    )


@login_required
@require_safe
def import_detail(request, pk):
    councillor_import = get_import_for_user_or_404(request.user, pk)
    report = councillor_import.report or {}
    shown = [row for row in report.get("rows", []) if row["action"] != "unchanged"]
    upload = "group_import_upload" if councillor_import.is_of_groups else "import_upload"
    context = {
        "import": councillor_import,
        "region": councillor_import.region,
        "upload_url": reverse(upload, args=[councillor_import.region.slug]),
        "counts": report.get("counts", {}),
        "rows": shown[:PREVIEW_ROW_LIMIT],
        # Listed at the top, each linking to its row (the first ERROR_SUMMARY_LIMIT of them).
        "error_rows": [row for row in shown if row.get("errors")][:ERROR_SUMMARY_LIMIT],
        "rows_hidden": max(0, len(shown) - PREVIEW_ROW_LIMIT),
        "rows_to_check": report.get("rows_to_check", 0),
        "to_write": sum(report.get("counts", {}).get(key, 0) for key in ("create", "update")),
        # New councillors a groups' import names as officers, each invited.
        "new_people": sum(
            1
            for row in report.get("rows", [])
            for office in row.get("offices", ())
            if (office.get("new_person") or {}).get("create")
        ),
        "in_progress": councillor_import.is_in_progress,
    }
    return render(request, "members/import_detail.html", context)


@login_required
@require_POST
def import_confirm(request, pk):
    councillor_import = get_import_for_user_or_404(request.user, pk)
    try:
        councillor_import = services.councillor_imports.councillor_import_confirm(
            councillor_import=councillor_import
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        # A finished import's page says so itself.
        if not councillor_import.is_done:
            messages.success(request, "The import has started; this page shows its progress.")
    return redirect("import_detail", pk=councillor_import.pk)


@login_required
@require_safe
def import_progress(request, pk):
    councillor_import = get_import_for_user_or_404(request.user, pk)
    total = councillor_import.total_rows
    return JsonResponse(
        {
            "status": councillor_import.status,
            "status_label": councillor_import.get_status_display(),
            "processed_rows": councillor_import.processed_rows,
            "total_rows": total,
            "finished": councillor_import.is_done or councillor_import.is_failed,
        }
    )
