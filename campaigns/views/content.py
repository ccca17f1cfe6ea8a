"""Campaign pages: staff, representatives and serving councillors read them; national staff
write them."""

import mimetypes
from pathlib import Path

import markdown
import nh3
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..access import (
    adoptions_visible_to,
    campaigns_visible_to,
    get_adoption_for_user_or_404,
    get_campaign_for_user_or_404,
    get_resource_for_user_or_404,
    is_staff,
    require_staff,
    resources_visible_to,
)
from ..forms import AdoptionForm, CampaignForm, ResourceForm
from ..services import content

BODY_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "li", "ol", "p",
    "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
BODY_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope"}}


def markdown_html(source: str) -> str:
    """Markdown to HTML that is safe to show: raw HTML and scripts are removed by nh3."""
    rendered = markdown.markdown(source, extensions=["extra", "sane_lists"])
    return mark_safe(nh3.clean(rendered, tags=BODY_TAGS, attributes=BODY_ATTRIBUTES))  # noqa: S308


@login_required
@require_GET
def campaign_list(request):
    campaigns = campaigns_visible_to(request.user).annotate(
        adoption_count=Count("adoptions", distinct=True)
    )
    return render(
        request,
        "campaigns/campaign_list.html",
        {"campaigns": campaigns, "can_manage": is_staff(request.user)},
    )


@login_required
@require_GET
def campaign_detail(request, slug):
    campaign = get_campaign_for_user_or_404(request.user, slug)
    return render(
        request,
        "campaigns/campaign_detail.html",
        {
            "campaign": campaign,
            "body_html": markdown_html(campaign.body),
            "resources": resources_visible_to(request.user, campaign),
            "adoptions": adoptions_visible_to(request.user, campaign).select_related("council"),
            "can_manage": is_staff(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request):
    require_staff(request.user)
    return _campaign_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request, slug):
    campaign = get_campaign_for_user_or_404(request.user, slug, manage=True)
    return _campaign_form(request, campaign)


def _campaign_form(request, campaign):
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            saved = content.campaign_save(
                campaign=campaign, data=form.cleaned_data, user=request.user
            )
        except ValidationError as error:
            # A second press of "Save" that raced the first: the title is now taken.
            form.add_error(None, error)
        else:
            messages.success(request, "Campaign saved.")
            return redirect(saved)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign})


@login_required
@require_http_methods(["GET", "POST"])
def resource_add(request, slug):
    campaign = get_campaign_for_user_or_404(request.user, slug, manage=True)
    form = ResourceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        content.resource_add(campaign=campaign, data=form.cleaned_data, user=request.user)
        messages.success(request, "Resource added.")
        return redirect(campaign)
    return render(
        request, "campaigns/campaign_resource_form.html", {"form": form, "campaign": campaign}
    )


@login_required
@require_POST
def resource_remove(request, slug, pk):
    campaign = get_campaign_for_user_or_404(request.user, slug, manage=True)
    resource = get_resource_for_user_or_404(request.user, campaign, pk, manage=True)
    content.resource_remove(resource=resource, user=request.user)
    messages.success(request, f"Removed “{resource.title}”.")
    return redirect(campaign)


@login_required
@require_GET
def resource_file(request, slug, pk):
    """Uploaded files are served only through this view to people who may read the campaign,
    always as a download (never shown in the portal's own pages, whatever their contents), with
    nosniff (SECURE_CONTENT_TYPE_NOSNIFF) and kept out of shared caches."""
    campaign = get_campaign_for_user_or_404(request.user, slug)
    resource = get_resource_for_user_or_404(request.user, campaign, pk, files_only=True)
    try:
        handle = resource.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing.") from None
    name = Path(resource.file.name).name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def adoption_add(request, slug):
    campaign = get_campaign_for_user_or_404(request.user, slug, manage=True)
    form = AdoptionForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            adoption = content.adoption_add(
                campaign=campaign, data=form.cleaned_data, user=request.user
            )
        except ValidationError as error:
            # A second press of the button that raced the first: already recorded.
            form.add_error(None, error)
        else:
            messages.success(request, f"Recorded the adoption by {adoption.council}.")
            return redirect(campaign)
    return render(
        request, "campaigns/campaign_adoption_form.html", {"form": form, "campaign": campaign}
    )


@login_required
@require_POST
def adoption_remove(request, slug, pk):
    campaign = get_campaign_for_user_or_404(request.user, slug, manage=True)
    adoption = get_adoption_for_user_or_404(request.user, campaign, pk, manage=True)
    content.adoption_remove(adoption=adoption, user=request.user)
    messages.success(request, f"Removed the adoption by {adoption.council}.")
    return redirect(campaign)
