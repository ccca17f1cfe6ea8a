import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context

from members import imports


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Accounts come from staff, representatives, imports and approved join requests.
        return False

    def clean_email(self, email: str) -> str:
        # allauth's forms accept addresses up to 320 characters, but the database keeps 254: a
        # longer one must be refused next to the field, not fail when it is saved or mailed.
        return imports.clean_email(super().clean_email(email))

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Someone who signed in moments ago (within the reauthentication timeout) has just
        given their password or code: don't ask for it again, e.g. when a new representative
        is sent straight from signing in to set up two-factor authentication."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = context.request
        if request is None or not request.user.is_authenticated:
            return True
        records = get_authentication_records(request, request.user)
        signed_in_at = max((r.get("at", 0) for r in records), default=0)
        return time.time() - signed_in_at >= account_settings.REAUTHENTICATION_TIMEOUT
