"""Writes for join requests: a newly elected councillor asks to join on the public form, and a
representative of their council's region (or the national office) approves or refuses."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from members import imports
from members.models import Councillor, Decision, JoinRequest, User
from members.selectors import deciders_in_regions, national_office_email, portal_link
from members.services.accounts import AddressTaken, account_create_invited, email_lock
from members.services.invitations import invitation_queue
from members.services.notices import notice_queue, notices_queue_each
from regions.models import Council

JOIN_ADDRESS_TAKEN = (
    "The address already has an account, so no new one was made. Its owner has been told how "
    "to sign in."
)


@transaction.atomic
def join_request_submit(
    *, full_name: str, email: str, council: Council, ward: str
) -> JoinRequest | None:
    """Record a request to join, and tell those who decide it; or, if the address already
    belongs to an account, make none and email that address a note saying so instead. A
    request still waiting for the same address and council is returned instead of a second one
    (a double-clicked form, say).

    The caller thanks the person the same way either way, so the public form never tells a
    stranger which addresses have accounts.
    """
    email = email.strip().lower()
    email_lock(email)
    if imports.email_in_use(email):
        existing_account_notice_queue(email=email)
        return None
    waiting = JoinRequest.objects.filter(
        email__iexact=email, council=council, status=Decision.PENDING
    ).first()
    if waiting is not None:
        return waiting
    join_request = JoinRequest.objects.create(
        full_name=full_name, email=email, council=council, ward=ward
    )
    join_request_notices_queue(join_request=join_request)
    return join_request


def join_request_deciders(join_request: JoinRequest) -> tuple[list[User], bool]:
    """Who is told of a new join request: those who decide for the council's region."""
    return deciders_in_regions([join_request.council.region_id])


def join_request_notices_queue(*, join_request: JoinRequest) -> int:
    """Tell those who decide a new join request that it is waiting: a message each, so nobody
    learns who else was told. `notified_at` records when the first went. Returns how many
    were queued (none the second time)."""
    deciders, has_representative = join_request_deciders(join_request)
    context = {
        "join_request": join_request,
        "council": join_request.council,
        "region": join_request.council.region,
        "has_representative": has_representative,
        "link": portal_link("join_requests"),
    }
    return notices_queue_each(
        deciders,
        kind="join_request_waiting",
        occasion=join_request.pk,
        template="members/email/join_request_notice",
        context=context,
        stamps=(join_request, "notified_at"),
    )


def existing_account_notice_queue(*, email: str) -> bool:
    """Tell the owner of an address that someone asked to join with it, and how to log in, or,
    if their account is closed, whom to ask to open it again. At most one an hour to an
    address, however often someone types it into the form.

    Sent only to an address an account logs in with or has verified: an unconfirmed extra
    address may not be the account holder's (and does not stop a request, see emails_in_use).
    Nothing from the request itself (the name or council typed by whoever filled in the form)
    goes into the message.
    """
    user = _account_for_notice(email)
    if user is None:
        return False
    context = {
        "user": user,
        "email": email,
        "closed": not user.is_active,
        "national_office_email": national_office_email(),
        "login_link": portal_link("account_login"),
        "reset_link": portal_link("account_reset_password"),
    }
    return notice_queue(
        kind="existing_account",
        occasion=f"{timezone.now():%Y-%m-%dT%H}",
        to=email,
        template="members/email/existing_account",
        context=context,
    )


def _account_for_notice(email: str) -> User | None:
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user
    addresses = EmailAddress.objects.select_related("user")
    address = addresses.filter(email__iexact=email, verified=True).first()
    return address.user if address else None


@transaction.atomic
def join_request_approve(*, join_request: JoinRequest, by: User) -> Councillor | None:
    """Create the account and councillor profile, and invite them.

    If the address has come to belong to an account since the request was made, no second
    account is made: the request is closed with that reason and the address's owner is told,
    as at the time of asking, how to sign in (None is returned)."""
    join_request = JoinRequest.objects.select_for_update().get(pk=join_request.pk)
    if join_request.status != Decision.PENDING:
        raise ValidationError("This request has already been decided.")
    email_lock(join_request.email)
    try:
        user = account_create_invited(email=join_request.email, full_name=join_request.full_name)
    except AddressTaken:
        join_request.decision_record(by=by, approve=False, reason=JOIN_ADDRESS_TAKEN)
        join_request.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        existing_account_notice_queue(email=join_request.email)
        return None
    councillor = Councillor(user=user, council=join_request.council, ward=join_request.ward)
    councillor._change_reason = "Join request approved"
    councillor.save()
    join_request.decision_record(by=by, approve=True)
    join_request.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    invitation_queue(join_request=join_request, user=user)
    return councillor


@transaction.atomic
def join_request_refuse(*, join_request: JoinRequest, by: User, reason: str) -> JoinRequest:
    join_request = JoinRequest.objects.select_for_update().get(pk=join_request.pk)
    if join_request.status != Decision.PENDING:
        raise ValidationError("This request has already been decided.")
    join_request.decision_record(by=by, approve=False, reason=reason)
    join_request.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    return join_request
