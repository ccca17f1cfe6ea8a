"""The councillors of a council: listed by name and ward for anyone who can see the council,
changed by the region's representatives and staff; a councillor's change history is for staff.
Who sees what is decided in members.access (see its docstring)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from members import history, services
from members.access import (
    address_change_refusal,
    councillors_listed_for,
    councillors_managed_by,
    get_councillor_for_user_or_404,
    require_national_staff,
)
from members.forms.onboarding import CouncillorAddForm, CouncillorEditForm, CouncillorLeaveForm
from members.invitation_status import account_statuses
from members.models import Councillor
from regions.access import get_council_for_user_or_404, get_region_for_user_or_404, manages_region


def _council_and_councillor(user, slug, pk):
    """A council the person manages, and a councillor on it whom they manage."""
    council = get_council_for_user_or_404(user, slug, manage=True)
    councillor = get_councillor_for_user_or_404(user, pk, manage=True)
    if councillor.council_id != council.pk:
        raise Http404("No such councillor on this council.")
    return council, councillor


@login_required
@require_safe
def council_councillors(request, slug):
    council = get_council_for_user_or_404(request.user, slug)
    # Names and wards are listed for everyone who can see the council; contact details and
    # changes are for the region's representatives and staff (the template checks `manages`).
    councillors = councillors_listed_for(request.user).filter(council=council)
    councillors = list(councillors.select_related("user"))
    manages = manages_region(request.user, council.region_id)
    statuses = account_statuses(councillors) if manages else {}
    for councillor in councillors:
        councillor.account_status = statuses.get(councillor.pk)
    # Those who have left are listed only for the people who manage them, to be corrected or
    # reinstated: to colleagues they are gone.
    former = Councillor.objects.none()
    if manages:
        former = (
            councillors_managed_by(request.user)
            .filter(council=council, left_on__isnull=False)
            .select_related("user")
            .order_by("-left_on", "user__full_name")
        )
    context = {
        "council": council,
        "councillors": councillors,
        "former": former,
        "manages": manages,
        "waiting": sum(1 for status in statuses.values() if status.waiting),
        "is_staff": request.user.is_national_staff,
    }
    return render(request, "members/councillors_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def councillor_add(request, slug):
    council = get_council_for_user_or_404(request.user, slug, manage=True)
    form = CouncillorAddForm(request.POST or None, by=request.user, council=council)
    if request.method == "POST" and form.is_valid():
        try:
            councillor = services.councillors.councillor_add(
                council=council,
                by=request.user,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, f"{councillor.user.full_name} has been added and invited to the portal."
            )
            return redirect("council_councillors", slug=council.slug)
    return render(request, "members/councillors_add.html", {"form": form, "council": council})


@login_required
@require_http_methods(["GET", "POST"])
def councillor_edit(request, slug, pk):
    council, councillor = _council_and_councillor(request.user, slug, pk)
    initial = {
        "full_name": councillor.user.full_name,
        "email": councillor.user.email,
        "ward": councillor.ward,
        "phone": councillor.phone,
    }
    invitation_pending = services.invitations.invitation_pending(councillor.user)
    form = CouncillorEditForm(
        request.POST or None,
        initial=initial,
        email_refusal=address_change_refusal(request.user, councillor.user),
        by=request.user,
        council=council,
    )
    if request.method == "POST" and form.is_valid():
        try:
            invited = services.councillors.councillor_details_save(
                councillor=councillor, by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            saved = f"{councillor.user.full_name}'s details have been saved."
            if invited:
                saved += f" A new invitation is on its way to {councillor.user.email}."
            messages.success(request, saved)
            return redirect("council_councillors", slug=council.slug)
    context = {
        "form": form,
        "council": council,
        "councillor": councillor,
        "invitation_pending": invitation_pending,
        "is_staff": request.user.is_national_staff,
    }
    return render(request, "members/councillors_edit.html", context)


def _invitations_resend(request, councillors, *, place: str, back: str):
    """Ask to confirm, then send, invitations again to everyone of `councillors` (scoped to what
    the person manages) who has yet to sign in."""
    if request.method == "POST":
        sent = services.invitations.invitations_resend(councillors=councillors, by=request.user)
        if sent:
            text = f"Invitations are on their way to {sent} councillor{pluralize(sent)} on {place}"
            messages.success(request, f"{text} who had yet to sign in.")
        else:
            text = f"Everyone on {place} has signed in, or was invited minutes ago."
            messages.info(request, text)
        return redirect(back)
    waiting = list(
        services.invitations.invitations_not_taken_up(councillors)
        .select_related("user", "council")
        .order_by("council__name", "user__full_name", "pk")
    )
    days = settings.INVITATION_DAYS
    context = {"place": place, "waiting": waiting, "back": back, "invitation_days": days}
    return render(request, "members/invitations_resend.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def council_invitations_resend(request, slug):
    council = get_council_for_user_or_404(request.user, slug, manage=True)
    councillors = councillors_managed_by(request.user).filter(council=council)
    back = reverse("council_councillors", args=[council.slug])
    return _invitations_resend(request, councillors, place=council.name, back=back)


@login_required
@require_http_methods(["GET", "POST"])
def region_invitations_resend(request, slug):
    region = get_region_for_user_or_404(request.user, slug, manage=True)
    councillors = councillors_managed_by(request.user).filter(council__region=region)
    back = region.get_absolute_url()
    return _invitations_resend(
        request, councillors, place=f"the councils of {region.name}", back=back
    )


@login_required
@require_POST
def councillor_invitation_resend(request, slug, pk):
    council, councillor = _council_and_councillor(request.user, slug, pk)
    try:
        services.invitations.councillor_invitation_resend(councillor=councillor, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"A new invitation is on its way to {councillor.user.email}.")
    return redirect("councillor_edit", slug=council.slug, pk=councillor.pk)


@login_required
@require_http_methods(["GET", "POST"])
def councillor_leave(request, slug, pk):
    council, councillor = _council_and_councillor(request.user, slug, pk)
    form = CouncillorLeaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.councillors.councillor_mark_left(
            councillor=councillor, left_on=form.cleaned_data["left_on"], by=request.user
        )
        messages.success(
            request, f"{councillor.user.full_name} is recorded as no longer a councillor."
        )
        return redirect("council_councillors", slug=council.slug)
    context = {"form": form, "council": council, "councillor": councillor}
    return render(request, "members/councillors_leave.html", context)


@login_required
@require_POST
def councillor_reinstate(request, slug, pk):
    council, councillor = _council_and_councillor(request.user, slug, pk)
    try:
        services.councillors.councillor_reinstate(councillor=councillor)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{councillor.user.full_name or councillor.user.email} is listed as serving again. "
            "Any group office that ended when they were marked as having left is not restored: "
            "appoint them again on the group's page.",
        )
    return redirect("council_councillors", slug=council.slug)


@login_required
@require_safe
def councillor_history(request, pk):
    # Found first, so that someone who may not know the councillor exists gets 404, and someone
    # who sees them listed but may not open their profile gets 403.
    councillor = get_councillor_for_user_or_404(request.user, pk)
    if not request.user.is_national_staff:
        messages.error(request, _history_refusal(request.user, councillor))
        require_national_staff(request.user)
    context = {"councillor": councillor, "changes": history.councillor_changes(councillor)}
    return render(request, "members/councillors_history.html", context)


def _history_refusal(user, councillor) -> str:
    """Why the change history is closed to this person, and where they can turn instead."""
    if councillor.user_id == user.pk:
        return (
            "Only the national office can open change histories. Your own record, with its "
            "history, is in the download on your My data page."
        )
    if user.is_representative:
        return (
            "Only the national office can see a councillor's change history. If you need to "
            "know what changed, ask the national office."
        )
    return "Only the national office can see a councillor's change history."
