"""Composing mailings: the list, the composer with its live audience count, the preview, a
test send to oneself, and the buttons that submit, approve, send or schedule."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..access import (
    get_mailing_for_user_or_404,
    is_staff,
    mailings_visible_to,
    may_manage_mailing,
    require_composer,
)
from ..audience import audience_resolve, audience_resolve_rule
from ..forms import AudienceForm, MailingForm, ScheduleForm
from ..models import Mailing
from ..rendering import SAMPLE_CONTEXT, render_message
from ..services import compose, sending
from ..smtp import SendFailure

MAILINGS_PER_PAGE = 50
# Groups without an address listed in full before "and N more".
GROUPS_SHOWN = 50
# Recipients offered in the preview's chooser.
PREVIEW_CHOICES = 500
# The sandboxed preview document: no scripts, no network, only the message's own styles.
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)


def audience_summary(audience) -> dict:
    return {
        "count": audience.count,
        "suppressed": audience.suppressed,
        "groups_without_address": [
            {"id": pk, "name": name, "council": council}
            for pk, name, council in audience.groups_without_address
        ],
        "groups_shown": GROUPS_SHOWN,
    }


@login_required
def mailing_list(request):
    require_composer(request.user)
    mailings = mailings_visible_to(request.user).select_related(
        "campaign", "owner_region", "created_by"
    )
    page = Paginator(mailings, MAILINGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "campaigns/mailing_list.html",
        {"page": page, "mailings": page.object_list, "is_staff": is_staff(request.user)},
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
                audience = audience_summary(audience_resolve_rule(**audience_form.rule()))
            form.is_valid()
        elif form.is_valid():
            saved = compose.mailing_save(mailing=mailing, data=form.cleaned_data, user=request.user)
            messages.success(request, "Mailing saved.")
            return redirect(saved)
    elif mailing is not None:
        audience = audience_summary(audience_resolve(mailing))
    return render(
        request,
        "campaigns/mailing_form.html",
        {"form": form, "mailing": mailing, "audience": audience},
    )


@login_required
@require_GET
def audience_count(request):
    """The live count for the composer: the form's audience fields as GET parameters."""
    require_composer(request.user)
    form = AudienceForm(request.GET, user=request.user)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    return JsonResponse(audience_summary(audience_resolve_rule(**form.rule())))


def _url_or_blank(name, mailing):
    """Links to the sending pages, which live in views/sending.py."""
    try:
        return reverse(name, args=[mailing.pk])
    except NoReverseMatch:
        return ""


@login_required
def mailing_detail(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    staff = is_staff(request.user)
    manageable = may_manage_mailing(request.user, mailing)
    sendable = staff and mailing.status in (
        Mailing.Status.DRAFT,
        Mailing.Status.AWAITING_APPROVAL,
        Mailing.Status.SCHEDULED,
    )
    return render(
        request,
        "campaigns/mailing_detail.html",
        {
            "mailing": mailing,
            "regions": mailing.regions.all(),
            "audience": audience_summary(audience_resolve(mailing)),
            "can_edit": manageable,
            "can_test": manageable or staff,
            "can_submit": manageable and not staff and mailing.status == Mailing.Status.DRAFT,
            "can_approve": staff
            and mailing.owner_region_id is not None
            and mailing.approved_by_id is None
            and mailing.status in (Mailing.Status.DRAFT, Mailing.Status.AWAITING_APPROVAL),
            "can_send": sendable,
            "schedule_form": ScheduleForm() if sendable else None,
            "progress_url": _url_or_blank("campaigns:mailing_progress", mailing),
            "sending_url": _url_or_blank("campaigns:mailing_sending", mailing),
            "started": mailing.status
            in (
                Mailing.Status.SENDING,
                Mailing.Status.PAUSED,
                Mailing.Status.SENT,
                Mailing.Status.CANCELLED,
            ),
        },
    )


def _preview_recipient(request, audience):
    chosen = request.GET.get("recipient", "").strip().lower()
    for recipient in audience.recipients:
        if recipient.email == chosen:
            return recipient
    return audience.recipients[0] if audience.recipients else None


@login_required
@require_GET
def mailing_preview(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    audience = audience_resolve(mailing)
    recipient = _preview_recipient(request, audience)
    context = recipient.context if recipient else SAMPLE_CONTEXT
    rendered = render_message(subject=mailing.subject, body=mailing.body, context=context)
    return render(
        request,
        "campaigns/mailing_preview.html",
        {
            "mailing": mailing,
            "recipients": audience.recipients[:PREVIEW_CHOICES],
            "more_recipients": max(0, audience.count - PREVIEW_CHOICES),
            "recipient": recipient,
            "rendered": rendered,
        },
    )


@login_required
@require_GET
@xframe_options_sameorigin
def mailing_preview_html(request, pk):
    """The HTML version of the message, shown in a sandboxed frame with a policy of its own."""
    mailing = get_mailing_for_user_or_404(request.user, pk)
    recipient = _preview_recipient(request, audience_resolve(mailing))
    context = recipient.context if recipient else SAMPLE_CONTEXT
    rendered = render_message(subject=mailing.subject, body=mailing.body, context=context)
    response = HttpResponse(rendered.html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = PREVIEW_CSP
    return response


@login_required
@require_POST
def mailing_test_send(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    if not (is_staff(request.user) or may_manage_mailing(request.user, mailing)):
        raise PermissionDenied
    audience = audience_resolve(mailing)
    recipient = _preview_recipient(request, audience)
    context = recipient.context if recipient else SAMPLE_CONTEXT
    try:
        sending.test_send(mailing=mailing, to_email=request.user.email, context=context)
    except (SendFailure, OSError) as exc:
        messages.error(request, f"The test could not be sent: {exc}")
    else:
        messages.success(request, f"A test copy has been sent to {request.user.email}.")
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
    compose.mailing_approve(mailing=mailing, user=request.user)
    messages.success(request, "Approved. It can now be sent or scheduled.")
    return redirect(mailing)


@login_required
@require_POST
def mailing_send(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    compose.mailing_ready_to_send(mailing=mailing, user=request.user)
    try:
        started = sending.mailing_start(mailing_id=mailing.pk, started_by=request.user)
    except sending.MailingError as exc:
        messages.error(request, f"Not sent: {exc}")
        return redirect(mailing)
    if started:
        messages.success(request, "Sending has started.")
    else:
        messages.warning(request, "This mailing has already been started.")
    return redirect(mailing)


@login_required
@require_POST
def mailing_schedule(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    compose.mailing_ready_to_send(mailing=mailing, user=request.user)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("when", []):
            messages.error(request, f"Not scheduled: {error}")
        return redirect(mailing)
    try:
        sending.mailing_schedule(
            mailing_id=mailing.pk, when=form.cleaned_data["when"], user=request.user
        )
    except sending.MailingError as exc:
        messages.error(request, f"Not scheduled: {exc}")
        return redirect(mailing)
    messages.success(request, f"Scheduled for {form.cleaned_data['when']:%-d %B %Y at %H:%M}.")
    return redirect(mailing)
