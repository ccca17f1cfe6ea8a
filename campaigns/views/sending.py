"""Watching and steering a mailing being sent, the one-click unsubscribe, and the suppression
list. Progress is visible to whoever may see the mailing. Pausing, resuming, cancelling and
re-sending are national staff's: anyone else is refused outright, and each button is shown, and
its service acts, as its campaigns.access rule allows, so a press that came too late (the
mailing moved on meanwhile) is told so."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from members.models import ExportLogEntry
from members.selectors import national_office_email
from members.services.exports import export_record

from ..access import (
    deliveries_visible_to,
    get_mailing_for_user_or_404,
    get_suppression_for_user_or_404,
    may_cancel_mailing,
    may_pause_mailing,
    may_print_letters,
    may_resend_mailing,
    may_resume_mailing,
    require_staff,
)
from ..forms import ResendForm, SuppressionForm, SuppressionSearchForm
from ..letters import letters_overview
from ..models import Delivery, Mailing, Suppression
from ..rendering import subject_title
from ..selectors import (
    RECENT_BOUNCES,
    mailing_progress_shown,
    report_addresses,
    suppressions_listed,
)
from ..services import lifecycle, report
from ..services.suppression import own_unsubscribe_undo, suppression_add, suppression_remove
from ..unsubscribe import preview_token_read, unsubscribe_token_read

FAILED_SHOWN = 200
# The address lists of the report, each paged on its own: (status, query parameter).
LISTED = (
    (Delivery.Status.FAILED, "failed_page"),
    (Delivery.Status.SUPPRESSED, "suppressed_page"),
    (Delivery.Status.CANCELLED, "cancelled_page"),
)
SUPPRESSIONS_PER_PAGE = 100


def _controls(user, mailing, progress) -> dict:
    """The sending page's buttons, each as its access rule says; Try again only when something
    failed."""
    controls = {
        "can_pause": may_pause_mailing(user, mailing),
        "can_resume": may_resume_mailing(user, mailing),
        "can_cancel": may_cancel_mailing(user, mailing),
        "can_resend": may_resend_mailing(user, mailing) and bool(progress["failed"]),
    }
    # The Control section only when it has something in it.
    controls["show_controls"] = any(controls.values())
    return controls


@login_required
@require_GET
def mailing_sending(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    deliveries = deliveries_visible_to(request.user, mailing)
    lists = {
        status: Paginator(report_addresses(deliveries, status), FAILED_SHOWN).get_page(
            request.GET.get(parameter)
        )
        for status, parameter in LISTED
    }
    progress = mailing_progress_shown(mailing)
    return render(
        request,
        "campaigns/sending.html",
        {
            "mailing": mailing,
            "title": subject_title(mailing.subject),
            "progress": progress,
            "groups": report.report_by_group(deliveries),
            "groups_without_address": mailing.groups_without_address,
            "failed_page": lists[Delivery.Status.FAILED],
            "suppressed_page": lists[Delivery.Status.SUPPRESSED],
            "cancelled_page": lists[Delivery.Status.CANCELLED],
            "resend_form": ResendForm(),
            "letters": letters_overview(mailing),
            "can_print_letters": may_print_letters(request.user, mailing),
            **_controls(request.user, mailing, progress),
        },
    )


@login_required
@require_GET
def mailing_report_csv(request, pk):
    """The report as CSV, one row per address, for whoever may see the report."""
    mailing = get_mailing_for_user_or_404(request.user, pk)
    deliveries = deliveries_visible_to(request.user, mailing)
    export_record(
        by=request.user,
        kind=ExportLogEntry.Kind.MAILING_REPORT,
        subject=f"Mailing {mailing.pk}: {mailing.subject}",
        rows=deliveries.count(),
    )
    lines = report.report_csv_lines(deliveries)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mailing-{mailing.pk}-report.csv"'
    return response


@login_required
@require_GET
def mailing_progress(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    return JsonResponse(mailing_progress_shown(mailing))


def _control(action, done: str, nothing: str):
    @login_required
    @require_POST
    def view(request, pk):
        mailing = get_mailing_for_user_or_404(request.user, pk)
        require_staff(request.user)
        result = action(mailing_id=mailing.pk, user=request.user)
        if result:
            messages.success(request, done.format(count=result))
        else:
            messages.warning(request, nothing)
        if mailing.is_scheduled:
            # Cancelled from the mailing's page before it started: there is no report to see.
            return redirect(mailing)
        return redirect("campaigns:mailing_sending", pk=mailing.pk)

    view.__name__ = action.__name__
    return view


mailing_pause = _control(
    lifecycle.mailing_pause, "Paused. Messages being sent now will finish.", "It is not sending."
)
mailing_resume = _control(lifecycle.mailing_resume, "Sending again.", "It is not paused.")
mailing_cancel = _control(
    lifecycle.mailing_cancel,
    "Cancelled: nothing more will be sent.",
    "It can no longer be cancelled.",
)


@login_required
@require_POST
def mailing_resend_failed(request, pk):
    mailing = get_mailing_for_user_or_404(request.user, pk)
    require_staff(request.user)
    form = ResendForm(request.POST)
    # The page always says which; a request without the choice retries every failure.
    kind = form.cleaned_data["kind"] if form.is_valid() else lifecycle.RETRY_ALL
    result = lifecycle.mailing_resend_failed(mailing_id=mailing.pk, user=request.user, kind=kind)
    if result.retried:
        which = "temporarily failed" if kind == lifecycle.RETRY_TEMPORARY else "failed"
        messages.success(request, f"Trying the {result.retried} {which} addresses again.")
    elif not result.skipped:
        messages.warning(request, "There are no failed addresses of that kind to try again.")
    if result.skipped:
        messages.info(
            request,
            f"{result.skipped} address{'' if result.skipped == 1 else 'es'} now on the "
            "suppression list skipped.",
        )
    return redirect("campaigns:mailing_sending", pk=mailing.pk)


# --- unsubscribe: no login, no session, no CSRF token (RFC 8058 one-click) -------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    found = unsubscribe_token_read(token)
    if found is None:
        if preview_token_read(token):
            # A test copy's or preview's link, followed or posted to: nobody is unsubscribed.
            return render(request, "campaigns/unsubscribe_test_copy.html")
        return render(request, "campaigns/unsubscribe_invalid.html", status=400)
    email, mailing_id = found
    if request.method == "POST":
        suppression_add(
            email=email,
            reason=Suppression.Reason.UNSUBSCRIBED,
            mailing_id=mailing_id if _mailing_exists(mailing_id) else None,
        )
        office = national_office_email()
        context = {"email": email, "national_office_email": office}
        return render(request, "campaigns/unsubscribe_done.html", context)
    return render(request, "campaigns/unsubscribe.html", {"email": email, "token": token})


def _mailing_exists(mailing_id) -> bool:
    return mailing_id is not None and Mailing.objects.filter(pk=mailing_id).exists()


# --- one's own addresses ----------------------------------------------------------------------


@login_required
@require_POST
def own_mailings_resume(request):
    """Receive campaign mailings again at an address one unsubscribed (from the profile)."""
    try:
        suppression_id = int(request.POST.get("suppression", ""))
    except ValueError:
        raise Http404 from None
    # Only the person's own "unsubscribed" entries: any other id is not theirs to lift.
    if not own_unsubscribe_undo(user=request.user, suppression_id=suppression_id):
        raise Http404("No such unsubscription of yours.")
    messages.success(request, "You will receive campaign mailings again.")
    return redirect("profile")


# --- the suppression list (staff) -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def suppression_list(request):
    require_staff(request.user)
    form = SuppressionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        added = suppression_add(
            email=form.cleaned_data["email"],
            reason=Suppression.Reason.STAFF,
            note=form.cleaned_data["note"],
        )
        if added:
            messages.success(request, f"{form.cleaned_data['email']} will not be written to.")
        else:
            messages.info(request, f"{form.cleaned_data['email']} was already suppressed.")
        return redirect("campaigns:suppressions")
    search = SuppressionSearchForm(request.GET, auto_id="suppression-%s")
    query = search.cleaned_data["q"] if search.is_valid() else ""
    recent = request.GET.get("show") == RECENT_BOUNCES
    suppressions = suppressions_listed(request.user, query=query, recent_bounces=recent)
    page = Paginator(suppressions, SUPPRESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    kept = {"q": query, "show": RECENT_BOUNCES if recent else ""}
    context = {"form": form, "search": search, "page": page, "query": query, "recent": recent}
    context["query_string"] = urlencode({k: v for k, v in kept.items() if v})
    return render(request, "campaigns/suppression_list.html", context)


@login_required
@require_POST
def suppression_delete(request, pk):
    require_staff(request.user)
    suppression = get_suppression_for_user_or_404(request.user, pk)
    suppression_remove(suppression_id=suppression.pk)
    messages.success(request, f"{suppression.email} may be written to again.")
    return redirect(reverse("campaigns:suppressions"))
