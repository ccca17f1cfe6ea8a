"""Template tags for finding one's way: the breadcrumbs of a page, and the menu's sections.

Loaded into every template (TEMPLATES' builtins), so a page needs no `{% load %}` for them.

`{% breadcrumbs "Decisions" "decisions" "Profile changes" %}` draws Home › Decisions › Profile
changes: label and target pairs, then the current page's label. A target is a URL name, an
address, or an object with get_absolute_url. A region, council or Labour group stands for its
whole trail (for staff, Regions › London › Camden › Camden Labour Group), and when it comes last
it is the current page. Regions are named from a cached lookup (regions/navigation.py), not
from a query of each page's own."""

from django import template
from django.template.loader import render_to_string
from django.urls import reverse

from regions.models import Council, CouncilGroup, GroupOfficer, Region, RegionalRepresentative
from regions.navigation import region_links

register = template.Library()


def _target(target) -> str:
    if hasattr(target, "get_absolute_url"):
        return target.get_absolute_url()
    target = str(target)
    return target if target.startswith("/") else reverse(target)


def _region_trail(user, region_id) -> list[tuple[str, str]]:
    staff = getattr(user, "is_national_staff", False)
    trail = [("Regions", reverse("regions:national"))] if staff else []
    link = region_links().get(region_id)
    return trail + ([link] if link else [])


PLACES = (Region, Council, CouncilGroup, GroupOfficer, RegionalRepresentative)


def _trail(user, item) -> list[tuple[str, str]]:
    """The crumbs a region, council or Labour group stands for, ending with itself; an officer
    stands for their group's officers, an appointment for its region."""
    if isinstance(item, Region):
        return _region_trail(user, item.pk)
    if isinstance(item, RegionalRepresentative):
        return _region_trail(user, item.region_id)
    if isinstance(item, Council):
        return [*_region_trail(user, item.region_id), (item.short_name, item.get_absolute_url())]
    if isinstance(item, GroupOfficer):
        officers = reverse("regions:group_officers", args=[item.group_id])
        return [*_trail(user, item.group), ("Officers", officers)]
    return [*_trail(user, item.council), (item.name, item.get_absolute_url())]


@register.simple_tag(takes_context=True)
def breadcrumbs(context, *items):
    user = context.get("user")
    crumbs, current, index = [("Home", reverse("home"))], None, 0
    while index < len(items):
        item = items[index]
        if isinstance(item, PLACES):
            crumbs += _trail(user, item)
            index += 1
        elif index == len(items) - 1:
            current = item
            index += 1
        else:
            crumbs.append((item, _target(items[index + 1])))
            index += 2
    if current is None:
        current = crumbs.pop()[0]
    return render_to_string("includes/breadcrumbs.html", {"crumbs": crumbs, "current": current})


# Which item of the menu a page sits under, by its URL name: the first prefix that matches.
SECTIONS = {
    "campaigns": [
        ("mailing", "mailings"),
        ("audience", "mailings"),
        ("suppression", "national"),
        ("", "campaigns"),
    ],
    "events": [("", "events")],
    "regions": [("national", "regions"), ("", "regions")],
    "": [
        ("home", "home"),
        ("decisions", "decisions"),
        ("join_request", "decisions"),
        ("representative", "national"),
        ("export_log", "national"),
        ("status", "national"),
        ("import", "regions"),
        ("group_import", "regions"),
        ("council", "regions"),
        ("region", "regions"),
        ("my_region", "regions"),
    ],
}


@register.simple_tag(takes_context=True)
def menu_section(context) -> str:
    """The menu item the current page sits under ("regions", "mailings"...), or ""."""
    match = getattr(context.get("request"), "resolver_match", None)
    if match is None:
        return ""
    for prefix, section in SECTIONS.get(match.namespace, []):
        if (match.url_name or "").startswith(prefix):
            return section
    return ""


# allauth's pages for managing one's account, under Your account: each one's label, and for the
# steps of two-factor authentication the page they belong to.
ACCOUNT = ("Your account", "profile")
TWO_FACTOR = ("Two-factor authentication", "mfa_index")
ACCOUNT_PAGES = {
    "account_email": ("Email addresses",),
    "account_change_password": ("Change your password",),
    "account_set_password": ("Set a password",),
    "account_reauthenticate": ("Confirm it is you",),
    "account_confirm_reauthentication_code": ("Confirm it is you",),
    "account_request_reauthentication_code": ("Confirm it is you",),
    "mfa_reauthenticate": ("Confirm it is you",),
    "mfa_index": ("Two-factor authentication",),
    "mfa_activate_totp": (*TWO_FACTOR, "Authenticator app"),
    "mfa_deactivate_totp": (*TWO_FACTOR, "Turn off the authenticator app"),
    "mfa_view_recovery_codes": (*TWO_FACTOR, "Recovery codes"),
    "mfa_generate_recovery_codes": (*TWO_FACTOR, "New recovery codes"),
    "mfa_list_webauthn": (*TWO_FACTOR, "Security keys"),
    "mfa_add_webauthn": (*TWO_FACTOR, "Add a security key"),
    "mfa_edit_webauthn": (*TWO_FACTOR, "Security keys"),
    "mfa_remove_webauthn": (*TWO_FACTOR, "Security keys"),
}


@register.simple_tag(takes_context=True)
def account_breadcrumbs(context) -> str:
    """Home › Your account › … for allauth's account pages; nothing on the pages of signing in,
    which come before any account."""
    match = getattr(context.get("request"), "resolver_match", None)
    user = context.get("user")
    trail = ACCOUNT_PAGES.get(getattr(match, "url_name", None))
    if trail is None or not getattr(user, "is_authenticated", False):
        return ""
    return breadcrumbs(context, *ACCOUNT, *trail)
