from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.shortcuts import redirect

# Pages a person needs in order to enrol, log out, or that carry no personal data.
OPEN_PREFIXES = ("/accounts/", "/healthz", "/static/", "/unsubscribe/", "/webhooks/", "/join/")


class RequireTwoFactorForRolesMiddleware:
    """Staff and regional representatives must enrol in two-factor authentication before they
    can use anything else: they are sent to set up an authenticator app first. Anyone who may
    enter the admin site (is_staff, is_superuser) counts as staff here, role or not."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(OPEN_PREFIXES)
            and (
                user.is_staff
                or user.is_superuser
                or user.is_national_staff
                or user.is_representative
            )
            and not is_mfa_enabled(user)
        ):
            messages.warning(
                request,
                "Your role gives you access to other people's details, so set up two-factor "
                "authentication before you continue.",
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
