"""Writes for bringing new councillors in: join requests, invitations, councillors added by a
representative, CSV imports, and the appointment of regional representatives."""

from __future__ import annotations

import hashlib
import logging
from datetime import date

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from members import imports
from members.models import Councillor, CouncillorImport, Decision, JoinRequest, User
from regions.models import Council, GroupOfficer, RegionalRepresentative

log = logging.getLogger(__name__)

LEFT_ON_FUTURE = (
    "The date cannot be in the future. Come back on the day they stop being a councillor, or "
    "enter a date that has passed."
)

# Advisory-lock namespace, so two workers never apply the same import at once.
IMPORT_LOCK_BASE = 7_300_000_000
IMPORT_CHUNK = 500
EXISTING_ACCOUNT_NOTICE_INTERVAL = 60 * 60


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
    and email that address a note saying so instead.

    The caller thanks the person the same way either way, so the public form never tells a
    stranger which addresses have accounts.
    """
    email = email.strip().lower()
    if imports.email_in_use(email):
        _queue_existing_account_notice(email)
        return None
    return JoinRequest.objects.create(full_name=full_name, email=email, council=council, ward=ward)


def _queue_existing_account_notice(email: str) -> None:
    # At most one note an hour to an address, however often someone types it into the form.
    key = "join-existing-account:" + hashlib.sha256(email.encode()).hexdigest()
    if not cache.add(key, 1, timeout=EXISTING_ACCOUNT_NOTICE_INTERVAL):
        return
    from members.tasks import existing_account_notice_send

    transaction.on_commit(lambda: existing_account_notice_send.delay(email))


def existing_account_notice_send(*, email: str) -> bool:
    """Tell the owner of an address that someone asked to join with it, and how to log in.

    Sent only to an address its account logs in with or has verified: an unconfirmed extra
    address may not be the account holder's. Nothing from the request itself (the name or
    council typed by whoever filled in the form) goes into the message.
    """
    user = _account_for_notice(email)
    if user is None:
        return False
    portal = settings.PORTAL_URL.rstrip("/")
    context = {
        "user": user,
        "email": email,
        "login_link": portal + reverse("account_login"),
        "reset_link": portal + reverse("account_reset_password"),
    }
    _email_send(template="members/email/existing_account", context=context, to=email)
    return True


def _account_for_notice(email: str) -> User | None:
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is not None:
        return user
    address = (
        EmailAddress.objects.select_related("user")
        .filter(email__iexact=email, verified=True, user__is_active=True)
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
def join_request_approve(*, join_request: JoinRequest, by: User) -> Councillor:
    """Create the account and councillor profile, and send the invitation once this commits."""
    join_request = JoinRequest.objects.select_for_update().get(pk=join_request.pk)
    if join_request.status != Decision.PENDING:
        raise ValidationError("This request has already been decided.")
    if imports.email_in_use(join_request.email):
        raise ValidationError(
            f"{join_request.email} already has an account, so this request cannot create one. "
            "Refuse it, or ask the national office to link the account."
        )
    user = _user_create_invited(email=join_request.email, full_name=join_request.full_name)
    councillor = Councillor(user=user, council=join_request.council, ward=join_request.ward)
    councillor._change_reason = "Join request approved"
    councillor.save()
    join_request.decision_record(by=by, approve=True)
    join_request.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    _queue_invitation(join_request.pk)
    return councillor


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
    if imports.email_in_use(email):
        raise ValidationError({"email": "This email address already has an account."})
    user = _user_create_invited(email=email, full_name=full_name)
    councillor = Councillor(user=user, council=council, ward=ward, phone=phone)
    councillor._change_reason = "Added by a representative"
    councillor.save()
    record = JoinRequest.objects.create(
        full_name=full_name,
        email=email,
        council=council,
        ward=ward,
        status=Decision.APPROVED,
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


@transaction.atomic
def councillor_mark_left(*, councillor: Councillor, left_on: date | None = None) -> Councillor:
    """Record that someone is no longer a councillor from `left_on` (today by default), and end
    the group offices they hold on the same day: only a serving councillor holds one.

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
    councillor.save(update_fields=["left_on"])
    offices = GroupOfficer.objects.select_for_update().filter(
        user_id=councillor.user_id, end_date__isnull=True
    )
    for office in offices:
        office.end_date = max(left_on, office.start_date)
        office._change_reason = "Term ended: no longer a councillor"
        office.save(update_fields=["end_date"])
    return councillor


def invitation_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("invitation_accept", args=[uid, token])
    return settings.PORTAL_URL.rstrip("/") + path


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
        if user is None:
            return False
        context = {
            "user": user,
            "council": join_request.council,
            "link": invitation_link(user),
        }
        _email_send(template="members/email/invitation", context=context, to=user.email)
        join_request.invited_at = timezone.now()
        join_request.save(update_fields=["invited_at"])
    return True


@transaction.atomic
def invitation_accept(*, user: User, password: str) -> User:
    """The person followed their invitation: set their password and trust their address."""
    user.set_password(password)
    user.save(update_fields=["password"])
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
    return user


# CSV imports


def councillor_import_preview(*, region, uploaded_by: User, filename: str, raw: bytes):
    """Check an uploaded file and keep it, with its row-by-row report, until it is confirmed.

    Raises imports.ImportFileError when the file as a whole cannot be read.
    """
    text = imports.decode_upload(raw)
    rows = imports.read_rows(text)
    plan = imports.import_plan(rows, region=region)
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

    Refused (ValidationError) while the report has errors or if it was confirmed already.
    """
    with transaction.atomic():
        imp = (
            CouncillorImport.objects.select_for_update(of=("self",))
            .select_related("region", "uploaded_by")
            .get(pk=councillor_import.pk)
        )
        if imp.status != CouncillorImport.Status.PREVIEWED:
            raise ValidationError("This import has already been confirmed.")
        if imp.report.get("counts", {}).get("error"):
            raise ValidationError(
                "The file has errors. Correct them and upload the file again; nothing has been "
                "imported."
            )
        if imp.total_rows > imports.BACKGROUND_ROWS:
            imp.status = CouncillorImport.Status.QUEUED
            imp.save(update_fields=["status"])
            from members.tasks import councillor_import_run

            transaction.on_commit(lambda: councillor_import_run.delay(imp.pk))
            return imp
        plan = imports.import_plan(imports.read_rows(imp.content), region=imp.region)
        if plan["counts"]["error"]:
            imp.report = plan
            imp.save(update_fields=["report"])
        else:
            _write_plan(plan, by=imp.uploaded_by, reason=f"Import of {imp.filename}")
            imp.report = plan
            imp.status = CouncillorImport.Status.DONE
            imp.processed_rows = imp.total_rows
            imp.content = ""  # applied: the report is the record, the file is not kept
            imp.save(update_fields=["report", "status", "processed_rows", "content"])
    if imp.status != CouncillorImport.Status.DONE:
        raise ValidationError(
            "The councillors changed since the preview and the file now has errors: see the "
            "report. Nothing has been imported."
        )
    return imp


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
            plan = imports.import_plan(imports.read_rows(imp.content), region=imp.region)
            if plan["counts"]["error"]:
                CouncillorImport.objects.filter(pk=import_id).update(
                    status=Status.FAILED, report=plan, processed_rows=0, content=""
                )
                return "failed: the file has errors"
            _write_plan(
                plan,
                by=imp.uploaded_by,
                reason=f"Import of {imp.filename}",
                on_progress=report_progress,
            )
            progress_db.close()
            CouncillorImport.objects.filter(pk=import_id).update(
                status=Status.DONE, report=plan, processed_rows=imp.total_rows, content=""
            )
    except Exception:
        log.exception("Councillor import %s failed", import_id)
        CouncillorImport.objects.filter(pk=import_id).update(status=Status.FAILED, content="")
        raise
    finally:
        progress_db.close()
    return "done"


def _write_plan(plan: dict, *, by: User | None, reason: str, on_progress=None) -> None:
    """Write the rows of an error-free plan, in chunks. Call inside a transaction."""
    all_rows = plan["rows"]
    for start in range(0, len(all_rows), IMPORT_CHUNK):
        chunk = all_rows[start : start + IMPORT_CHUNK]
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
    renamed = []
    for pk, councillor in councillors.items():
        row = updates[pk]
        changes = row["changes"]
        if "full_name" in changes:
            councillor.user.full_name = row["full_name"]
            renamed.append(councillor.user)
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
    """End an appointment today; the record and its history stay."""
    representative.end_date = timezone.localdate()
    representative._change_reason = "Appointment ended"
    representative.save(update_fields=["end_date"])
    return representative
