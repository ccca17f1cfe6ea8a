"""A mailing's letters by post and their address labels, as PDF downloads, for whoever may
send the mailing (campaigns.access.may_print_letters). Printing the letters is a POST, since it
is recorded; the labels are read only. Both are recorded in the export log: they hold the
groups' postal addresses."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from members.models import ExportLogEntry
from members.services.exports import export_record

from ..access import get_mailing_for_user_or_404, may_print_letters
from ..services.letters import labels_print, letters_print


def _pdf_download(request, pk, print_pdf, *, what: str):
    """The mailing's letters or labels (`what`) as printed by `print_pdf`, recorded in the
    export log; back to the mailing's page if it has no letters."""
    mailing = get_mailing_for_user_or_404(request.user, pk)
    if not may_print_letters(request.user, mailing):
        raise PermissionDenied
    printed = print_pdf(mailing_id=mailing.pk, user=request.user)
    if printed is None:
        messages.info(request, "This mailing has no letters to print.")
        return redirect("campaigns:mailing_sending", pk=mailing.pk)
    export_record(
        by=request.user,
        kind=ExportLogEntry.Kind.MAILING_REPORT,
        subject=f"Mailing {mailing.pk} {what} (PDF): {mailing.subject}",
        rows=printed.count,
    )
    response = HttpResponse(printed.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="mailing-{mailing.pk}-{what}.pdf"'
    return response


@login_required
@require_POST
def mailing_letters(request, pk):
    return _pdf_download(request, pk, letters_print, what="letters")


@login_required
@require_GET
def mailing_labels(request, pk):
    return _pdf_download(request, pk, labels_print, what="labels")
