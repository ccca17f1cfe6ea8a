"""Composing mailings: the list, the composer with its live audience count, the preview, a
test send to oneself, and the buttons that submit, approve, send or schedule."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..access import (
    get_mailing_for_user_or_404,
    is_staff,
    mailings_visible_to,
    may_approve_mailing,
    may_cancel_mailing,
    may_edit_mailing,
    may_send_mailing,
    may_submit_mailing,
    may_test_send_mailing,
    may_unschedule_mailing,
    require_composer,
    require_staff,
)
from ..audience import audience_resolve, audience_resolve_rule
from ..exceptions import EmptyAudience, MailingChanged, MailingError
from ..forms import AudienceForm, MailingForm, ScheduleForm
from ..models import Mailing
from ..rendering import MERGE_FIELDS, fields_needing_values
from ..selectors import (
    audience_summary,
    mailing_overview,
    mailings_for_list,
    merge_values,
    preview_html,
    preview_page,
    preview_recipient,
    send_confirmation,
)
from ..services import compose, lifecycle
from ..services import messages as mailing_messages
from ..services.report import APPROVAL_FILTERS, mailings_filter_approval
from ..smtp import SendFailure

MAILINGS_PER_PAGE = 50
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


def _fields_used(params) -> list[str]:
    """The merge fields the composer says its message uses without a default (`fields`), or,
    without that, those of the subject and body sent."""
    if "fields" in params:
        return [name for name in params.getlist("fields") if name in MERGE_FIELDS]
    return fields_needing_values(params.get("subject", ""), params.get("body", ""))


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
    return render(
        request,
        "campaigns/mailing_list.html",
        {
            "page": page,
            "mailings": mailings_for_list(page.object_list),
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
    mailing = get_mailing_for_user_or_404(request.user, pk)
    if not may_edit_mailing(request.user, mailing):
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
    if request.GET.get("confirm") == "send" and may_send_mailing(request.user, mailing):
        return _render_send_confirm(request, mailing)
    return _render_detail(request, mailing)


def _render_send_confirm(request, mailing):
    """The step between Send now and sending: what goes to how many, and the final button.
    It carries the version of the page Send now was pressed on, so a change made meanwhile
    stops the send rather than going out unseen."""
    version = request.GET.get("version", "")
    if not version.isdigit():
        version = compose.mailing_version(mailing.pk)
    context = {**send_confirmation(mailing), "version": version}
    return render(request, "campaigns/mailing_send_confirm.html", context)


def _actions(user, mailing) -> dict:
    """What the mailing's page offers this person: each button as its access rule says. Once
    sending has begun, pausing and cancelling are on the sending page."""
    return {
        "can_edit": may_edit_mailing(user, mailing),
        "can_test": may_test_send_mailing(user, mailing),
        "can_submit": may_submit_mailing(user, mailing),
        "can_approve": may_approve_mailing(user, mailing),
        "can_send": may_send_mailing(user, mailing),
        "can_unschedule": may_unschedule_mailing(user, mailing),
        "can_cancel": may_cancel_mailing(user, mailing) and not mailing.sending_began,
    }


def _render_detail(request, mailing, *, schedule_form=None, status=200):
    context = mailing_overview(mailing, user=request.user)
    context.update(_actions(request.user, mailing))
    if context["can_send"] or context["can_approve"]:
        # The Approve, Send and Schedule forms carry the version of the page they were on.
        context["version"] = compose.mailing_version(mailing.pk)
    if context["can_send"]:
        # A scheduled mailing's form shows its time, to change it.
        initial = {"when": mailing.scheduled_for} if mailing.is_scheduled else None
        context["schedule_form"] = schedule_form or ScheduleForm(initial=initial)
    return render(request, "campaigns/mailing_detail.html", context, status=status)


def _preview_params(params) -> dict:
    """The preview's search (`q`) and chosen recipient (`recipient`), from its GET or from the
    test send's POST."""
    return {"query": params.get("q", ""), "chosen": params.get("recipient", "")}


@login_required
@require_GET
def mailing_preview(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    context = preview_page(mailing, **_preview_params(request.GET))
    context["can_test"] = may_test_send_mailing(request.user, mailing)
    return render(request, "campaigns/mailing_preview.html", context)


@login_required
@require_GET
@xframe_options_sameorigin
def mailing_preview_html(request, pk):
    """The HTML version of the message, shown in a sandboxed frame with a policy of its own."""
    mailing = get_mailing_for_user_or_404(request.user, pk)
    html = preview_html(mailing, **_preview_params(request.GET))
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = PREVIEW_CSP
    return response


@login_required
@require_POST
def mailing_test_send(request, pk):
    """A copy to oneself, as sent to the recipient being previewed (the preview page's form
    names them), else to the audience's first recipient."""
    mailing = get_mailing_for_user_or_404(request.user, pk)
    if not may_test_send_mailing(request.user, mailing):
        raise PermissionDenied
    recipient = preview_recipient(mailing, **_preview_params(request.POST))
    to_email = request.user.email
    try:
        mailing_messages.mailing_test_send(
            mailing=mailing, to_email=to_email, context=merge_values(recipient)
        )
    except (SendFailure, OSError, MailingError) as exc:
        messages.error(request, f"The test could not be sent: {exc}")
    else:
        shown = f" as sent to {recipient.email}" if recipient else ""
        messages.success(request, f"A test copy{shown} has been sent to {to_email}.")
    if request.POST.get("recipient") and recipient is not None:
        preview_url = reverse("campaigns:mailing_preview", args=[mailing.pk])
        return redirect(f"{preview_url}?{urlencode({'recipient': recipient.email})}")
    return redirect(mailing)


@login_required
@require_POST
def mailing_submit(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
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
    except MailingChanged as exc:
        messages.error(request, f"Not approved: {exc}")
    else:
        messages.success(request, "Approved. It can now be sent or scheduled.")
    return redirect(mailing)


def _already_started(request, mailing) -> bool:
    """A second press of Send or Schedule once sending has begun (a double click, say): say so
    on the mailing's page rather than refuse. Only staff may send, so others still get 403."""
    if not is_staff(request.user) or mailing.is_before_sending:
        return False
    messages.info(request, ALREADY_STARTED[mailing.status])
    return True


@login_required
@require_POST
def mailing_send(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    if _already_started(request, mailing):
        # A second press (a double click, say) lands where the first one did.
        if mailing.sending_began:
            return redirect("campaigns:mailing_sending", pk=mailing.pk)
        return redirect(mailing)
    try:
        started = compose.mailing_send_now(
            mailing=mailing, user=request.user, version=request.POST.get("version")
        )
    except MailingError as exc:
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
    if not may_send_mailing(request.user, mailing):
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
    except EmptyAudience as exc:
        form.add_error("when", f"Not scheduled: {exc}")
        return _render_detail(request, mailing, schedule_form=form, status=400)
    except MailingError as exc:
        messages.error(request, f"Not scheduled: {exc}")
        return redirect(mailing)
    messages.success(request, f"Scheduled for {timezone.localtime(when):%-d %B %Y at %H:%M}.")
    return redirect(mailing)


@login_required
@require_POST
def mailing_unschedule(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    require_staff(request.user)
    if lifecycle.mailing_unschedule(mailing_id=mailing.pk, user=request.user):
        messages.success(request, "Taken off the schedule: it is a draft again.")
    else:
        messages.warning(request, "It was not scheduled.")
    return redirect(mailing)
