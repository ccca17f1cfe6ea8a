"""The authentication backends: Django's and allauth's, loading the person signed in with their
roles in the same query (UserManager.get_with_roles), once per request."""

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from members.models import User


class _WithRoles:
    def get_user(self, user_id):
        user = User.objects.get_with_roles(int(user_id))
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_WithRoles, DjangoModelBackend):
    pass


class AllauthBackend(_WithRoles, AuthenticationBackend):
    pass
