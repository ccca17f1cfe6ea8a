"""Keep the search index in step with the objects it describes: every save or delete of a
person, councillor profile, council, Labour group, mailing or campaign refreshes its entry in
the same transaction. Saves limited to fields the index does not hold (a login's
`last_login`, a mailing's progress) cost nothing.

Two services write in bulk, which sends no post_save: the councillor import and the council
data loader. Each sends a signal of its own app when it has written (`members.signals.
councillors_written_in_bulk`, `regions.signals.councils_written_in_bulk`), answered here, so
that a councillor imported a moment ago is found at once. Anything changed by other means is
mended by the nightly `entries_reconcile`.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from campaigns.models import Campaign, Mailing
from members.models import Councillor
from members.signals import councillors_written_in_bulk
from regions.models import Council, CouncilGroup
from regions.signals import councils_written_in_bulk
from search import services
from search.models import SearchEntry

Kind = SearchEntry.Kind
User = get_user_model()

# The fields each model's entries are made from: a save naming none of them changes nothing.
INDEXED_FIELDS = {
    User: {"full_name", "preferred_name", "email"},
    Councillor: {"user", "council", "ward", "phone", "left_on"},
    Council: {"name", "short_name", "gss_code", "region", "start_date", "end_date"},
    CouncilGroup: {"name", "council"},
    Mailing: {"subject", "owner_region"},
    Campaign: {"title"},
}


def _indexed_change(sender, update_fields) -> bool:
    if update_fields is None:
        return True
    names = {name.removesuffix("_id") for name in update_fields}
    return bool(names & INDEXED_FIELDS[sender])


@receiver(post_save, sender=User, dispatch_uid="search-user-saved")
def user_saved(sender, instance, update_fields=None, raw=False, **kwargs):
    if not raw and _indexed_change(sender, update_fields):
        services.people_refresh(user_ids=[instance.pk])


@receiver(post_save, sender=Councillor, dispatch_uid="search-councillor-saved")
@receiver(post_delete, sender=Councillor, dispatch_uid="search-councillor-deleted")
def councillor_changed(sender, instance, update_fields=None, raw=False, **kwargs):
    if not raw and _indexed_change(sender, update_fields):
        services.people_refresh(user_ids=[instance.user_id])


@receiver(post_save, sender=Council, dispatch_uid="search-council-saved")
def council_saved(sender, instance, update_fields=None, raw=False, **kwargs):
    if not raw and _indexed_change(sender, update_fields):
        services.councils_refresh(council_ids=[instance.pk])


@receiver(post_save, sender=CouncilGroup, dispatch_uid="search-group-saved")
@receiver(post_save, sender=Mailing, dispatch_uid="search-mailing-saved")
@receiver(post_save, sender=Campaign, dispatch_uid="search-campaign-saved")
def object_saved(sender, instance, update_fields=None, raw=False, **kwargs):
    if not raw and _indexed_change(sender, update_fields):
        services.entries_refresh(kind=KIND_OF[sender], ids=[instance.pk])


@receiver(post_delete, sender=User, dispatch_uid="search-user-deleted")
@receiver(post_delete, sender=Council, dispatch_uid="search-council-deleted")
@receiver(post_delete, sender=CouncilGroup, dispatch_uid="search-group-deleted")
@receiver(post_delete, sender=Mailing, dispatch_uid="search-mailing-deleted")
@receiver(post_delete, sender=Campaign, dispatch_uid="search-campaign-deleted")
def object_deleted(sender, instance, **kwargs):
    services.entries_delete(kind=KIND_OF[sender], ids=[instance.pk])


@receiver(councillors_written_in_bulk, dispatch_uid="search-councillors-bulk")
def councillors_bulk(sender, user_ids, **kwargs):
    services.people_refresh(user_ids=user_ids)


@receiver(councils_written_in_bulk, dispatch_uid="search-councils-bulk")
def councils_bulk(sender, council_ids, **kwargs):
    services.councils_refresh(council_ids=council_ids)


KIND_OF = {
    User: Kind.PERSON,
    Council: Kind.COUNCIL,
    CouncilGroup: Kind.GROUP,
    Mailing: Kind.MAILING,
    Campaign: Kind.CAMPAIGN,
}
