"""Sessions of the people who see other people's details: staff, regional representatives and
anyone who may enter the admin site.

- They must have enrolled in two-factor authentication, and *this session* must have completed
  it: a session that began any other way (a login code, an invitation, a session from before
  they were appointed) is asked for a code before it reaches anything past the account pages.
- Their sessions end after PRIVILEGED_SESSION_IDLE_SECONDS without a request and
  PRIVILEGED_SESSION_MAX_SECONDS after signing in, whatever happens in between. Councillors
  keep the longer remembered session.
"""

import time

from allauth.account.internal.flows.login import get_authentication_records
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

# Pages a person needs in order to sign in, enrol, sign out, or that carry no personal data.
OPEN_PREFIXES = ("/accounts/", "/healthz", "/static/", "/unsubscribe/", "/webhooks/", "/join/")
# Never refused for an ended session: nothing personal, and the probe must stay cheap.
UNTIMED_PREFIXES = ("/healthz", "/static/")

SIGNED_IN_AT = "members.signed_in_at"
SEEN_AT = "members.seen_at"
# Background polls (a progress bar) say so with this header: they are not the person at work,
# so they do not keep an idle session alive.
BACKGROUND_HEADER = "X-Portal-Background"


def session_start(request) -> None:
    """Note when this session signed in (called when anyone signs in)."""
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[SEEN_AT] = now


def session_completed_two_factor(request) -> bool:
    return any(
        record.get("method") == "mfa"
        for record in get_authentication_records(request, request.user)
    )


def _session_ended(request) -> str | None:
    """Why this privileged session has ended, or None while it may go on."""
    now = time.time()
    signed_in_at = request.session.get(SIGNED_IN_AT)
    seen_at = request.session.get(SEEN_AT, signed_in_at)
    if not isinstance(signed_in_at, int | float) or not isinstance(seen_at, int | float):
        return "Please sign in again."
    if now - signed_in_at > settings.PRIVILEGED_SESSION_MAX_SECONDS:
        hours = settings.PRIVILEGED_SESSION_MAX_SECONDS / 3600
        return f"You were signed out {hours:g} hours after signing in. Please sign in again."
    idle = settings.PRIVILEGED_SESSION_IDLE_SECONDS
    if now - seen_at > idle:
        return (
            f"You were signed out after {idle / 60:g} minutes without activity. Please sign in "
            "again."
        )
    return None


def _session_seen(request) -> None:
    """Record activity, at most every few seconds (each record is a write to the session)."""
    if request.headers.get(BACKGROUND_HEADER):
        return
    now = int(time.time())
    idle = settings.PRIVILEGED_SESSION_IDLE_SECONDS
    if now - request.session.get(SEEN_AT, 0) >= min(60, idle / 4):
        request.session[SEEN_AT] = now
        # The session itself (its row and its cookie) lapses with the idle time too.
        request.session.set_expiry(int(idle))


class PrivilegedSessionMiddleware:
    """Enforces, for staff, representatives and admin-site users, what the module says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated or request.path.startswith(UNTIMED_PREFIXES):
            return self.get_response(request)
        if not user.is_privileged:
            return self.get_response(request)
        ended = _session_ended(request)
        if ended:
            logout(request)
            messages.info(request, ended)
            return redirect_to_login(request.get_full_path())
        _session_seen(request)
        if request.path.startswith(OPEN_PREFIXES):
            return self.get_response(request)
        if not user.has_two_factor:
            messages.warning(
                request,
                "Your role gives you access to other people's details, so set up two-factor "
                "authentication before you continue.",
            )
            return redirect("mfa_activate_totp")
        if not session_completed_two_factor(request):
            messages.info(
                request,
                "Your role gives you access to other people's details: enter the code from "
                "your authenticator app to continue.",
            )
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('mfa_reauthenticate')}?{query}")
        return self.get_response(request)
