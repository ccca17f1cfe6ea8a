"""Writes for a councillor's own profile: their details, positions and preferences, and asking
to change council or ward (members.services.profile_changes decides that)."""

from django.db import transaction
from django.utils import timezone

from members.access import CHANGE_ACTION, require_serving_councillor
from members.models import Councillor, Decision, Position, ProfileChange
from members.services.profile_changes import profile_change_request_notices_queue

USER_FIELDS = ["full_name", "preferred_name"]


COUNCILLOR_FIELDS = [
    "first_elected",
    "term_ends",
    "labour_coop",
    "phone",
    "bio",
    "wants_campaign_mailings",
    "wants_regional_news",
    "wants_training_events",
]


@transaction.atomic
def profile_update(
    *, councillor: Councillor, changes: dict, positions: list[dict]
) -> ProfileChange | None:
    """Apply a councillor's own edit. Everything applies at once except a change of council or
    ward, which waits for the representative of the new council's region: it becomes the one
    pending change (replacing any earlier one). Returns the pending change, if there is one.

    A councillor who has left may still correct their name, contact details and preferences,
    but asking to move council or ward is refused (PermissionDenied) and nothing is saved."""
    councillor = Councillor.objects.select_for_update().select_related("user").get(pk=councillor.pk)
    council, ward = changes["council"], changes["ward"]
    moves = council.pk != councillor.council_id or ward != councillor.ward
    if moves:
        require_serving_councillor(councillor, action=CHANGE_ACTION)
    user = councillor.user
    for field in USER_FIELDS:
        setattr(user, field, changes[field])
    user._change_reason = "Edited by the councillor"
    user.save(update_fields=USER_FIELDS)
    for field in COUNCILLOR_FIELDS:
        setattr(councillor, field, changes[field])
    councillor._change_reason = "Edited by the councillor"
    councillor.save(update_fields=COUNCILLOR_FIELDS)
    positions_replace(councillor=councillor, positions=positions)

    pending = councillor.pending_changes.filter(status=Decision.PENDING).first()
    if not moves:
        # Back to what they have: nothing left to approve.
        if pending:
            pending.delete()
        return None
    # Saving the profile again with the same request changes nothing for those who decide it.
    asks_anew = pending is None or (pending.council_id, pending.ward) != (council.pk, ward)
    if pending is None:
        pending = ProfileChange(councillor=councillor)
    pending.council, pending.ward, pending.requested_at = council, ward, timezone.now()
    pending._change_reason = "Requested by the councillor"
    pending.save()
    if asks_anew:
        profile_change_request_notices_queue(change=pending)
    return pending


def positions_replace(*, councillor: Councillor, positions: list[dict]) -> None:
    """Make the councillor's positions exactly these: rows with an id are updated, rows without
    one are added, and positions not listed are removed."""
    keep = {p["id"] for p in positions if p.get("id")}
    councillor.positions.exclude(pk__in=keep).delete()
    existing = {p.pk: p for p in councillor.positions.filter(pk__in=keep)}
    for row in positions:
        position = existing.get(row.get("id")) or Position(councillor=councillor)
        position.title, position.start_date = row["title"], row.get("start_date")
        position.save()
