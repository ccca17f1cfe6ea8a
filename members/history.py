"""The change history of a person, for staff: their councillor profile and positions, their
account (name, email, admin access, permission groups and permissions granted or removed), their
email addresses (added, verified, made primary, removed) and their roles (staff, regional
representative).

Read with the same tools as the groups' history (regions.history): one query per model, each
record compared with the one before it.
"""

from allauth.account.models import EmailAddress

from regions.history import Change, describe, latest_records, newest_first
from regions.models import RegionalRepresentative

from .models import Councillor, Position, StaffRole, User


def councillor_changes(councillor: Councillor) -> list[Change]:
    """Every recorded change to the councillor and their roles, newest first."""
    user_id = councillor.user_id
    profile = latest_records(
        Councillor.history.filter(id=councillor.pk).select_related(
            "history_user", "user", "council"
        )
    )
    positions = latest_records(
        Position.history.filter(councillor_id=councillor.pk).select_related(
            "history_user", "councillor__user"
        )
    )
    account = latest_records(User.history.filter(id=user_id).select_related("history_user"))
    staff_roles = latest_records(
        StaffRole.history.filter(user_id=user_id).select_related("history_user", "user")
    )
    appointments = latest_records(
        RegionalRepresentative.history.filter(user_id=user_id).select_related(
            "history_user", "user", "region"
        )
    )
    addresses = latest_records(
        EmailAddress.history.filter(user_id=user_id).select_related("history_user", "user")
    )
    return newest_first(
        describe(profile, lambda r: "Councillor profile"),
        describe(addresses, lambda r: f"Email address {r.email}"),
        describe(positions, lambda r: f"Position: {r.title}"),
        describe(account, lambda r: "Account"),
        describe(staff_roles, lambda r: "Staff role"),
        describe(appointments, lambda r: f"Representative for {r.region}"),
    )
