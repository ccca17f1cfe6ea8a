"""Reading and checking a CSV file of council Labour groups' details before anything is written.

One row per group, named by its council (any name people use for it, or its GSS code), with the
columns of GROUP_FILE. The groups export (members.selectors.region_groups_table) writes exactly
these columns, so a file exported, edited in a spreadsheet and imported again changes only what
was edited.

- A blank cell, or a column the file leaves out, keeps what is stored: an import fills in and
  changes details, it never clears them (the group's page does that).
- Each office (leader, deputy leader, chief whip, secretary) names its holder by email address.
  An existing account must be a serving councillor on the group's council. An address with no
  account, given with a name, makes a new account and councillor on that council, invited as
  any imported councillor is. `<office>_since` is the day the term starts (today when blank).
- Naming someone other than the holder appoints them from that day and ends the holder's term
  the same day (both stay in the group's history). Naming the holder with another start date
  corrects when their term began.

`group_import_plan` checks every row against the database and says what applying it would
change; the same function runs again when the import is applied.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.formats import date_format

from alc_portal.validators import PHONE_MAX, date_validate, phone_normalise, years_from_today
from members.import_checks import SanityChecks
from members.imports import (
    EMAIL_MAX,
    NAME_MAX,
    FileLayout,
    clean_email,
    clean_person_name,
    clean_phone,
    council_in_region,
    emails_in_use,
    plan_counted,
)
from members.models import User
from regions.models import CouncilGroup, GroupOfficer
from regions.names import CouncilNames

ROLES = tuple(GroupOfficer.Role.values)
ROLE_LABELS = dict(GroupOfficer.Role.choices)
GROUP_NAME_MAX = CouncilGroup._meta.get_field("name").max_length
ADDRESS_MAX = CouncilGroup._meta.get_field("postal_address").max_length


def _office_columns(role: str) -> tuple[str, str, str]:
    return f"{role}_email", f"{role}_name", f"{role}_since"


GROUP_FILE = FileLayout(
    required=(),
    optional=(
        "council",
        "gss_code",
        "group",
        "contact_email",
        "phone",
        "postal_address",
        *(column for role in ROLES for column in _office_columns(role)),
    ),
    aliases={
        "council": ("council", "councilname", "authority", "localauthority"),
        "gss_code": ("gsscode", "gss", "councilgss", "councilgsscode", "councilcode"),
        "group": ("group", "groupname", "labourgroup"),
        "contact_email": (
            "contactemail",
            "contactemailaddress",
            "groupemail",
            "email",
            "emailaddress",
        ),
        "phone": ("phone", "phonenumber", "contactphone", "telephone", "tel"),
        "postal_address": ("postaladdress", "address", "postaddress"),
        **{
            f"{role}_{part}": tuple(f"{role.replace('_', '')}{alias}" for alias in aliases)
            for role in ROLES
            for part, aliases in (
                ("email", ("email", "emailaddress")),
                ("name", ("name", "fullname")),
                ("since", ("since", "startdate", "from", "start")),
            )
        },
    },  # fmt: skip
    described=(
        "council (or gss_code) and any of group, contact_email, phone, postal_address and, for "
        "each office (leader, deputy_leader, chief_whip, secretary), <office>_email, "
        "<office>_name and <office>_since"
    ),
    rows_are="groups",
    one_of=("council", "gss_code"),
)
# The columns in the order the export writes them.
GROUP_COLUMNS = GROUP_FILE.optional

# Dates as spreadsheets save them in Britain, besides the ISO dates the export writes.
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y")
POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b", re.IGNORECASE)
ADDRESS_CHARACTERS_MESSAGE = "The postal address cannot contain < or > (use plain text)."
GROUP_NAME_MESSAGE = "The group's name cannot contain < or > (use plain text)."


def parse_date(text: str) -> datetime.date:
    """A date as written in a spreadsheet cell, or ValidationError."""
    text = " ".join(text.split())
    for fmt in DATE_FORMATS:
        try:
            day = datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return date_validate(day, latest=years_from_today(1), what="start date")
    raise ValidationError(f"'{text[:40]}' is not a date: write it as 2027-05-06 or 06/05/2027.")


def shown_date(day: datetime.date) -> str:
    return date_format(day, "j F Y")


def address_tidy(value: str) -> str:
    """An address with one kind of line break and no blank or padded lines."""
    lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
    return "\n".join(line for line in lines if line)


def postal_address_clean(value: str) -> str:
    """An address as stored (address_tidy), refused if it is not plain text or too long."""
    address = address_tidy(value)
    if "<" in address or ">" in address:
        raise ValidationError(ADDRESS_CHARACTERS_MESSAGE)
    if len(address) > ADDRESS_MAX:
        raise ValidationError(f"The postal address is too long (at most {ADDRESS_MAX} characters).")
    return address


def _person(user) -> str:
    return f"{user.full_name or user.email} ({user.email})"


def group_import_plan(rows: list[dict], *, region) -> dict:
    """What importing these rows of groups' details into the region would do, without writing.

    Returns the plan as members.imports.import_plan does: each row has `action` (update,
    unchanged or error), `changes` (a list of {field, label, old, new} as the preview shows
    them), `errors` and `warnings`, and what the writer needs: `group_id`, `council_id`,
    `fields` (the group's new values) and `offices` (appointments and corrected start dates,
    with any `new_person` to create).
    """
    councils = CouncilNames.current()
    matched = []
    found = []
    for row in rows:
        errors: list[str] = []
        text = row["gss_code"] or row["council"]
        council = council_in_region(text, councils, region, errors)
        if council is not None and row["gss_code"] and row["council"]:
            by_name = councils.find(row["council"])
            if by_name.found and by_name.council.pk != council.pk:
                named, code = row["council"][:200], row["gss_code"][:20]
                errors.append(
                    f"The council ({named}) and the GSS code ({code}) name different councils."
                )
                council = None
        matched.append((row, council, errors))
    council_ids = {council.pk for _row, council, _errors in matched if council is not None}
    officers = GroupOfficer.objects.select_related("user").order_by("start_date", "pk")
    groups = {
        group.council_id: group
        for group in CouncilGroup.objects.filter(council_id__in=council_ids).prefetch_related(
            Prefetch("officers", queryset=officers, to_attr="terms")
        )
    }
    emails = {
        row[f"{role}_email"].strip().lower()
        for row in rows
        for role in ROLES
        if row[f"{role}_email"].strip()
    }
    accounts = _accounts(emails)
    in_use = emails_in_use(emails)

    context = {
        "groups": groups,
        "accounts": accounts,
        "in_use": in_use,
        "seen_councils": {},
        "new_people": {},
        "today": timezone.localdate(),
    }
    planned = []
    for row, council, errors in matched:
        result = _plan_row(row, council, errors, context)
        planned.append(result)
        if result["action"] != "error" and result["offices"]:
            found.append((result, council))
    checks = SanityChecks(council.pk for _row, council in found)
    for result, council in found:
        for office in result["offices"]:
            if office.get("new_person"):
                checks.joins(result, council)
    checks.finish()
    return plan_counted(planned)


def _accounts(emails) -> dict[str, User]:
    """The accounts whose login address is one of these (lower case), with their councillor
    profile; a query per 2,000 addresses."""
    wanted = sorted(emails)
    found = {}
    for start in range(0, len(wanted), 2000):
        for user in (
            User.objects.annotate(address=Lower("email"))
            .filter(address__in=wanted[start : start + 2000])
            .select_related("councillor")
        ):
            found[user.address] = user
    return found


def _plan_row(row: dict, council, errors: list[str], context: dict) -> dict:
    result = {
        "line": row["line"],
        "council": (row["council"] or row["gss_code"])[:200],
        "group": row["group"][: GROUP_NAME_MAX + 20],
        "changes": [],
        "errors": errors,
        "warnings": [],
        "group_id": None,
        "council_id": None,
        "fields": {},
        "offices": [],
    }
    if row.get("extra_fields"):
        errors.append("The row has more fields than the header line.")
    group = None
    if council is not None:
        result["council"] = council.name
        group = context["groups"].get(council.pk)
        seen = context["seen_councils"]
        if group is None:
            errors.append(
                f"{council.name} has no Labour group on the portal (Labour holds no seats there)."
            )
        elif council.pk in seen:
            errors.append(f"{council.name}'s group is also on line {seen[council.pk]}.")
            group = None
        else:
            seen[council.pk] = row["line"]
    if group is not None:
        result.update(group_id=group.pk, council_id=council.pk, group=group.name)
        _plan_details(row, group, result)
        for role in ROLES:
            _plan_office(row, role, group, council, result, context)
    if errors:
        result.update(action="error", fields={}, offices=[], changes=[])
        return result
    result["action"] = "update" if result["changes"] else "unchanged"
    return result


def _checked(errors: list, label: str | None, clean, *args, **kwargs):
    """What `clean` makes of a cell; or None, with each of its complaints added to `errors`
    after the column's `label` (if any)."""
    try:
        return clean(*args, **kwargs)
    except ValidationError as exc:
        errors.extend(f"{label}: {message}" if label else message for message in exc.messages)
        return None


def _plan_details(row: dict, group, result: dict) -> None:
    """The group's own details: name, contact email, phone and postal address."""
    errors, changes, fields = result["errors"], result["changes"], result["fields"]

    def change(field: str, label: str, old: str, new: str) -> None:
        changes.append({"field": field, "label": label, "old": old, "new": new})
        fields[field] = new

    name = " ".join(row["group"].split())
    if name and name != group.name:
        if "<" in name or ">" in name:
            errors.append(GROUP_NAME_MESSAGE)
        elif len(name) > GROUP_NAME_MAX:
            errors.append(f"The group's name is too long (at most {GROUP_NAME_MAX} characters).")
        else:
            change("name", "Name", group.name, name)

    if row["contact_email"].strip():
        email = _checked(errors, "Contact email", clean_email, row["contact_email"])
        # The address as stored keeps its case: only a different address is a change.
        if email is not None and email != group.contact_email.strip().lower():
            change("contact_email", "Contact email", group.contact_email, email)

    if row["phone"].strip():
        phone = _checked(
            errors, "Phone", clean_phone, row["phone"][: PHONE_MAX + 20], stored=group.phone
        )
        if phone is not None and phone != phone_normalise(group.phone):
            change("phone", "Phone", group.phone, phone)

    if row["postal_address"].strip():
        address = _checked(errors, None, postal_address_clean, row["postal_address"])
        if address is not None and address != address_tidy(group.postal_address):
            change("postal_address", "Postal address", group.postal_address, address)
        if address is not None and not POSTCODE.search(address):
            result["warnings"].append(
                "The postal address has no postcode: letters to the group need one."
            )


def _plan_office(row: dict, role: str, group, council, result: dict, context: dict) -> None:
    """One office: unchanged, a new holder from a date, or the holder's start date corrected."""
    email_column, name_column, since_column = _office_columns(role)
    email_text, name_text, since_text = (row[c].strip() for c in _office_columns(role))
    if not (email_text or name_text or since_text):
        return
    label = ROLE_LABELS[role]
    errors = result["errors"]
    if not email_text:
        errors.append(
            f"{label}: give their email address ({email_column}); a name or date alone does "
            "not say who holds the office."
        )
        return
    email = _checked(errors, label, clean_email, email_text[: EMAIL_MAX + 20])
    if email is None:
        return
    since = None
    if since_text:
        since = _checked(errors, label, parse_date, since_text)
        if since is None:
            return

    terms = [term for term in group.terms if term.role == role]
    holder = next((term for term in terms if term.end_date is None), None)
    if holder is not None and holder.user.email.strip().lower() == email:
        _plan_same_holder(role, label, holder, terms, since, name_text, council, result)
        return

    start = since or context["today"]
    if holder is not None and start < holder.start_date:
        errors.append(
            f"{label}: the start date cannot be before the current holder's "
            f"({shown_date(holder.start_date)})."
        )
        return
    user = context["accounts"].get(email)
    office = {"role": role, "op": "appoint", "since": start.isoformat(), "email": email}
    if user is not None:
        councillor = getattr(user, "councillor", None)
        if councillor is None or councillor.council_id != council.pk or councillor.left_on:
            errors.append(
                f"{label}: {email} is not a serving councillor on {council.name}. Only its "
                "serving councillors can hold a group office: import them as councillors first."
            )
            return
        office["user_id"] = user.pk
        new_holder = _person(user)
    elif email in context["in_use"]:
        errors.append(
            f"{label}: {email} is an extra address on someone else's account. Use the "
            "councillor's main email address, or ask the national office."
        )
        return
    else:
        if not name_text:
            errors.append(
                f"{label}: nobody on the portal has the address {email}. Give their name "
                f"({name_column}) too, to add them as a councillor on {council.name} and invite "
                "them."
            )
            return
        full_name = _checked(errors, label, clean_person_name, name_text[: NAME_MAX + 20])
        if full_name is None:
            return
        known = context["new_people"].get(email)
        if known is not None and known["line"] != row["line"]:
            errors.append(
                f"{label}: {email} is also on line {known['line']}: a new councillor can be "
                "named for one group only."
            )
            return
        if known is not None and known["full_name"] != full_name:
            errors.append(f"{label}: {email} is named '{known['full_name']}' in another column.")
            return
        first = known is None
        context["new_people"][email] = {
            "line": row["line"],
            "council_id": council.pk,
            "full_name": full_name,
        }
        office["new_person"] = {"email": email, "full_name": full_name, "create": first}
        new_holder = f"{full_name} ({email}), a new councillor to be invited"
    if holder is not None:
        office["holder_id"] = holder.pk
    result["offices"].append(office)
    result["changes"].append(
        {
            "field": role,
            "label": label,
            "old": _person(holder.user) if holder is not None else "",
            "new": f"{new_holder}, from {shown_date(start)}",
        }
    )


def _plan_same_holder(role, label, holder, terms, since, name_text, council, result) -> None:
    """The file names the office's holder: their start date may be corrected."""
    user = holder.user
    if name_text and " ".join(name_text.split()) != user.full_name:
        result["warnings"].append(
            f"{label}: the file names {user.email} '{name_text[:NAME_MAX]}', but their account "
            f"says '{user.full_name}'; the name is not changed by this import."
        )
    councillor = getattr(user, "councillor", None)
    if councillor is None or councillor.council_id != council.pk or councillor.left_on:
        result["warnings"].append(
            f"{label}: {_person(user)} is no longer a serving councillor on {council.name}; end "
            "their term on the group's officers page."
        )
    if since is None or since == holder.start_date:
        return
    earlier = [term.start_date for term in terms if term.pk != holder.pk]
    if earlier and since < max(earlier):
        result["errors"].append(
            f"{label}: the start date cannot be before the previous holder's "
            f"({shown_date(max(earlier))})."
        )
        return
    result["offices"].append(
        {
            "role": role,
            "op": "redate",
            "since": since.isoformat(),
            "holder_id": holder.pk,
            "old_since": holder.start_date.isoformat(),
        }
    )
    result["changes"].append(
        {
            "field": f"{role}_since",
            "label": f"{label} since",
            "old": shown_date(holder.start_date),
            "new": shown_date(since),
        }
    )
