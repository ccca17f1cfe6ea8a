"""Writes for bringing new councillors in: join requests, invitations, councillors added by a
representative, CSV imports, and the appointment of regional representatives."""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from members import imports
from members.access import address_change_refusal
from members.models import (
    Councillor,
    CouncillorImport,
    Decision,
    JoinRequest,
    LevyWaiver,
    ProfileChange,
    StaffRole,
    User,
)
from members.tokens import invitation_token_generator
from regions.models import Council, GroupOfficer, RegionalRepresentative

log = logging.getLogger(__name__)

LEFT_ON_FUTURE = (
    "The date cannot be in the future. Come back on the day they stop being a councillor, or "
    "enter a date that has passed."
)

# Advisory-lock namespace, so two workers never apply the same import at once.
IMPORT_LOCK_BASE = 7_300_000_000
# Two-key advisory locks (namespace, key): one per lower-cased email address, so two requests
# creating an account for the same address take turns; one per region, so two imports for a
# region are applied one after the other.
EMAIL_LOCK_SPACE = 7301
REGION_IMPORT_LOCK_SPACE = 7302
EXISTING_ACCOUNT_NOTICE_INTERVAL = 60 * 60


def _email_lock(email: str) -> None:
    """Wait for, and hold until the transaction ends, the right to act on this address.

    Whoever comes second sees, once it has the lock, what the first one committed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [EMAIL_LOCK_SPACE, email.lower()]
        )


def _region_import_lock(region_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [REGION_IMPORT_LOCK_SPACE, region_id]
        )


def _user_create_invited_or_refuse(*, email: str, full_name: str, in_use) -> User:
    """Create the invited account, or raise `in_use` (a ValidationError) if the address already
    has one, including one created a moment ago by a request that did not take the address lock
    (someone adding the address to their own account, say)."""
    if imports.email_in_use(email):
        raise in_use
    try:
        with transaction.atomic():
            return _user_create_invited(email=email, full_name=full_name)
    except IntegrityError:
        if imports.email_in_use(email):
            raise in_use from None
        raise


def _user_create_invited(*, email: str, full_name: str) -> User:
    """A new account that cannot log in until the person sets a password from their invitation.

    The address is recorded unverified: following the invitation link is what proves it.
    """
    user = User.objects.create_user(email=email, password=None, full_name=full_name)
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    return user


def _queue_invitation(join_request_id: int) -> None:
    from members.tasks import invitation_send

    transaction.on_commit(lambda: invitation_send.delay(join_request_id))


@transaction.atomic
def join_request_submit(
    *, full_name: str, email: str, council: Council, ward: str
) -> JoinRequest | None:
    """Record a request to join, or, if the address already belongs to an account, make none
    and email that address a note saying so instead. A request still waiting for the same
    address and council is returned instead of a second one (a double-clicked form, say).

    The caller thanks the person the same way either way, so the public form never tells a
    stranger which addresses have accounts.
    """
    email = email.strip().lower()
    _email_lock(email)
    if imports.email_in_use(email):
        _queue_existing_account_notice(email)
        return None
    waiting = JoinRequest.objects.filter(
        email__iexact=email, council=council, status=Decision.PENDING
    ).first()
    if waiting is not None:
        return waiting
    join_request = JoinRequest.objects.create(
        full_name=full_name, email=email, council=council, ward=ward
    )
    from members.tasks import join_request_notify

    transaction.on_commit(lambda: join_request_notify.delay(join_request.pk))
    return join_request


def portal_link(name: str, *args) -> str:
    return settings.PORTAL_URL.rstrip("/") + reverse(name, args=args)


def national_staff_to_notify() -> list[User]:
    return list(
        User.objects.filter(is_active=True, pk__in=StaffRole.objects.values("user_id")).order_by(
            "pk"
        )
    )


def deciders_in_regions(region_ids) -> tuple[list[User], bool]:
    """Who is told of a request to decide: the current representatives of these regions, or,
    while none has one, the national office staff; and whether they are representatives."""
    representatives = list(
        User.objects.filter(
            is_active=True,
            representative_roles__in=RegionalRepresentative.objects.current().filter(
                region_id__in=region_ids
            ),
        )
        .distinct()
        .order_by("pk")
    )
    if representatives:
        return representatives, True
    return national_staff_to_notify(), False


def join_request_deciders(join_request: JoinRequest) -> tuple[list[User], bool]:
    """Who is told of a new join request: those who decide for the council's region."""
    return deciders_in_regions([join_request.council.region_id])


def join_request_notify(*, join_request_id: int) -> int:
    """Email those who decide a new join request that it is waiting, once. Returns how many
    were told (0 if it was done already, or if the request has been decided meanwhile).

    Each gets a message of their own, so nobody learns who else was told. The request stays
    locked while the messages go out, so a second run finds `notified_at` set and does nothing.
    """
    with transaction.atomic():
        join_request = (
            JoinRequest.objects.select_for_update(of=("self",))
            .select_related("council__region")
            .filter(pk=join_request_id, status=Decision.PENDING, notified_at__isnull=True)
            .first()
        )
        if join_request is None:
            return 0
        deciders, has_representative = join_request_deciders(join_request)
        context = {
            "join_request": join_request,
            "council": join_request.council,
            "region": join_request.council.region,
            "has_representative": has_representative,
            "link": portal_link("join_requests"),
        }
        for decider in deciders:
            _email_send(
                template="members/email/join_request_notice",
                context={**context, "recipient": decider},
                to=decider.email,
            )
        join_request.notified_at = timezone.now()
        join_request.save(update_fields=["notified_at"])
    return len(deciders)


def _queue_existing_account_notice(email: str) -> None:
    # At most one note an hour to an address, however often someone types it into the form.
    key = "join-existing-account:" + hashlib.sha256(email.encode()).hexdigest()
    if not cache.add(key, 1, timeout=EXISTING_ACCOUNT_NOTICE_INTERVAL):
        return
    from members.tasks import existing_account_notice_send

    transaction.on_commit(lambda: existing_account_notice_send.delay(email))


def existing_account_notice_send(*, email: str) -> bool:
    """Tell the owner of an address that someone asked to join with it, and how to log in, or,
    if their account is closed, whom to ask to open it again.

    Sent only to an address an account logs in with or has verified: an unconfirmed extra
    address may not be the account holder's (and does not stop a request, see emails_in_use).
    Nothing from the request itself (the name or council typed by whoever filled in the form)
    goes into the message.
    """
    user = _account_for_notice(email)
    if user is None:
        return False
    from members.services.profile import national_office_email

    portal = settings.PORTAL_URL.rstrip("/")
    context = {
        "user": user,
        "email": email,
        "closed": not user.is_active,
        "national_office_email": national_office_email(),
        "login_link": portal + reverse("account_login"),
        "reset_link": portal + reverse("account_reset_password"),
    }
    _email_send(template="members/email/existing_account", context=context, to=email)
    return True


def _account_for_notice(email: str) -> User | None:
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user
    address = (
        EmailAddress.objects.select_related("user")
        .filter(email__iexact=email, verified=True)
        .first()
    )
    return address.user if address else None


def _email_send(*, template: str, context: dict, to: str) -> None:
    """Send a message in plain text and HTML from `<template>.txt`, `.html` and `_subject.txt`."""
    subject = render_to_string(f"{template}_subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string(f"{template}.txt", context),
        to=[to],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()


@transaction.atomic
def join_request_approve(*, join_request: JoinRequest, by: User) -> Councillor | None:
    """Create the account and councillor profile, and send the invitation once this commits.

    If the address has come to belong to an account since the request was made, no second
    account is made: the request is closed with that reason and the address's owner is told,
    as at the time of asking, how to sign in (None is returned)."""
    join_request = JoinRequest.objects.select_for_update().get(pk=join_request.pk)
    if join_request.status != Decision.PENDING:
        raise ValidationError("This request has already been decided.")
    _email_lock(join_request.email)
    try:
        user = _user_create_invited_or_refuse(
            email=join_request.email, full_name=join_request.full_name, in_use=_AddressTaken()
        )
    except _AddressTaken:
        join_request.decision_record(by=by, approve=False, reason=JOIN_ADDRESS_TAKEN)
        join_request.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        _queue_existing_account_notice(join_request.email)
        return None
    councillor = Councillor(user=user, council=join_request.council, ward=join_request.ward)
    councillor._change_reason = "Join request approved"
    councillor.save()
    join_request.decision_record(by=by, approve=True)
    join_request.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    _queue_invitation(join_request.pk)
    return councillor


class _AddressTaken(Exception):
    pass


JOIN_ADDRESS_TAKEN = (
    "The address already has an account, so no new one was made. Its owner has been told how "
    "to sign in."
)


@transaction.atomic
def join_request_refuse(*, join_request: JoinRequest, by: User, reason: str) -> JoinRequest:
    join_request = JoinRequest.objects.select_for_update().get(pk=join_request.pk)
    if join_request.status != Decision.PENDING:
        raise ValidationError("This request has already been decided.")
    join_request.decision_record(by=by, approve=False, reason=reason)
    join_request.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    return join_request


@transaction.atomic
def councillor_add(
    *, council: Council, full_name: str, email: str, ward: str, phone: str, by: User
) -> Councillor:
    """A councillor added by their representative. An approved join request records who added
    them and when the invitation went, exactly as for someone who asked to join."""
    email = email.strip().lower()
    _email_lock(email)
    in_use = ValidationError({"email": "This email address already has an account."})
    user = _user_create_invited_or_refuse(email=email, full_name=full_name, in_use=in_use)
    councillor = Councillor(user=user, council=council, ward=ward, phone=phone)
    councillor._change_reason = "Added by a representative"
    councillor.save()
    record = JoinRequest.objects.create(
        full_name=full_name,
        email=email,
        council=council,
        ward=ward,
        status=Decision.APPROVED,
        asked_to_join=False,
        decided_by=by,
        decided_at=timezone.now(),
        reason="Added by a representative.",
    )
    _queue_invitation(record.pk)
    return councillor


@transaction.atomic
def councillor_update(
    *, councillor: Councillor, full_name: str, ward: str, phone: str
) -> Councillor:
    user = councillor.user
    if user.full_name != full_name:
        user.full_name = full_name
        user._change_reason = "Name changed by a representative"
        user.save(update_fields=["full_name"])
    councillor.ward = ward
    councillor.phone = phone
    councillor._change_reason = "Edited by a representative"
    councillor.save(update_fields=["ward", "phone"])
    return councillor


def group_offices_end(
    *,
    user_ids,
    on: date,
    reason: str,
    by: User | None = None,
    councils_kept: dict[int, int] | None = None,
) -> int:
    """End, on `on`, the offices these people hold in council Labour groups: those still open
    and those due to end later. Call inside a transaction. Returns how many ended.

    `councils_kept` maps a person to the council they now sit on: their offices in that
    council's group go on (a councillor who moves council leaves only the old group's offices).
    An office that began after `on` ends the day it began, as the database allows no term to
    end before it starts.
    """
    councils_kept = councils_kept or {}
    offices = (
        GroupOfficer.objects.select_for_update(of=("self",))
        .select_related("group")
        .filter(user_id__in=list(user_ids))
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
        .order_by("pk")
    )
    ended = 0
    for office in offices:
        if office.group.council_id == councils_kept.get(office.user_id):
            continue
        office.end_date = max(on, office.start_date)
        office._change_reason = reason
        if by is not None:
            office._history_user = by
        office.save(update_fields=["end_date"])
        ended += 1
    return ended


LEFT_REQUESTS_CLOSED = "Closed: no longer a councillor"


@transaction.atomic
def councillor_mark_left(
    *, councillor: Councillor, left_on: date | None = None, by: User | None = None
) -> Councillor:
    """Record that someone is no longer a councillor from `left_on` (today by default), end
    the group offices they hold on the same day (only a serving councillor holds one), and close
    their pending council or ward change and levy waiver applications, which only a serving
    councillor may make. Closed requests are refused with a reason and keep their history.

    A future date is refused: the portal would count them as gone at once. An office that began
    after `left_on` ends the day it began, as the database allows no term to end before it starts.
    """
    today = timezone.localdate()
    left_on = left_on or today
    if left_on > today:
        raise ValidationError({"left_on": LEFT_ON_FUTURE})
    councillor = Councillor.objects.select_for_update().get(pk=councillor.pk)
    councillor.left_on = left_on
    councillor._change_reason = "No longer a councillor"
    if by is not None:
        councillor._history_user = by
    councillor.save(update_fields=["left_on"])
    group_offices_end(
        user_ids=[councillor.user_id],
        on=left_on,
        reason="Term ended: no longer a councillor",
        by=by,
    )
    pending = [
        *ProfileChange.objects.select_for_update().filter(
            councillor=councillor, status=Decision.PENDING
        ),
        *LevyWaiver.objects.select_for_update().filter(
            councillor=councillor, status=Decision.PENDING
        ),
    ]
    for request in pending:
        request.decision_record(by=by, approve=False, reason=LEFT_REQUESTS_CLOSED)
        request._change_reason = LEFT_REQUESTS_CLOSED
        if by is not None:
            request._history_user = by
        request.save()
    return councillor


def invitation_link(user: User) -> str:
    """The link that lets the person set their password, valid for INVITATION_DAYS."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_token_generator.make_token(user)
    path = reverse("invitation_accept", args=[uid, token])
    return settings.PORTAL_URL.rstrip("/") + path


def invitation_expires(issued=None):
    """When an invitation made now (or at `issued`) stops working."""
    return invitation_token_generator.expires_at(issued or timezone.now())


def invitation_left_before_accepting(user: User) -> bool:
    """Whether the person was marked as no longer a councillor: their invitation is void."""
    return Councillor.objects.filter(user=user, left_on__isnull=False).exists()


def invitation_send(*, join_request_id: int) -> bool:
    """Email the invitation for an approved join request, once. Returns whether it was sent.

    The request stays locked while the message goes out and `invited_at` is set in the same
    transaction, so a second run (a retry, a duplicate task) finds it sent and does nothing.
    """
    with transaction.atomic():
        join_request = (
            JoinRequest.objects.select_for_update(of=("self",))
            .select_related("council")
            .filter(pk=join_request_id, status=Decision.APPROVED, invited_at__isnull=True)
            .first()
        )
        if join_request is None:
            return False
        user = User.objects.filter(email__iexact=join_request.email, is_active=True).first()
        if user is None or invitation_left_before_accepting(user):
            return False
        context = {
            "user": user,
            "council": join_request.council,
            "link": invitation_link(user),
            "expires": invitation_expires(),
        }
        _email_send(template="members/email/invitation", context=context, to=user.email)
        join_request.invited_at = timezone.now()
        join_request.save(update_fields=["invited_at"])
    return True


@transaction.atomic
def invitation_accept(*, user: User, password: str) -> User:
    """The person followed their invitation: set their password and trust their address.

    Following the link proves the address, so it becomes this account's: any other account that
    had added it without confirming it loses it. Refused (ValidationError) for someone marked as
    no longer a councillor before accepting, and if another account confirmed the address first.
    """
    if invitation_left_before_accepting(user):
        raise ValidationError(INVITATION_AFTER_LEAVING)
    _email_lock(user.email)
    others = EmailAddress.objects.filter(email__iexact=user.email).exclude(user=user)
    if others.filter(verified=True).exists():
        raise ValidationError(ADDRESS_CONFIRMED_ELSEWHERE)
    others.delete()
    user.set_password(password)
    user.save(update_fields=["password"])
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
    return user


ADDRESS_CONFIRMED_ELSEWHERE = (
    "This email address has already been confirmed by another account, so this invitation "
    "cannot use it. Ask your regional representative or the national office for help."
)
INVITATION_AFTER_LEAVING = (
    "You are recorded as no longer a councillor, so this invitation no longer works. If this is "
    "wrong, ask your regional representative or the national office to correct it."
)


def invitation_renew_request(*, email: str) -> bool:
    """Someone whose invitation link has expired asks for a new one at this address.

    A new invitation goes only to a serving councillor whose invitation is still pending, and
    not while one is already on its way. The caller answers the same whatever this returns, so
    that the form never tells a stranger which addresses have accounts.
    """
    email = email.strip().lower()
    with transaction.atomic():
        _email_lock(email)
        user = User.objects.select_for_update().filter(email__iexact=email, is_active=True).first()
        councillor = Councillor.objects.filter(user=user).first() if user is not None else None
        if councillor is None or councillor.left_on is not None or not invitation_pending(user):
            return False
        queued_since = timezone.now() - timedelta(seconds=INVITATION_RESEND_INTERVAL)
        if JoinRequest.objects.filter(
            email__iexact=user.email,
            status=Decision.APPROVED,
            invited_at__isnull=True,
            decided_at__gte=queued_since,
        ).exists():
            return False
        _invitation_record_and_queue(
            councillor=councillor,
            user=user,
            by=None,
            reason="Invitation sent again: the person asked for a new link.",
        )
    return True


# CSV imports


def councillor_import_preview(*, region, uploaded_by: User, filename: str, raw: bytes):
    """Check an uploaded file and keep it, with its row-by-row report, until it is confirmed.

    Raises imports.ImportFileError when the file as a whole cannot be read.
    """
    text, warnings = imports.decode_upload_noting(raw)
    rows = imports.read_rows(text)
    plan = imports.import_plan(rows, region=region)
    plan["warnings"] = warnings
    return CouncillorImport.objects.create(
        region=region,
        uploaded_by=uploaded_by,
        filename=filename[:255],
        content=text,
        total_rows=len(rows),
        report=plan,
    )


def councillor_import_confirm(*, councillor_import: CouncillorImport) -> CouncillorImport:
    """Apply a previewed import: at once for small files, as a background job for large ones.

    Refused (ValidationError) while the report has errors or if it was confirmed already. An
    import that failed for a reason other than its file (see councillor_import_recoverable) may
    be confirmed again.
    """
    with transaction.atomic():
        imp = (
            CouncillorImport.objects.select_for_update(of=("self",))
            .select_related("region", "uploaded_by")
            .get(pk=councillor_import.pk)
        )
        if imp.status != CouncillorImport.Status.PREVIEWED and not councillor_import_recoverable(
            imp
        ):
            raise ValidationError("This import has already been confirmed.")
        if imp.report.get("counts", {}).get("error"):
            raise ValidationError(
                "The file has errors. Correct them and upload the file again; nothing has been "
                "imported."
            )
        imp.report.pop("error", None)
        if imp.total_rows > imports.BACKGROUND_ROWS:
            imp.status = CouncillorImport.Status.QUEUED
            imp.processed_rows = 0
            imp.report["queued_at"] = timezone.now().isoformat()
            imp.save(update_fields=["status", "processed_rows", "report"])
            transaction.on_commit(lambda: _queue_import(imp.pk))
        else:
            _region_import_lock(imp.region_id)
            plan = _plan_write(imp)
            imp.report = plan
            if plan["counts"]["error"]:
                imp.status = CouncillorImport.Status.PREVIEWED
                imp.save(update_fields=["report", "status"])
            else:
                imp.status = CouncillorImport.Status.DONE
                imp.processed_rows = imp.total_rows
                imp.content = ""  # applied: the report is the record, the file is not kept
                imp.save(update_fields=["report", "status", "processed_rows", "content"])
    if imp.status == CouncillorImport.Status.QUEUED:
        # Queued once the transaction committed: if that failed (the broker is down), the
        # import was marked as failed and may be confirmed again.
        imp.refresh_from_db(fields=["status", "report"])
        if imp.status == CouncillorImport.Status.FAILED:
            raise ValidationError(imp.report.get("error") or IMPORT_NOT_STARTED)
        return imp
    if imp.status != CouncillorImport.Status.DONE:
        raise ValidationError(
            "The councillors changed since the preview and the file now has errors: see the "
            "report. Nothing has been imported."
        )
    return imp


IMPORT_NOT_STARTED = (
    "The import could not be started because the background job service is not answering. "
    "Nothing has been imported. Try again in a few minutes."
)
IMPORT_INTERRUPTED = (
    "The import stopped because of a problem on the portal, not in the file, and nothing was "
    "saved. Try again; if it fails again, tell the national office."
)
# An import still queued or running after this long, with no worker holding it, is queued again.
IMPORT_STUCK_MINUTES = 15


def councillor_import_recoverable(imp: CouncillorImport) -> bool:
    """Whether a failed import may simply be tried again: it failed for a reason other than
    its file (a worker or database problem), and the file is still kept."""
    return (
        imp.status == CouncillorImport.Status.FAILED
        and bool(imp.content)
        and bool(imp.report.get("error"))
    )


def _queue_import(import_id: int) -> bool:
    """Queue the background job for an import; if the broker cannot take it, mark the import
    as failed (with the reason) so that it can be confirmed again, instead of an error page."""
    from members.tasks import councillor_import_run

    try:
        councillor_import_run.delay(import_id)
    except Exception:
        log.exception("Could not queue councillor import %s", import_id)
        _import_fail(import_id, IMPORT_NOT_STARTED, statuses=[CouncillorImport.Status.QUEUED])
        return False
    return True


def _import_fail(import_id: int, reason: str, *, statuses) -> None:
    """Mark an import as failed for `reason`, keeping its file so it can be tried again."""
    with transaction.atomic():
        imp = (
            CouncillorImport.objects.select_for_update()
            .filter(pk=import_id, status__in=statuses)
            .first()
        )
        if imp is None:
            return
        imp.report["error"] = reason
        imp.status = CouncillorImport.Status.FAILED
        imp.processed_rows = 0
        imp.save(update_fields=["report", "status", "processed_rows"])


def councillor_imports_requeue_stuck(*, minutes: int = IMPORT_STUCK_MINUTES) -> list[int]:
    """Queue again the imports queued or running for more than `minutes` that no worker holds
    (the job was lost with the broker's data, or its worker died). Returns their ids.

    A worker applying an import holds its advisory lock until it commits or rolls back, so an
    import whose lock is free is not being applied; running the job twice is harmless.
    """
    Status = CouncillorImport.Status
    cutoff = timezone.now() - timedelta(minutes=minutes)
    requeued = []
    candidates = CouncillorImport.objects.filter(
        status__in=[Status.QUEUED, Status.RUNNING], uploaded_at__lt=cutoff
    ).values_list("pk", "report__queued_at")
    for pk, queued_at in candidates:
        if queued_at and datetime.fromisoformat(queued_at) >= cutoff:
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [IMPORT_LOCK_BASE + pk])
            if not cursor.fetchone()[0]:
                continue  # a worker is applying it now
            cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK_BASE + pk])
        CouncillorImport.objects.filter(pk=pk).update(status=Status.QUEUED, processed_rows=0)
        if _queue_import(pk):
            requeued.append(pk)
    return requeued


def invitations_requeue_unsent(*, minutes: int = IMPORT_STUCK_MINUTES, days: int = 7) -> list[int]:
    """Queue again the invitations of approved join requests that were never sent (their job
    was lost), for people who have still not set a password. Returns the join requests' ids.

    Requests decided in the last `minutes` may still be on their way; those older than `days`
    are left to the representative, who can send the invitation again from the councillor's
    page. Only the newest unsent request per address is queued, so nobody gets two.
    """
    now = timezone.now()
    waiting = User.objects.filter(
        email__iexact=OuterRef("email"),
        is_active=True,
        last_login__isnull=True,
        password__startswith=UNUSABLE_PASSWORD_PREFIX,
        # Someone marked as left meanwhile is not invited (invitation_send refuses them).
        councillor__left_on__isnull=True,
    )
    unsent = (
        JoinRequest.objects.filter(
            status=Decision.APPROVED,
            invited_at__isnull=True,
            decided_at__lt=now - timedelta(minutes=minutes),
            decided_at__gte=now - timedelta(days=days),
        )
        .filter(Exists(waiting))
        .order_by("-decided_at", "-pk")
        .values_list("pk", "email")
    )
    newest: dict[str, int] = {}
    for pk, email in unsent:
        newest.setdefault(email.lower(), pk)
    for pk in newest.values():
        _queue_invitation(pk)
    return sorted(newest.values())


def _plan_write(imp: CouncillorImport, on_progress=None) -> dict:
    """Check the import's file against the councillors as they are now and, if it has no
    errors, write it. Returns the plan: if it has errors, nothing was written.

    Call inside a transaction holding the region's import lock. Imports for the region take
    turns, but an address can still be given an account meanwhile another way (a
    representative adding someone, an import for another region): the write then fails on the
    unique address, is undone, and the file is checked again, which reports the address as in
    use.
    """
    plan = imports.import_plan(imports.read_rows(imp.content), region=imp.region)
    if plan["counts"]["error"]:
        return plan
    try:
        with transaction.atomic():
            _write_plan(
                plan,
                by=imp.uploaded_by,
                reason=f"Import of {imp.filename}",
                on_progress=on_progress,
            )
    except IntegrityError:
        plan = imports.import_plan(imports.read_rows(imp.content), region=imp.region)
        if not plan["counts"]["error"]:
            raise
    return plan


def councillor_import_run(*, import_id: int) -> str:
    """Apply a queued import in one transaction, reporting progress as it goes.

    Progress is written through a second database connection, so the page polling it sees
    rows counted while the import's own transaction is still open. Safe to run twice.
    """
    Status = CouncillorImport.Status
    claimed = CouncillorImport.objects.filter(
        pk=import_id, status__in=[Status.QUEUED, Status.RUNNING]
    ).update(status=Status.RUNNING, processed_rows=0)
    if not claimed:
        return "not queued"

    table = CouncillorImport._meta.db_table
    progress_db = connections.create_connection(DEFAULT_DB_ALIAS)

    def report_progress(count: int) -> None:
        with progress_db.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET processed_rows = %s WHERE id = %s",  # noqa: S608
                [count, import_id],
            )

    try:
        with transaction.atomic():
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_BASE + import_id])
            imp = CouncillorImport.objects.select_related("region", "uploaded_by").get(pk=import_id)
            if imp.status != Status.RUNNING:
                return "already finished"
            _region_import_lock(imp.region_id)
            plan = _plan_write(imp, on_progress=report_progress)
            if plan["counts"]["error"]:
                CouncillorImport.objects.filter(pk=import_id).update(
                    status=Status.FAILED, report=plan, processed_rows=0, content=""
                )
                return "failed: the file has errors"
            progress_db.close()
            CouncillorImport.objects.filter(pk=import_id).update(
                status=Status.DONE, report=plan, processed_rows=imp.total_rows, content=""
            )
    except Exception:
        # Nothing was written (the transaction rolled back); the file is kept so that the
        # person can try again once the cause has gone.
        log.exception("Councillor import %s failed", import_id)
        _import_fail(import_id, IMPORT_INTERRUPTED, statuses=[Status.RUNNING])
        raise
    finally:
        progress_db.close()
    return "done"


def _write_plan(plan: dict, *, by: User | None, reason: str, on_progress=None) -> None:
    """Write the rows of an error-free plan, in chunks. Call inside a transaction."""
    all_rows = plan["rows"]
    size = settings.IMPORT_CHUNK_ROWS
    for start in range(0, len(all_rows), size):
        chunk = all_rows[start : start + size]
        _write_chunk(
            [row for row in chunk if row["action"] in ("create", "update")], by=by, reason=reason
        )
        if on_progress:
            on_progress(start + len(chunk))


def _write_chunk(rows: list[dict], *, by: User | None, reason: str) -> None:
    creates = [row for row in rows if row["action"] == "create"]
    # A planned creation is always a new person: the plan refuses any address already in use.
    new_users = [
        User(email=row["email"], full_name=row["full_name"], password=make_password(None))
        for row in creates
    ]
    if new_users:
        bulk_create_with_history(new_users, User, default_user=by, default_change_reason=reason)
        EmailAddress.objects.bulk_create(
            EmailAddress(user=user, email=user.email, verified=False, primary=True)
            for user in new_users
        )
    user_ids = {user.email: user.pk for user in new_users}
    _invite_imported(new_users, creates, by=by, reason=reason)
    if creates:
        bulk_create_with_history(
            [
                Councillor(
                    user_id=user_ids[row["email"]],
                    council_id=row["council_id"],
                    ward=row["ward"],
                    phone=row["phone"],
                )
                for row in creates
            ],
            Councillor,
            default_user=by,
            default_change_reason=reason,
        )

    updates = {row["councillor_id"]: row for row in rows if row["action"] == "update"}
    if not updates:
        return
    councillors = Councillor.objects.select_related("user").in_bulk(list(updates))
    renamed, moved = [], {}
    for pk, councillor in councillors.items():
        row = updates[pk]
        changes = row["changes"]
        if "full_name" in changes:
            councillor.user.full_name = row["full_name"]
            renamed.append(councillor.user)
        if "council" in changes:
            moved[councillor.user_id] = row["council_id"]
        councillor.council_id = row["council_id"]
        councillor.ward = row["ward"]
        if "phone" in changes:
            councillor.phone = row["phone"]
        councillor.left_on = None
    bulk_update_with_history(
        list(councillors.values()),
        Councillor,
        ["council", "ward", "phone", "left_on"],
        default_user=by,
        default_change_reason=reason,
    )
    if renamed:
        bulk_update_with_history(
            renamed, User, ["full_name"], default_user=by, default_change_reason=reason
        )
    if moved:
        group_offices_end(
            user_ids=moved,
            on=timezone.localdate(),
            reason=f"Term ended: moved to another council ({reason})",
            by=by,
            councils_kept=moved,
        )


def _invite_imported(new_users: list[User], rows: list[dict], *, by, reason: str) -> None:
    """New people from an import are invited like anyone else a representative adds: an
    approved join request records it, and the invitation goes once the import commits."""
    if not new_users:
        return
    row_for = {row["email"]: row for row in rows}
    now = timezone.now()
    records = JoinRequest.objects.bulk_create(
        JoinRequest(
            full_name=user.full_name,
            email=user.email,
            council_id=row_for[user.email]["council_id"],
            ward=row_for[user.email]["ward"],
            status=Decision.APPROVED,
            asked_to_join=False,
            decided_by=by,
            decided_at=now,
            reason=reason,
        )
        for user in new_users
    )
    for record in records:
        _queue_invitation(record.pk)


# Regional representatives


@transaction.atomic
def representative_remove(*, representative: RegionalRepresentative) -> RegionalRepresentative:
    """End an appointment today and tell the person by email; the record and its history stay.
    Refused (ValidationError) if it has ended already, by a second click say."""
    today = timezone.localdate()
    representative = RegionalRepresentative.objects.select_for_update().get(pk=representative.pk)
    if representative.end_date is not None and representative.end_date <= today:
        raise ValidationError(
            f"{representative.user}'s appointment for {representative.region} has already ended."
        )
    # An appointment still to begin ends the day it would have begun: it never gave access.
    representative.end_date = max(today, representative.start_date)
    representative._change_reason = "Appointment ended"
    representative.save(update_fields=["end_date"])
    from members.tasks import representative_removal_notify

    transaction.on_commit(lambda: representative_removal_notify.delay(representative.pk))
    return representative


# Correcting a councillor's record: undoing "no longer a councillor", and invitations that have
# not been taken up.

INVITATION_TAKEN_UP = (
    "They have logged in to the portal, so their email address is theirs to change and they no "
    "longer need an invitation."
)
INVITATION_RESEND_INTERVAL = 10 * 60


def invitation_pending(user: User) -> bool:
    """Whether the person has yet to take up their invitation: never logged in, no password.

    Until then their address is only what whoever added them typed, so their representative may
    correct it and send the invitation again; from their first login it is theirs to change.
    """
    return user.last_login is None and not user.has_usable_password()


@transaction.atomic
def councillor_details_save(
    *, councillor: Councillor, full_name: str, ward: str, phone: str, email: str, by: User
) -> bool:
    """A representative's edit of a councillor: name, ward and phone, and, while the invitation
    has not been taken up, a corrected email address, to which a new invitation goes.

    Returns whether an invitation was queued.
    """
    corrected = councillor_email_correct(councillor=councillor, email=email, by=by)
    councillor_update(councillor=councillor, full_name=full_name, ward=ward, phone=phone)
    return corrected and councillor.left_on is None


@transaction.atomic
def councillor_email_correct(*, councillor: Councillor, email: str, by: User) -> bool:
    """Correct the address of someone who has not taken up their invitation, and, if they are
    still serving, invite them again at the new one. Returns False when it is unchanged.

    The address must be free, as when they were added. The token in the earlier invitation
    depends on the address, so the link sent to the mistyped one stops working.
    """
    user = User.objects.select_for_update().get(pk=councillor.user_id)
    if email.strip().lower() == user.email.lower():
        return False
    try:
        email = imports.clean_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from None
    refusal = address_change_refusal(by, user, new_email=email)
    if refusal is not None:
        raise ValidationError({"email": refusal})
    if imports.email_in_use(email):
        raise ValidationError({"email": "This email address already has an account."})
    old_email = user.email
    user.email = email
    user._change_reason = "Email address corrected by a representative"
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except IntegrityError:
        # Taken by another account between the check and the save.
        raise ValidationError({"email": "This email address already has an account."}) from None
    updated = EmailAddress.objects.filter(user=user, email__iexact=old_email).update(
        email=email, verified=False
    )
    if not updated:
        EmailAddress.objects.create(user=user, email=email, verified=False, primary=True)
    councillor.user = user
    if councillor.left_on is None:
        _invitation_record_and_queue(
            councillor=councillor,
            user=user,
            by=by,
            reason="Email address corrected; invited again.",
        )
    return True


@transaction.atomic
def councillor_invitation_resend(*, councillor: Councillor, by: User) -> JoinRequest:
    """Send a serving councillor who has not taken up their invitation a new one.

    Refused while an invitation queued in the last few minutes is still on its way, so that a
    double click sends one message.
    """
    user = User.objects.select_for_update().get(pk=councillor.user_id)
    if not invitation_pending(user):
        raise ValidationError(INVITATION_TAKEN_UP)
    if councillor.left_on is not None or not user.is_active:
        raise ValidationError("Invitations go only to serving councillors.")
    queued_since = timezone.now() - timedelta(seconds=INVITATION_RESEND_INTERVAL)
    if JoinRequest.objects.filter(
        email__iexact=user.email,
        status=Decision.APPROVED,
        invited_at__isnull=True,
        decided_at__gte=queued_since,
    ).exists():
        raise ValidationError(
            f"An invitation to {user.email} is already on its way. Try again in a few minutes "
            "if it does not arrive."
        )
    return _invitation_record_and_queue(
        councillor=councillor, user=user, by=by, reason="Invitation sent again."
    )


def _invitation_record_and_queue(
    *, councillor: Councillor, user: User, by: User | None, reason: str
) -> JoinRequest:
    # An approved join request records who invited them and when it went, as for a councillor
    # a representative adds; invitation_send sends it once this commits.
    record = JoinRequest.objects.create(
        full_name=user.full_name,
        email=user.email,
        council_id=councillor.council_id,
        ward=councillor.ward,
        status=Decision.APPROVED,
        asked_to_join=False,
        decided_by=by,
        decided_at=timezone.now(),
        reason=reason,
    )
    _queue_invitation(record.pk)
    return record


@transaction.atomic
def councillor_reinstate(*, councillor: Councillor) -> Councillor:
    """Undo "no longer a councillor", say after a mistaken mark: they are serving again.

    Group offices that ended when they were marked as having left stay ended (the record does
    not say which ended for that reason); they are appointed again on the group's page.
    """
    councillor = Councillor.objects.select_for_update().get(pk=councillor.pk)
    if councillor.left_on is None:
        raise ValidationError("They are already listed as a serving councillor.")
    councillor.left_on = None
    councillor._change_reason = "Reinstated: a serving councillor again"
    councillor.save(update_fields=["left_on"])
    return councillor
