"""Writes for conference passes: a serving councillor applies for the free ex-officio pass to
the annual conference (once per conference), the national office approves or refuses
applications one at a time or many at once, and the councillor is told each decision.

When the conference's passes are capped (`pass_capacity`), approvals are counted holding the
lock on the conference's row: of two approvals for the last pass made at the same moment, one
gets it and the other waits for a pass, in the order decided. A pass freed by a withdrawal goes
to the first waiting."""

from __future__ import annotations

import csv
import io

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from members.imports import spreadsheet_cell
from members.models import ExportLogEntry
from members.selectors import portal_link
from members.services.exports import export_record
from members.services.notices import notice_queue, occasion_stamp

from ..access import pass_refusal, require_pass_decider
from ..models import Event, PassApplication

Status = PassApplication.Status


@transaction.atomic
def pass_apply(*, event: Event, user) -> PassApplication:
    """Apply for a pass; applying again after withdrawing reopens the same application."""
    refusal = pass_refusal(user, event)
    if refusal is not None:
        raise PermissionDenied(refusal)
    application, created = PassApplication.objects.get_or_create(event=event, user=user)
    application = PassApplication.objects.select_for_update().get(pk=application.pk)
    if created:
        return application
    if not application.is_withdrawn:
        raise ValidationError("You have already applied for a pass to this conference.")
    application.status = Status.PENDING
    application.applied_at = timezone.now()
    application.decided_at = application.decided_by = None
    application.reason = ""
    application._change_reason = "Applied again"
    application.save()
    return application


@transaction.atomic
def pass_withdraw(*, application: PassApplication, user) -> PassApplication:
    """The applicant withdraws; a pass they held goes to the first waiting for one."""
    if application.user_id != user.pk:
        raise PermissionDenied
    event = Event.objects.select_for_update().get(pk=application.event_id)
    application = PassApplication.objects.select_for_update().get(pk=application.pk)
    if not application.can_be_withdrawn:
        raise ValidationError("This application can no longer be withdrawn.")
    held = application.is_approved
    application.status = Status.WITHDRAWN
    application._change_reason = "Withdrawn by the applicant"
    application.save(update_fields=["status"])
    if held:
        passes_give_waiting(event=event)
    return application


def passes_free(event: Event) -> int | None:
    if event.pass_capacity is None:
        return None
    approved = event.pass_applications.filter(status=Status.APPROVED).count()
    return max(0, event.pass_capacity - approved)


def passes_give_waiting(*, event: Event) -> None:
    """Give the passes free now to those approved and waiting, first decided first. Call
    holding the lock on the conference's row."""
    free = passes_free(event)
    waiting = event.pass_applications.filter(status=Status.WAITING).order_by("decided_at", "pk")
    for application in waiting[:free] if free is not None else waiting:
        application.status = Status.APPROVED
        application.decided_at = timezone.now()
        application._change_reason = "A pass became free"
        application.save(update_fields=["status", "decided_at"])
        pass_notice_queue(application=application)


@transaction.atomic
def passes_decide(*, event: Event, application_ids, by, approve: bool, reason: str = "") -> dict:
    """Approve or refuse these pending applications to `event`, in the order they were made.
    Past the cap, an approval waits for a pass. Returns how many ended in each status;
    applications already decided are left as they are (counted as `skipped`)."""
    require_pass_decider(by)
    if not approve and not reason.strip():
        raise ValidationError("Give a reason for refusing.")
    event = Event.objects.select_for_update().get(pk=event.pk)
    applications = list(
        event.pass_applications.select_for_update()
        .filter(pk__in=application_ids)
        .order_by("applied_at", "pk")
    )
    counts = {"approved": 0, "waiting": 0, "refused": 0, "skipped": 0}
    free = passes_free(event)
    for application in applications:
        if not application.can_be_decided:
            counts["skipped"] += 1
            continue
        if not approve:
            application.status = Status.REFUSED
        elif free is None or free > 0:
            application.status = Status.APPROVED
            free = None if free is None else free - 1
        else:
            application.status = Status.WAITING
        application.decided_at, application.decided_by = timezone.now(), by
        application.reason = "" if approve else reason.strip()
        application._history_user = by
        application._change_reason = f"{application.get_status_display()} by {by}"
        application.save()
        counts[application.status] += 1
        pass_notice_queue(application=application)
    return counts


def pass_notice_queue(*, application: PassApplication) -> bool:
    """Tell the applicant where their application stands, once per decision."""
    user = application.user
    if not user.is_active:
        return False
    return notice_queue(
        kind="conference_pass",
        occasion=f"{application.pk}:{application.status}:{occasion_stamp(application.decided_at)}",
        to=user,
        template="events/email/pass_decided",
        context={
            "application": application,
            "event": application.event,
            "link": portal_link("events:detail", application.event_id),
        },
    )


PASSES_HEADER = ["name", "council", "email", "pass_type"]


def passes_approved_csv(*, event: Event, by) -> str:
    """The approved passes of a conference as CSV, recorded in the export log."""
    require_pass_decider(by)
    applications = (
        event.pass_applications.filter(status=Status.APPROVED)
        .select_related("user__councillor__council")
        .order_by("user__full_name", "pk")
    )
    rows = [
        [
            a.user.full_name or a.user.email,
            a.user.councillor.council.name if hasattr(a.user, "councillor") else "",
            a.user.email,
            a.get_pass_type_display(),
        ]
        for a in applications
    ]
    export_record(
        by=by,
        kind=ExportLogEntry.Kind.CONFERENCE_PASSES,
        subject=f"Approved passes for {event.title} (event {event.pk})",
        rows=len(rows),
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PASSES_HEADER)
    writer.writerows([[spreadsheet_cell(value) for value in row] for row in rows])
    return out.getvalue()
