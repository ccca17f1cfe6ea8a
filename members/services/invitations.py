"""Writes for invitations: the email that lets a new councillor set their password, sent when
a join request is approved, when a representative adds them or imports them, and again when
asked. The link works for INVITATION_DAYS and stops working once a password is set or the
address changes (members.tokens)."""

from __future__ import annotations

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from members.models import Councillor, Decision, JoinRequest, User
from members.services.accounts import email_lock
from members.services.notices import notice_build, notice_queue, notices_queue_many
from members.tokens import invitation_token_generator

INVITATION_TAKEN_UP = (
    "They have logged in to the portal, so their email address is theirs to change and they no "
    "longer need an invitation."
)
# A new invitation is refused while one queued this recently is still on its way.
INVITATION_RESEND_INTERVAL = 10 * 60


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


def _invitation_notice(*, join_request: JoinRequest, user: User):
    context = {
        "user": user,
        "council": join_request.council,
        "link": invitation_link(user),
        "expires": invitation_expires(),
    }
    return {
        "kind": "invitation",
        "occasion": join_request.pk,
        "to": user.email,
        "template": "members/email/invitation",
        "context": context,
        "stamps": (join_request, "invited_at"),
    }


def invitation_queue(*, join_request: JoinRequest, user: User) -> bool:
    """Invite the person an approved join request is for, once: `invited_at` records when the
    message went. Nobody marked as no longer a councillor is invited."""
    if invitation_left_before_accepting(user):
        return False
    return notice_queue(**_invitation_notice(join_request=join_request, user=user))


def invitations_queue_many(pairs) -> None:
    """Invite many people at once, each (approved join request, account): an import's."""
    notices_queue_many(
        [notice_build(**_invitation_notice(join_request=jr, user=user)) for jr, user in pairs]
    )


def invitation_record(*, by: User | None, reason: str, at=None, **person) -> JoinRequest:
    """An approved join request, not yet saved, that records an invitation to someone who did
    not ask to join (added, imported, or invited again): who invited them, when and why.
    `person` names them: full_name, email, council (or council_id) and ward."""
    return JoinRequest(
        **person,
        status=Decision.APPROVED,
        asked_to_join=False,
        decided_by=by,
        decided_at=at or timezone.now(),
        reason=reason,
    )


def invitation_record_and_queue(
    *, councillor: Councillor, user: User, by: User | None, reason: str
) -> JoinRequest:
    """Invite someone who did not ask to join (added, imported, or invited again). An approved
    join request records who invited them and when it went, as for a councillor a
    representative adds."""
    record = invitation_record(
        full_name=user.full_name,
        email=user.email,
        council_id=councillor.council_id,
        ward=councillor.ward,
        by=by,
        reason=reason,
    )
    record.save()
    invitation_queue(join_request=record, user=user)
    return record


def invitation_pending(user: User) -> bool:
    """Whether the person has yet to take up their invitation: never logged in, no password.

    Until then their address is only what whoever added them typed, so their representative may
    correct it and send the invitation again; from their first login it is theirs to change.
    """
    return user.last_login is None and not user.has_usable_password()


@transaction.atomic
def invitation_accept(*, user: User, password: str) -> User:
    """The person followed their invitation: set their password and trust their address.

    Following the link proves the address, so it becomes this account's: any other account that
    had added it without confirming it loses it. Refused (ValidationError) for someone marked as
    no longer a councillor before accepting, and if another account confirmed the address first.
    """
    if invitation_left_before_accepting(user):
        raise ValidationError(INVITATION_AFTER_LEAVING)
    email_lock(user.email)
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


def _invitation_on_its_way(user: User) -> bool:
    """Whether an invitation queued for this address in the last few minutes has yet to go."""
    queued_since = timezone.now() - timedelta(seconds=INVITATION_RESEND_INTERVAL)
    return JoinRequest.objects.filter(
        email__iexact=user.email,
        status=Decision.APPROVED,
        invited_at__isnull=True,
        decided_at__gte=queued_since,
    ).exists()


def invitation_renew_request(*, email: str) -> bool:
    """Someone whose invitation link has expired asks for a new one at this address.

    A new invitation goes only to a serving councillor whose invitation is still pending, and
    not while one is already on its way. The caller answers the same whatever this returns, so
    that the form never tells a stranger which addresses have accounts.
    """
    email = email.strip().lower()
    with transaction.atomic():
        email_lock(email)
        user = User.objects.select_for_update().filter(email__iexact=email, is_active=True).first()
        councillor = Councillor.objects.filter(user=user).first() if user is not None else None
        if councillor is None or councillor.left_on is not None or not invitation_pending(user):
            return False
        if _invitation_on_its_way(user):
            return False
        invitation_record_and_queue(
            councillor=councillor,
            user=user,
            by=None,
            reason="Invitation sent again: the person asked for a new link.",
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
    if _invitation_on_its_way(user):
        raise ValidationError(
            f"An invitation to {user.email} is already on its way. Try again in a few minutes "
            "if it does not arrive."
        )
    return invitation_record_and_queue(
        councillor=councillor, user=user, by=by, reason="Invitation sent again."
    )


def invitations_not_taken_up(councillors):
    """Of these councillors, the serving ones who have yet to take up their invitation (never
    signed in, no password), leaving out anyone invited in the last few minutes (queued or
    sent): a second click, or a second representative, sends them nothing more."""
    recently = timezone.now() - timedelta(seconds=INVITATION_RESEND_INTERVAL)
    invited_recently = JoinRequest.objects.filter(
        email__iexact=OuterRef("user__email"), status=Decision.APPROVED, decided_at__gte=recently
    )
    return (
        councillors.filter(
            left_on__isnull=True, user__is_active=True, user__last_login__isnull=True
        )
        .filter(user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .exclude(Exists(invited_recently))
    )


@transaction.atomic
def invitations_resend(*, councillors, by: User) -> int:
    """Invite again, in one go, every councillor of `councillors` (already scoped to what `by`
    manages) that invitations_not_taken_up gives. Returns how many were invited."""
    chosen = list(invitations_not_taken_up(councillors).select_related("user").order_by("pk"))
    now = timezone.now()
    records = JoinRequest.objects.bulk_create(
        [
            invitation_record(
                full_name=c.user.full_name,
                email=c.user.email,
                council_id=c.council_id,
                ward=c.ward,
                by=by,
                at=now,
                reason="Invitation sent again to everyone not yet signed in.",
            )
            for c in chosen
        ]
    )
    invitations_queue_many(zip(records, [c.user for c in chosen], strict=True))
    return len(chosen)
