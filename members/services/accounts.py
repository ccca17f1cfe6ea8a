"""Writes for people's accounts: making them, signing in, and the sessions it makes."""

from __future__ import annotations

from allauth.account.internal.flows.login import record_authentication
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import update_session_auth_hash
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from members import imports
from members.models import User

# Two-key advisory locks (namespace, key): one per lower-cased email address, so two requests
# creating an account for the same address take turns.
EMAIL_LOCK_SPACE = 7301


def email_lock(email: str) -> None:
    """Wait for, and hold until the transaction ends, the right to act on this address.

    Whoever comes second sees, once it has the lock, what the first one committed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [EMAIL_LOCK_SPACE, email.lower()]
        )


class AddressTaken(Exception):
    """The address already belongs to an account (see members.imports.emails_in_use)."""


def account_create_invited(*, email: str, full_name: str) -> User:
    """A new account that cannot log in until the person sets a password from their invitation.
    Raises AddressTaken if the address already has one, including one created a moment ago by a
    request that did not take the address lock (someone adding the address to their own
    account, say). Call inside a transaction holding email_lock(email).

    The address is recorded unverified: following the invitation link is what proves it.
    """
    if imports.email_in_use(email):
        raise AddressTaken(email)
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=None, full_name=full_name)
            EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    except IntegrityError:
        if imports.email_in_use(email):
            raise AddressTaken(email) from None
        raise
    return user


@transaction.atomic
def user_ensure(*, email: str, full_name: str, password: str | None = None) -> tuple[User, bool]:
    """Return the user with this email, creating them (with a verified primary address) if new.

    An existing user's name and password are left alone, so running this again is harmless.
    """
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(email=email, password=password, full_name=full_name)
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user, created


@transaction.atomic
def two_factor_enrol(*, user: User, totp_secret: str) -> list[str]:
    """Give the user a TOTP authenticator with this secret and recovery codes, unless they have
    them already. Returns the unused recovery codes."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, totp_secret)
    codes = Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
    recovery = RecoveryCodes(codes) if codes else RecoveryCodes.activate(user)
    return recovery.get_unused_codes()


def sessions_end_others(*, request, user: User) -> None:
    """End every session of the person's except the one making this request: after their
    second factor changes, a session opened by whoever knew the old one must not go on."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    if request is not None and getattr(request, "user", None) is not None:
        update_session_auth_hash(request, user)


def two_factor_record_enrolment(*, request, user: User, authenticator) -> None:
    """Setting up an authenticator app means typing a code it shows, so the session that did it
    has passed the second factor, as a sign-in with that code would have."""
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
