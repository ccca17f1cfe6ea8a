"""Joining, invitations, CSV import and export of councillors, and appointing representatives."""

import csv
import hashlib

from allauth.account.adapter import get_adapter as get_account_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from members import imports
from members.access import (
    councillors_managed_by,
    get_import_for_user_or_404,
    get_join_request_for_user_or_404,
    imports_managed_by,
    join_requests_managed_by,
    require_national_staff,
    require_role_changer,
)
from members.forms.invitation import InvitationRenewForm
from members.forms.onboarding import (
    ImportUploadForm,
    JoinForm,
    RefuseForm,
    RepresentativeAppointForm,
)
from members.models import CouncillorImport, Decision, ExportLogEntry, User
from members.services import onboarding, representative_appoint
from members.services.exports import export_record
from members.tokens import invitation_token_generator
from members.views.decisions import pending_and_decided
from regions.access import (
    get_region_for_user_or_404,
    get_representative_for_user_or_404,
    groups_visible_to,
    officers_visible_to,
    regions_managed_by,
    regions_visible_to,
    representatives_visible_to,
)
from regions.models import GroupOfficer

# The import preview lists every row that would change something or has an error; a very
# large file's unchanged rows are only counted.
PREVIEW_ROW_LIMIT = 5_000
JOIN_REQUESTS_PER_HOUR = 10
TOO_MANY_JOIN_REQUESTS = (
    "Too many requests to join have come from your network. Please try again in an hour."
)


def _require_manager(user) -> None:
    if not regions_managed_by(user).exists():
        raise PermissionDenied


# Joining


def _hourly_use_allowed(key: str, limit: int) -> bool:
    """Count one more use under `key` this hour; whether the count is still within `limit`."""
    cache.add(key, 0, timeout=60 * 60)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # expired between add and incr
        return True


def _join_allowed(request) -> bool:
    """At most JOIN_REQUESTS_PER_HOUR join requests from one address: the form is public."""
    key = f"join-requests:{get_account_adapter().get_client_ip(request)}"
    return _hourly_use_allowed(key, JOIN_REQUESTS_PER_HOUR)


@require_http_methods(["GET", "POST"])
def join(request):
    lookup = imports.CouncilLookup.current()
    form = JoinForm(request.POST or None, lookup=lookup)
    status = 200
    if request.method == "POST" and form.is_valid():
        if not _join_allowed(request):
            form.add_error(None, TOO_MANY_JOIN_REQUESTS)
            status = 429
        else:
            try:
                onboarding.join_request_submit(
                    full_name=form.cleaned_data["full_name"],
                    email=form.cleaned_data["email"],
                    council=form.cleaned_data["council"],
                    ward=form.cleaned_data["ward"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("join_thanks")
    context = {"form": form, "council_names": lookup.names()}
    return render(request, "members/join.html", context, status=status)


@require_safe
def join_thanks(request):
    return render(request, "members/join_thanks.html")


@login_required
@require_safe
def join_requests(request):
    _require_manager(request.user)
    # Only requests people made: not the records of invitations to councillors added by hand or
    # imported, which have their own pages.
    managed = (
        join_requests_managed_by(request.user)
        .filter(asked_to_join=True)
        .select_related("council__region", "decided_by")
    )
    context = pending_and_decided(managed, "requested_at")
    if request.user.is_national_staff:
        # Requests from a region with nobody to decide them are the national office's to decide.
        context["represented_region_ids"] = set(
            representatives_visible_to(request.user).current().values_list("region_id", flat=True)
        )
    return render(request, "members/join_requests.html", context)


@login_required
@require_POST
def join_request_approve(request, pk):
    # Decided requests are found too, so that a second click is told what happened.
    join_request = get_join_request_for_user_or_404(request.user, pk, pending=False)
    try:
        councillor = onboarding.join_request_approve(join_request=join_request, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if councillor is None:
            messages.warning(request, f"{join_request.full_name}: {onboarding.JOIN_ADDRESS_TAKEN}")
        else:
            messages.success(
                request, f"{join_request.full_name} has been added and an invitation is on its way."
            )
    return redirect("join_requests")


@login_required
@require_http_methods(["GET", "POST"])
def join_request_refuse(request, pk):
    join_request = get_join_request_for_user_or_404(request.user, pk, pending=False)
    if join_request.status != Decision.PENDING:
        messages.error(request, "This request has already been decided.")
        return redirect("join_requests")
    form = RefuseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            onboarding.join_request_refuse(
                join_request=join_request, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"The request from {join_request.full_name} was refused.")
        return redirect("join_requests")
    return render(
        request, "members/join_request_refuse.html", {"form": form, "join_request": join_request}
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request, uidb64, token):
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not invitation_token_generator.check_token(user, token):
        return _invitation_invalid(request)
    if onboarding.invitation_left_before_accepting(user):
        context = {"message": onboarding.INVITATION_AFTER_LEAVING}
        return render(request, "members/join_invitation_left.html", context, status=403)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            onboarding.invitation_accept(user=user, password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome to the portal. Your password is set.")
            return redirect("home")
    return render(request, "members/join_invitation.html", {"form": form, "invited": user})


INVITATION_RENEWALS_PER_HOUR = {"address": 3, "ip": 10}
INVITATION_RENEWAL_ANSWER = (
    "Thank you. If that address belongs to a councillor whose invitation is still waiting, a new "
    "invitation is on its way to it. It may take a few minutes to arrive."
)


def _renewal_allowed(request, email: str) -> bool:
    """At most a few requests an hour for one address and from one network: the form is public
    and sends mail."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    keys = {
        "address": f"invitation-renew:address:{digest}",
        "ip": f"invitation-renew:ip:{get_account_adapter().get_client_ip(request)}",
    }
    # Every key is counted, even once one is over its limit.
    counted = [
        _hourly_use_allowed(key, INVITATION_RENEWALS_PER_HOUR[kind]) for kind, key in keys.items()
    ]
    return all(counted)


def _invitation_invalid(request):
    """The page for a link that is wrong, used or expired, where the person may ask for a new
    invitation. The answer is the same whether or not one is sent."""
    form = InvitationRenewForm(request.POST if "email" in request.POST else None)
    if form.is_bound and form.is_valid():
        if _renewal_allowed(request, form.cleaned_data["email"]):
            onboarding.invitation_renew_request(email=form.cleaned_data["email"])
        messages.success(request, INVITATION_RENEWAL_ANSWER)
        return redirect(request.path)
    return render(
        request,
        "members/join_invitation_invalid.html",
        {"form": form, "invitation_days": settings.INVITATION_DAYS},
        status=400,
    )


# CSV import


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request, region_slug):
    region = get_region_for_user_or_404(request.user, region_slug, manage=True)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            councillor_import = onboarding.councillor_import_preview(
                region=region, uploaded_by=request.user, filename=upload.name, raw=upload.read()
            )
        except imports.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("import_detail", pk=councillor_import.pk)
    recent = imports_managed_by(request.user).filter(region=region).defer("content", "report")
    context = {"form": form, "region": region, "recent": recent[:10]}
    return render(request, "members/import_upload.html", context)


@login_required
@require_safe
def import_detail(request, pk):
    councillor_import = get_import_for_user_or_404(request.user, pk)
    report = councillor_import.report or {}
    shown = [row for row in report.get("rows", []) if row["action"] != "unchanged"]
    context = {
        "import": councillor_import,
        "region": councillor_import.region,
        "counts": report.get("counts", {}),
        "rows": shown[:PREVIEW_ROW_LIMIT],
        "rows_hidden": max(0, len(shown) - PREVIEW_ROW_LIMIT),
        "to_write": sum(report.get("counts", {}).get(key, 0) for key in ("create", "update")),
        "in_progress": councillor_import.status
        in (CouncillorImport.Status.QUEUED, CouncillorImport.Status.RUNNING),
    }
    return render(request, "members/import_detail.html", context)


@login_required
@require_POST
def import_confirm(request, pk):
    councillor_import = get_import_for_user_or_404(request.user, pk)
    try:
        councillor_import = onboarding.councillor_import_confirm(
            councillor_import=councillor_import
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        # A finished import's page says so itself.
        if councillor_import.status != CouncillorImport.Status.DONE:
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
            "finished": councillor_import.status
            in (CouncillorImport.Status.DONE, CouncillorImport.Status.FAILED),
        }
    )


# CSV export


def _csv_cell(value) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(imports.FORMULA_STARTS) or text.startswith(("\t", "\r")):
        return "'" + text
    return text


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
        writer.writerow([_csv_cell(value) for value in row])
    return response


@login_required
@require_GET
def export_councillors(request, region_slug):
    region = get_region_for_user_or_404(request.user, region_slug, manage=True)
    councillors = (
        councillors_managed_by(request.user)
        .serving()
        .filter(council__region=region)
        .select_related("user", "council")
        .order_by("council__short_name", "user__full_name", "pk")
    )
    rows = (
        (
            c.user.full_name,
            c.user.email,
            c.council.name,
            c.council.gss_code,
            c.ward,
            c.phone,
            "yes" if c.labour_coop else "no",
        )
        for c in councillors
    )
    header = ["full_name", "email", "council", "council_gss", "ward", "phone", "labour_coop"]
    return _csv_download(
        request,
        kind=ExportLogEntry.Kind.REGION_COUNCILLORS,
        subject=region.name,
        filename=f"{region.slug}-councillors.csv",
        header=header,
        rows=rows,
    )


@login_required
@require_GET
def export_groups(request, region_slug):
    region = get_region_for_user_or_404(request.user, region_slug, manage=True)
    officers = (
        officers_visible_to(request.user)
        .current()
        .select_related("user")
        .order_by("start_date", "pk")
    )
    groups = (
        groups_visible_to(request.user)
        .filter(council__region=region)
        .select_related("council")
        .prefetch_related(Prefetch("officers", queryset=officers, to_attr="current_officers"))
        .order_by("council__short_name")
    )

    def holder(group, role):
        return ", ".join(
            o.user.full_name or o.user.email for o in group.current_officers if o.role == role
        )

    rows = (
        (
            g.council.name,
            g.name,
            g.contact_email,
            g.phone,
            g.postal_address,
            *(holder(g, role) for role in GroupOfficer.Role),
            g.council.labour_seats,
        )
        for g in groups
    )
    header = [
        "council",
        "group",
        "contact_email",
        "phone",
        "postal_address",
        *GroupOfficer.Role.values,
        "labour_seats",
    ]
    return _csv_download(
        request,
        kind=ExportLogEntry.Kind.REGION_GROUPS,
        subject=region.name,
        filename=f"{region.slug}-groups.csv",
        header=header,
        rows=rows,
    )


# Regional representatives


@login_required
@require_http_methods(["GET", "POST"])
def representatives(request):
    require_national_staff(request.user)
    form = RepresentativeAppointForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        person, region = form.cleaned_data["email"], form.cleaned_data["region"]
        representative_appoint(user=person, region=region)
        messages.success(request, f"{person} is now a representative for {region}.")
        return redirect("representatives")
    # Appointments still to begin are listed with the current ones, so that they can be removed.
    appointments = representatives_visible_to(request.user).select_related("user")
    regions = regions_visible_to(request.user).prefetch_related(
        Prefetch(
            "representatives",
            queryset=appointments.not_ended().order_by("start_date", "pk"),
            to_attr="current_representatives",
        ),
        Prefetch(
            "representatives",
            queryset=appointments.filter(end_date__lte=timezone.localdate()).order_by(
                "-end_date", "-pk"
            ),
            to_attr="former_representatives",
        ),
    )
    return render(request, "members/representatives.html", {"form": form, "regions": regions})


@login_required
@require_http_methods(["GET", "POST"])
def representative_remove(request, pk):
    """GET asks staff to confirm, naming the person and the region; POST ends the appointment."""
    require_national_staff(request.user)
    representative = get_representative_for_user_or_404(request.user, pk)
    require_role_changer(request.user, representative.user)
    if request.method != "POST":
        end = representative.end_date
        if end is not None and end <= timezone.localdate():
            messages.error(
                request,
                f"{representative.user}'s appointment for {representative.region} has already "
                "ended.",
            )
            return redirect("representatives")
        context = {"representative": representative, "today": timezone.localdate()}
        return render(request, "members/representative_remove.html", context)
    try:
        onboarding.representative_remove(representative=representative)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{representative.user} is no longer a representative for {representative.region}.",
        )
    return redirect("representatives")
