"""Reads that several pages and services share: who is told of what, and where to write to."""

from email.utils import parseaddr

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse

from members import group_imports, imports
from members.access import councillors_managed_by
from members.group_imports import GROUP_COLUMNS
from members.models import StaffRole, User
from regions.access import groups_visible_to
from regions.models import GroupOfficer, RegionalRepresentative


def portal_link(name: str, *args) -> str:
    """The full address of a page of the portal, for links in email."""
    return settings.PORTAL_URL.rstrip("/") + reverse(name, args=args)


def national_office_email() -> str:
    """The address people are told to write to: NATIONAL_OFFICE_EMAIL if set, otherwise the
    address the portal's mail comes from."""
    configured = getattr(settings, "NATIONAL_OFFICE_EMAIL", "")
    return configured or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def national_staff_to_notify() -> list[User]:
    return list(
        User.objects.filter(is_active=True, pk__in=StaffRole.objects.values("user_id")).order_by(
            "pk"
        )
    )


def deciders_in_regions(region_ids) -> tuple[list[User], bool]:
    """Who is told of a request to decide: the current representatives of these regions, or,
    while none has one, the national office staff; and whether they are representatives."""
    representatives = list(
        User.objects.filter(
            is_active=True,
            representative_roles__in=RegionalRepresentative.objects.current().filter(
                region_id__in=region_ids
            ),
        )
        .distinct()
        .order_by("pk")
    )
    if representatives:
        return representatives, True
    return national_staff_to_notify(), False


# The region's exports: a header and rows of plain values, for a CSV.

COUNCILLORS_HEADER = [
    "full_name",
    "email",
    "council",
    "council_gss",
    "ward",
    "phone",
    "labour_coop",
]


def region_councillors_table(user, region) -> tuple[list[str], list[tuple]]:
    """The serving councillors of a region that `user` manages, by council and name."""
    councillors = (
        councillors_managed_by(user)
        .serving()
        .filter(council__region=region)
        .select_related("user", "council")
        .order_by("council__short_name", "user__full_name", "pk")
    )
    rows = [
        (
            c.user.full_name,
            c.user.email,
            c.council.name,
            c.council.gss_code,
            c.ward,
            c.phone,
            "yes" if c.labour_coop else "no",
        )
        for c in councillors
    ]
    return COUNCILLORS_HEADER, rows


# The groups export is the group import's format (members.group_imports): exported, edited in a
# spreadsheet and imported again, a file changes only what was edited.
GROUPS_HEADER = list(GROUP_COLUMNS)


def region_groups_table(user, region) -> tuple[list[str], list[tuple]]:
    """The Labour groups of a region, with their contact details and, for each office, its
    holder (their address and name) and the day their term began. The holder is the latest
    appointment, whose term has no end yet: the one an import compares with."""
    # The groups are scoped to what the person may see; their officers come with them (an
    # officer scoped again here would repeat the visibility subquery for every row).
    officers = GroupOfficer.objects.filter(end_date__isnull=True).select_related("user")
    groups = (
        groups_visible_to(user)
        .filter(council__region=region)
        .select_related("council")
        .prefetch_related(Prefetch("officers", queryset=officers, to_attr="open_terms"))
        .order_by("council__short_name", "pk")
    )

    def office(group, role) -> tuple[str, str, str]:
        term = next((o for o in group.open_terms if o.role == role), None)
        if term is None:
            return "", "", ""
        return term.user.email, term.user.full_name, term.start_date.isoformat()

    rows = [
        (
            g.council.name,
            g.council.gss_code,
            g.name,
            g.contact_email,
            g.phone,
            g.postal_address,
            *(value for role in GroupOfficer.Role for value in office(g, role)),
        )
        for g in groups
    ]
    return GROUPS_HEADER, rows


def import_rejected_rows_table(councillor_import) -> tuple[list[str], list[tuple]]:
    """The rows of an import's file that have errors, as the file gave them, with their errors
    in a last column: to correct in a spreadsheet and upload again (the import reads no column
    it does not know, so the errors column may stay)."""
    groups = councillor_import.is_of_groups
    layout = group_imports.GROUP_FILE if groups else imports.COUNCILLOR_FILE
    errors = {
        row["line"]: row["errors"]
        for row in (councillor_import.report or {}).get("rows", [])
        if row.get("errors")
    }
    columns = list(layout.columns)
    rows = [
        (*(row[name] for name in columns), " ".join(errors[row["line"]]))
        for row in imports.read_rows(councillor_import.content, layout)
        if row["line"] in errors
    ]
    return [*columns, "errors"], rows
