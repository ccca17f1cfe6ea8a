"""Writes for signing in and the sessions it makes."""

from allauth.account.internal.flows.login import record_authentication
from django.contrib.auth import update_session_auth_hash
from django.db.models import F

from members.models import User


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
