"""The token in an invitation link: its own salt, so that a password reset token cannot stand in
for it or the other way round, and its own lifetime, INVITATION_DAYS."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Like a password reset token (it stops working once a password is set or the address
    changes) but valid for INVITATION_DAYS rather than PASSWORD_RESET_TIMEOUT."""

    key_salt = "members.tokens.InvitationTokenGenerator"

    @property
    def timeout(self) -> int:
        return settings.INVITATION_DAYS * 24 * 60 * 60

    def expires_at(self, issued: datetime) -> datetime:
        return issued + timedelta(seconds=self.timeout)

    def check_token(self, user, token) -> bool:
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        secrets = [self.secret, *self.secret_fallbacks]
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in secrets
        ):
            return False
        return 0 <= self._num_seconds(self._now()) - ts <= self.timeout


invitation_token_generator = InvitationTokenGenerator()
