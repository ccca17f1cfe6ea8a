"""Writes for CSV imports of council Labour groups' details: contact addresses and officers.

The machinery every import shares (preview, confirm, the background run) is councillor_imports;
reading and checking the file is members.group_imports. Each chunk of rows is written with the
same few queries however many rows it has; every change keeps its history, with the import as
its reason.
"""

from __future__ import annotations

import datetime

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from members.models import Councillor, User
from members.services.councillor_imports import imported_people_invite
from members.signals import councillors_written_in_bulk
from regions.models import CouncilGroup, GroupOfficer
from regions.signals import councils_written_in_bulk

GROUP_FIELDS = ("name", "contact_email", "phone", "postal_address")


def group_plan_write(plan: dict, *, by: User | None, reason: str, on_progress=None) -> None:
    """Write the rows of an error-free plan of groups' details, in chunks. Call inside a
    transaction holding the region's import lock (councillor_imports)."""
    rows = plan["rows"]
    size = settings.IMPORT_CHUNK_ROWS
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        _write_chunk([row for row in chunk if row["action"] == "update"], by=by, reason=reason)
        if on_progress:
            on_progress(start + len(chunk))


def _write_chunk(rows: list[dict], *, by: User | None, reason: str) -> None:
    _write_details([row for row in rows if row["fields"]], by=by, reason=reason)
    offices = [(row, office) for row in rows for office in row["offices"]]
    if not offices:
        return
    new_users = _create_people(offices, by=by, reason=reason)
    _write_offices(offices, new_users, by=by, reason=reason)


def _write_details(rows: list[dict], *, by, reason: str) -> None:
    if not rows:
        return
    groups = (
        CouncilGroup.objects.select_for_update(of=("self",))
        .select_related("council")
        .in_bulk([row["group_id"] for row in rows])
    )
    changed = set()
    for row in rows:
        group = groups[row["group_id"]]
        for field, value in row["fields"].items():
            setattr(group, field, value)
            changed.add(field)
    bulk_update_with_history(
        list(groups.values()),
        CouncilGroup,
        [field for field in GROUP_FIELDS if field in changed],
        default_user=by,
        default_change_reason=f"Contact details changed ({reason})",
    )
    councils_written_in_bulk.send(
        sender=CouncilGroup, council_ids=[group.council_id for group in groups.values()]
    )


def _create_people(offices, *, by, reason: str) -> dict[str, User]:
    """Accounts and councillor profiles for the new people named as officers, invited once the
    import commits. Returns every new account by address."""
    wanted = {}
    for row, office in offices:
        person = office.get("new_person")
        if person and person["create"]:
            wanted[person["email"]] = (person["full_name"], row["council_id"])
    if not wanted:
        return {}
    users = [
        User(email=email, full_name=full_name, password=make_password(None))
        for email, (full_name, _council) in wanted.items()
    ]
    bulk_create_with_history(users, User, default_user=by, default_change_reason=reason)
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=False, primary=True) for user in users
    )
    bulk_create_with_history(
        [Councillor(user=user, council_id=wanted[user.email][1], ward="") for user in users],
        Councillor,
        default_user=by,
        default_change_reason=f"Named as a group officer ({reason})",
    )
    councillors_written_in_bulk.send(sender=Councillor, user_ids=[user.pk for user in users])
    invited = [{"email": email, "council_id": council} for email, (_n, council) in wanted.items()]
    imported_people_invite(users, [row | {"ward": ""} for row in invited], by=by, reason=reason)
    return {user.email: user for user in users}


def _write_offices(offices, new_users: dict[str, User], *, by, reason: str) -> None:
    """Appointments (ending the holder's term on the new holder's first day) and corrected
    start dates (moving the end of the term handed over on the old date with them)."""
    holder_ids = [office["holder_id"] for _row, office in offices if office.get("holder_id")]
    holders = GroupOfficer.objects.select_for_update().in_bulk(holder_ids)
    redated = [(row, office) for row, office in offices if office["op"] == "redate"]
    handed_over = {}
    if redated:
        earlier = GroupOfficer.objects.select_for_update().filter(
            group_id__in={row["group_id"] for row, _office in redated},
            role__in={office["role"] for _row, office in redated},
            end_date__in={datetime.date.fromisoformat(o["old_since"]) for _r, o in redated},
        )
        handed_over = {(term.group_id, term.role, term.end_date): term for term in earlier}

    updated: dict[int, GroupOfficer] = {}
    created = []
    for row, office in offices:
        since = datetime.date.fromisoformat(office["since"])
        holder = holders.get(office.get("holder_id"))
        if office["op"] == "redate":
            old = datetime.date.fromisoformat(office["old_since"])
            before = handed_over.get((row["group_id"], office["role"], old))
            if before is not None:
                before.end_date = since
                before._change_reason = f"Term end moved with the next holder's start ({reason})"
                updated[before.pk] = before
            holder.start_date = since
            holder._change_reason = f"Start date corrected ({reason})"
            updated[holder.pk] = holder
            continue
        if holder is not None:
            holder.end_date = since
            holder._change_reason = f"Term ended by a new appointment ({reason})"
            updated[holder.pk] = holder
        person = office.get("new_person")
        user_id = new_users[person["email"]].pk if person else office["user_id"]
        officer = GroupOfficer(
            group_id=row["group_id"], role=office["role"], user_id=user_id, start_date=since
        )
        officer._change_reason = f"Appointed ({reason})"
        created.append(officer)
    if updated:
        # Terms end before their successors begin: one open term per office at any moment.
        bulk_update_with_history(
            list(updated.values()),
            GroupOfficer,
            ["start_date", "end_date"],
            default_user=by,
            default_change_reason=reason,
        )
    if created:
        bulk_create_with_history(
            created, GroupOfficer, default_user=by, default_change_reason=reason
        )
