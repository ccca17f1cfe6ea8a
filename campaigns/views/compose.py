"""Composing mailings: the list, the composer with its live audience count, the preview, a
test send to oneself, and the buttons that submit, approve, send or schedule."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from regions.models import Council

from ..access import (
    get_mailing_for_user_or_404,
    is_staff,
    mailings_visible_to,
    may_manage_mailing,
    require_composer,
    require_staff,
)
from ..audience import (
    audience_recorded,
    audience_resolve,
    audience_resolve_rule,
    missing_values,
)
from ..forms import AudienceForm, MailingForm, ScheduleForm
from ..models import Delivery, Mailing
from ..rendering import (
    MERGE_FIELDS,
    SAMPLE_CONTEXT,
    fields_needing_values,
    render_message,
    subject_title,
)
from ..services import compose, sending
from ..services.report import APPROVAL_FILTERS, mailings_filter_approval
from ..smtp import SendFailure
from ..unsubscribe import PreviewLinks
from .sending import progress_shown

MAILINGS_PER_PAGE = 50
# Groups without an address listed in full before "and N more".
GROUPS_SHOWN = 50
# Recipients offered at once in the preview's chooser; a search finds any of the others.
PREVIEW_CHOICES = 100
SEARCH_MAX_LENGTH = 200
# Who the preview is addressed to when the audience has nobody yet.
SAMPLE_EMAIL = "alex@example.org"
STARTED = (
    Mailing.Status.SENDING,
    Mailing.Status.PAUSED,
    Mailing.Status.SENT,
    Mailing.Status.CANCELLED,
)
ALREADY_STARTED = {
    Mailing.Status.SENDING: "This mailing is already being sent. Nothing has been sent twice.",
    Mailing.Status.PAUSED: "This mailing is already being sent (it is paused). Nothing has been "
    "sent twice.",
    Mailing.Status.SENT: "This mailing has already been sent. Nothing has been sent twice.",
    Mailing.Status.CANCELLED: "This mailing was cancelled, so it can't be sent or scheduled.",
}
# The sandboxed preview document: no scripts, no network, only the message's own styles.
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)


def audience_summary(audience, *, user, fields=()) -> dict:
    """The composer's audience panel. The suppression list is staff-only: others get its size.
    `fields` are the merge fields the message uses without a default; for each, how many
    recipients have no value (a gap in their message)."""
    summary = {
        "count": audience.count,
        "suppressed_count": len(audience.suppressed),
        # The groups the rule picks, and those of them that get nothing (no usable address).
        "group_count": audience.group_count,
        "groups_without_address_count": len(audience.groups_without_address),
        "groups_without_address": [
            {"id": pk, "name": name, "council": council}
            for pk, name, council in audience.groups_without_address
        ],
        "groups_shown": GROUPS_SHOWN,
        "missing": missing_report(audience, fields),
    }
    if is_staff(user):
        summary["suppressed"] = audience.suppressed
    return summary


def missing_report(audience, fields) -> list[dict]:
    """[{"field": "election.date", "count": 14, "message": "14 recipients have no ..."}]."""
    report = []
    for field, count in missing_values(audience.recipients, fields).items():
        people = "1 recipient has" if count == 1 else f"{count} recipients have"
        report.append(
            {
                "field": field,
                "count": count,
                "message": f'{people} no {field} — add |default:"..." or narrow the audience',
            }
        )
    return report


def _fields_used(params) -> list[str]:
    """The merge fields the composer says its message uses without a default (`fields`), or,
    without that, those of the subject and body sent."""
    if "fields" in params:
        return [name for name in params.getlist("fields") if name in MERGE_FIELDS]
    return fields_needing_values(params.get("subject", ""), params.get("body", ""))


def recipient_labels(mailing) -> list[str]:
    """Who of each group the mailing goes to, as the composer names them."""
    names = dict(Mailing.Recipients.choices)
    return [names.get(value, value) for value in mailing.recipients or ()]


def council_kind_labels(mailing) -> list[str]:
    names = dict(Council.Kind.choices)
    return [names.get(value, value) for value in mailing.council_kinds or ()]


@login_required
@require_GET
def mailing_list(request):
    require_composer(request.user)
    mailings = (
        mailings_visible_to(request.user)
        .select_related("campaign", "owner_region", "created_by", "approved_by")
        .prefetch_related("regions")
    )
    show = request.GET.get("show", "")
    mailings = mailings_filter_approval(mailings, show)
    page = Paginator(mailings, MAILINGS_PER_PAGE).get_page(request.GET.get("page"))
    # Counted for the page's mailings only, in one query.
    counts = {
        row["mailing_id"]: row
        for row in Delivery.objects.filter(mailing__in=[m.pk for m in page.object_list])
        .values("mailing_id")
        .annotate(
            sent=Count("pk", filter=Q(status=Delivery.Status.SENT)),
            failed=Count("pk", filter=Q(status=Delivery.Status.FAILED)),
        )
    }
    for mailing in page.object_list:
        mailing.title = subject_title(mailing.subject)
        mailing.counts = counts.get(mailing.pk)
    return render(
        request,
        "campaigns/mailing_list.html",
        {
            "page": page,
            "mailings": page.object_list,
            "is_staff": is_staff(request.user),
            "show": show if show in APPROVAL_FILTERS else "",
            "approval_filters": APPROVAL_FILTERS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def mailing_create(request):
    require_composer(request.user)
    return _mailing_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def mailing_edit(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk, manage=True)
    if not may_manage_mailing(request.user, mailing):
        raise PermissionDenied
    return _mailing_form(request, mailing)


def _mailing_form(request, mailing):
    form = MailingForm(request.POST or None, instance=mailing, user=request.user)
    audience = None
    if request.method == "POST":
        if "update_count" in request.POST:
            # Without JavaScript: re-show the form with the count for the rule as it stands.
            audience_form = AudienceForm(request.POST, user=request.user)
            if audience_form.is_valid():
                audience = audience_summary(
                    audience_resolve_rule(**audience_form.rule()),
                    user=request.user,
                    fields=_fields_used(request.POST),
                )
            form.is_valid()
        elif form.is_valid():
            saved = compose.mailing_save(mailing=mailing, data=form.cleaned_data, user=request.user)
            messages.success(request, "Mailing saved.")
            return redirect(saved)
    elif mailing is not None:
        audience = audience_summary(
            audience_resolve(mailing),
            user=request.user,
            fields=fields_needing_values(mailing.subject, mailing.body),
        )
    return render(
        request,
        "campaigns/mailing_form.html",
        {
            "form": form,
            "mailing": mailing,
            "audience": audience,
            "has_rate_limit": "rate_limit" in form.fields,
        },
    )


def rate_limit_text(mailing) -> str:
    """How fast this mailing may go: its own limit, or the portal-wide one, whichever is lower."""
    portal = getattr(settings, "MAILING_RATE_LIMIT", None) or None
    own = mailing.rate_limit

    def per_second(rate) -> str:
        number = f"{rate:,.2f}".rstrip("0").rstrip(".") if rate >= 1 else f"{rate:.3g}"
        return f"{number} message{'' if number == '1' else 's'} per second"

    if own and portal and portal < own:
        return (
            f"{per_second(own)} set for this mailing; the portal-wide limit of "
            f"{per_second(portal)} applies"
        )
    if own:
        return f"At most {per_second(own)} (set for this mailing)"
    if portal:
        return f"At most {per_second(portal)} (the portal-wide limit)"
    return "No limit: as fast as the mail server accepts"


@login_required
@require_GET
def audience_count(request):
    """The live count for the composer: the form's audience fields as GET parameters."""
    require_composer(request.user)
    form = AudienceForm(request.GET, user=request.user)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    summary = audience_summary(
        audience_resolve_rule(**form.rule()), user=request.user, fields=_fields_used(request.GET)
    )
    return JsonResponse(summary)


@login_required
@require_GET
def mailing_detail(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    # Send now leads here first: a page saying what goes to whom, with the final button.
    confirming = request.GET.get("confirm") == "send"
    if confirming and is_staff(request.user) and mailing.status in compose.SENDABLE:
        return _render_send_confirm(request, mailing)
    return _render_detail(request, mailing)


def _render_send_confirm(request, mailing):
    """The step between Send now and sending: what goes to how many, and the final button.
    It carries the version of the page Send now was pressed on, so a change made meanwhile
    stops the send rather than going out unseen."""
    version = request.GET.get("version", "")
    if not version.isdigit():
        version = compose.mailing_version(mailing.pk)
    audience = audience_resolve(mailing)
    return render(
        request,
        "campaigns/mailing_send_confirm.html",
        {
            "mailing": mailing,
            "title": subject_title(mailing.subject),
            "regions": mailing.regions.all(),
            "recipient_labels": recipient_labels(mailing),
            "council_kind_labels": council_kind_labels(mailing),
            "count": audience.count,
            "suppressed_count": len(audience.suppressed),
            "group_count": audience.group_count,
            "groups_without_address_count": len(audience.groups_without_address),
            "version": version,
        },
    )


def _has_started(mailing) -> bool:
    """Whether sending began: its deliveries are then the record of who gets it. A mailing
    cancelled while only scheduled never started."""
    if mailing.status == Mailing.Status.CANCELLED:
        return mailing.started_at is not None
    return mailing.status in STARTED


def _render_detail(request, mailing, *, schedule_form=None, status=200):
    staff = is_staff(request.user)
    manageable = may_manage_mailing(request.user, mailing)
    sendable = staff and mailing.status in compose.SENDABLE
    started = _has_started(mailing)
    scheduled = mailing.status == Mailing.Status.SCHEDULED
    progress = progress_shown(mailing) if started else None
    return render(
        request,
        "campaigns/mailing_detail.html",
        {
            "mailing": mailing,
            "title": subject_title(mailing.subject),
            "recipient_labels": recipient_labels(mailing),
            "council_kind_labels": council_kind_labels(mailing),
            "regions": mailing.regions.all(),
            # Once sending has begun, the recorded deliveries say who gets it, not today's rule.
            "audience": None
            if started
            else audience_summary(
                audience_resolve(mailing),
                user=request.user,
                fields=fields_needing_values(mailing.subject, mailing.body),
            ),
            "rate_limit": rate_limit_text(mailing),
            "can_edit": manageable,
            "can_test": manageable or staff,
            "can_submit": manageable
            and not staff
            and mailing.status == Mailing.Status.DRAFT
            and not mailing.approved_by_id,
            "can_approve": staff
            and mailing.owner_region_id is not None
            and mailing.approved_by_id is None
            and mailing.status in (Mailing.Status.DRAFT, Mailing.Status.AWAITING_APPROVAL),
            "can_send": sendable,
            "can_unschedule": staff and scheduled,
            "can_cancel": staff and scheduled,
            "version": compose.mailing_version(mailing.pk) if sendable else None,
            "schedule_form": (schedule_form or ScheduleForm()) if sendable else None,
            "started": started,
            "progress": progress,
            "recorded_count": progress["total"] - progress["suppressed"] if started else None,
        },
        status=status,
    )


def _matches(recipient, words: list[str]) -> bool:
    """Whether every word of a search appears in the recipient's name, address, group or
    council (case-insensitively)."""
    context = recipient.context
    haystack = " ".join(
        (
            recipient.email,
            str(context.get("recipient", {}).get("full_name", "")),
            str(context.get("group", {}).get("name", "")),
            str(context.get("council", {}).get("name", "")),
        )
    ).lower()
    return all(word in haystack for word in words)


def _preview_choice(params, audience) -> dict:
    """The recipient to preview and what the chooser offers.

    The whole audience is resolved anyway (a fixed number of queries), so searching it is a
    filter in memory: any recipient can be found, however large the audience. The recipient
    named in the request wins; otherwise the first match of the search, or the first recipient.
    `params` is the request's GET (the preview) or POST (a test send from the preview).
    """
    query = " ".join(params.get("q", "").split())[:SEARCH_MAX_LENGTH]
    words = query.lower().split()
    everyone = audience.recipients
    matches = [r for r in everyone if _matches(r, words)] if words else everyone
    chosen = params.get("recipient", "").strip().lower()
    recipient = next((r for r in everyone if r.email == chosen), None) if chosen else None
    if recipient is None:
        recipient = (matches or everyone or [None])[0]
    options = matches[:PREVIEW_CHOICES]
    if recipient is not None and all(r.email != recipient.email for r in options):
        options = [recipient, *options]
    return {
        "query": query,
        "recipient": recipient,
        "options": options,
        "match_count": len(matches),
        "unlisted": max(0, len(matches) - PREVIEW_CHOICES),
    }


def _preview_context(mailing, recipient) -> dict:
    """The merge values as sent to this recipient, with an unsubscribe link for the footer that
    looks real but unsubscribes nobody."""
    context = recipient.context if recipient else SAMPLE_CONTEXT
    return {**context, "unsubscribe_url": PreviewLinks().url(mailing_id=mailing.pk)}


def _preview_audience(mailing):
    """Who the preview and test send choose from, and whether they are the recorded ones: once
    sending has begun, its deliveries with the values they were sent with; before, today's
    rule."""
    if mailing.deliveries.exists():
        return audience_recorded(mailing), True
    return audience_resolve(mailing), False


@login_required
@require_GET
def mailing_preview(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    audience, recorded = _preview_audience(mailing)
    choice = _preview_choice(request.GET, audience)
    rendered = render_message(
        subject=mailing.subject,
        body=mailing.body,
        context=_preview_context(mailing, choice["recipient"]),
    )
    return render(
        request,
        "campaigns/mailing_preview.html",
        {
            "mailing": mailing,
            "audience_count": audience.count,
            "missing": missing_report(
                audience, fields_needing_values(mailing.subject, mailing.body)
            ),
            "recorded": recorded,
            "rendered": rendered,
            "can_test": is_staff(request.user) or may_manage_mailing(request.user, mailing),
            **choice,
        },
    )


@login_required
@require_GET
@xframe_options_sameorigin
def mailing_preview_html(request, pk):
    """The HTML version of the message, shown in a sandboxed frame with a policy of its own."""
    mailing = get_mailing_for_user_or_404(request.user, pk)
    recipient = _preview_choice(request.GET, _preview_audience(mailing)[0])["recipient"]
    rendered = render_message(
        subject=mailing.subject, body=mailing.body, context=_preview_context(mailing, recipient)
    )
    response = HttpResponse(rendered.html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = PREVIEW_CSP
    return response


@login_required
@require_POST
def mailing_test_send(request, pk):
    """A copy to oneself, as sent to the recipient being previewed (the preview page's form
    names them), else to the audience's first recipient."""
    mailing = get_mailing_for_user_or_404(request.user, pk)
    if not (is_staff(request.user) or may_manage_mailing(request.user, mailing)):
        raise PermissionDenied
    recipient = _preview_choice(request.POST, _preview_audience(mailing)[0])["recipient"]
    context = recipient.context if recipient else SAMPLE_CONTEXT
    try:
        sending.test_send(mailing=mailing, to_email=request.user.email, context=context)
    except (SendFailure, OSError, sending.MailingError) as exc:
        messages.error(request, f"The test could not be sent: {exc}")
    else:
        shown = f" as sent to {recipient.email}" if recipient else ""
        messages.success(request, f"A test copy{shown} has been sent to {request.user.email}.")
    if request.POST.get("recipient") and recipient is not None:
        preview = reverse("campaigns:mailing_preview", args=[mailing.pk])
        return redirect(f"{preview}?{urlencode({'recipient': recipient.email})}")
    return redirect(mailing)


@login_required
@require_POST
def mailing_submit(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk, manage=True)
    compose.mailing_submit(mailing=mailing, user=request.user)
    messages.success(request, "Sent to the national office for approval.")
    return redirect(mailing)


@login_required
@require_POST
def mailing_approve(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    try:
        compose.mailing_approve(
            mailing=mailing, user=request.user, version=request.POST.get("version")
        )
    except compose.MailingChanged as exc:
        messages.error(request, f"Not approved: {exc}")
    else:
        messages.success(request, "Approved. It can now be sent or scheduled.")
    return redirect(mailing)


def _already_started(request, mailing) -> bool:
    """A second press of Send or Schedule once sending has begun (a double click, say): say so
    on the mailing's page rather than refuse. Only staff may send, so others still get 403."""
    if not is_staff(request.user) or mailing.status not in STARTED:
        return False
    messages.info(request, ALREADY_STARTED[mailing.status])
    return True


@login_required
@require_POST
def mailing_send(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    if _already_started(request, mailing):
        # A second press (a double click, say) lands where the first one did.
        if _has_started(mailing):
            return redirect("campaigns:mailing_sending", pk=mailing.pk)
        return redirect(mailing)
    try:
        started = compose.mailing_send_now(
            mailing=mailing, user=request.user, version=request.POST.get("version")
        )
    except sending.MailingError as exc:
        messages.error(request, f"Not sent: {exc}")
        return redirect(mailing)
    if started:
        messages.success(request, "Sending has started.")
    else:
        # Someone else (or this person, in another tab) started it a moment earlier.
        messages.info(request, ALREADY_STARTED[Mailing.Status.SENDING])
    # The live progress, at the top of its page, rather than far down the mailing's.
    return redirect("campaigns:mailing_sending", pk=mailing.pk)


@login_required
@require_POST
def mailing_schedule(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    if _already_started(request, mailing):
        return redirect(mailing)
    if not is_staff(request.user) or mailing.status not in compose.SENDABLE:
        raise PermissionDenied
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        # The page again, with the problem next to the field.
        return _render_detail(request, mailing, schedule_form=form, status=400)
    when = form.cleaned_data["when"]
    try:
        compose.mailing_schedule_at(
            mailing=mailing, user=request.user, when=when, version=request.POST.get("version")
        )
    except sending.EmptyAudience as exc:
        form.add_error("when", f"Not scheduled: {exc}")
        return _render_detail(request, mailing, schedule_form=form, status=400)
    except sending.MailingError as exc:
        messages.error(request, f"Not scheduled: {exc}")
        return redirect(mailing)
    messages.success(request, f"Scheduled for {timezone.localtime(when):%-d %B %Y at %H:%M}.")
    return redirect(mailing)


@login_required
@require_POST
def mailing_unschedule(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    require_staff(request.user)
    if sending.mailing_unschedule(mailing_id=mailing.pk, user=request.user):
        messages.success(request, "Taken off the schedule: it is a draft again.")
    else:
        messages.warning(request, "It was not scheduled.")
    return redirect(mailing)
