"""Taking up an invitation (setting one's password), and asking for a new one when the link has
expired."""

import hashlib

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.http import require_http_methods

from members import services
from members.forms.invitation import InvitationRenewForm
from members.models import User
from members.tokens import invitation_token_generator


@require_http_methods(["GET", "POST"])
def invitation_accept(request, uidb64, token):
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not invitation_token_generator.check_token(user, token):
        return _invitation_invalid(request)
    if services.invitations.invitation_left_before_accepting(user):
        context = {"message": services.invitations.INVITATION_AFTER_LEAVING}
        return render(request, "members/join_invitation_left.html", context, status=403)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitations.invitation_accept(
                user=user, password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, user, backend="members.backends.ModelBackend")
            messages.success(request, "Welcome to the portal. Your password is set.")
            return redirect("home")
    return render(request, "members/join_invitation.html", {"form": form, "invited": user})


INVITATION_RENEWAL_ANSWER = (
    "Thank you. If that address belongs to a councillor whose invitation is still waiting, a new "
    "invitation is on its way to it. It may take a few minutes to arrive."
)


def _invitation_invalid(request):
    """The page for a link that is wrong, used or expired, where the person may ask for a new
    invitation. The answer is the same whether or not one is sent."""
    form = InvitationRenewForm(request.POST if "email" in request.POST else None)
    if form.is_bound and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        # At most a few requests an hour for one address and from one network: the form is
        # public and sends mail.
        digest = hashlib.sha256(email.encode()).hexdigest()
        if ratelimit.consume(request, action="invitation_renewal", key=digest):
            services.invitations.invitation_renew_request(email=form.cleaned_data["email"])
        messages.success(request, INVITATION_RENEWAL_ANSWER)
        return redirect(request.path)
    return render(
        request,
        "members/join_invitation_invalid.html",
        {"form": form, "invitation_days": settings.INVITATION_DAYS},
        status=400,
    )
