"""What a person's search may find, decided by the same access functions as every page.

Search reads in two steps. The index is first narrowed to what the person may see, by region
and kind (`SearchScope`, from regions.access), so that nothing outside their view takes a
place among the candidates. Then every candidate is looked up again through the access
function of its kind (`..._found_by`), and only what comes back is shown or counted: the index
proposes, the apps' access rules decide. An index that fell behind (a councillor who moved
region a moment ago) can hide a result for a while, never show one it should not.

By role:

- a councillor finds the serving councillors of their region, as its councillor lists show
  them (members.access.councillors_listed_for), and its councils and Labour groups;
- a representative finds everyone in their regions, former councillors included
  (councillors_managed_by), and their councils and groups;
- staff find everyone, every council and group, and mailings and campaigns;
- nobody else (signed out, or a councillor who has left) finds anything.

People are found by email address or phone number only by those who may open their profile
(those who manage their region: the weight-D tokens of the index); colleagues who only see
them listed find them by name and ward.
"""

import dataclasses

from django.contrib.auth import get_user_model
from django.db.models import Q

from campaigns.access import campaigns_managed_by, is_staff, mailings_visible_to
from campaigns.models import Mailing
from members.access import councillors_listed_for, councillors_managed_by
from regions.access import (
    councils_visible_to,
    groups_visible_to,
    regions_managed_by,
    regions_visible_to,
)
from search.models import SearchEntry

Kind = SearchEntry.Kind
# What a person's result shows and links to (search.results).
PERSON_FIELDS = [
    "user_id", "ward", "left_on", "user__full_name", "user__email",
    "council__slug", "council__short_name", "council__region_id",
]  # fmt: skip
# Weights of the index's tokens (search.models): names and details for everyone who may see an
# entry, contacts (D) only for those who manage it.
LISTED, MANAGED = "AB", "ABD"


@dataclasses.dataclass(frozen=True)
class SearchScope:
    """The entries a person's search may look at: `parts` pairs a filter on the index with the
    token weights matched within it."""

    everything: bool = False
    managed_region_ids: frozenset = frozenset()
    visible_region_ids: frozenset = frozenset()

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.visible_region_ids or self.managed_region_ids)

    def parts(self) -> list[tuple[Q, str]]:
        if self.everything:
            return [(Q(), MANAGED)]
        parts = []
        if self.visible_region_ids:
            places = [Kind.COUNCIL, Kind.GROUP]
            parts.append((Q(kind__in=places, region_id__in=self.visible_region_ids), LISTED))
        # Colleagues in a region the person also manages are matched as managed (contacts too).
        listed_only = self.visible_region_ids - self.managed_region_ids
        if listed_only:
            parts.append((Q(kind=Kind.PERSON, current=True, region_id__in=listed_only), LISTED))
        if self.managed_region_ids:
            parts.append((Q(kind=Kind.PERSON, region_id__in=self.managed_region_ids), MANAGED))
        return parts

    def may_search_contacts(self, region_id) -> bool:
        return self.everything or region_id in self.managed_region_ids


def search_scope(user) -> SearchScope:
    if not user.is_authenticated:
        return SearchScope()
    if user.is_national_staff:
        return SearchScope(everything=True)
    return SearchScope(
        managed_region_ids=frozenset(regions_managed_by(user).values_list("pk", flat=True)),
        visible_region_ids=frozenset(regions_visible_to(user).values_list("pk", flat=True)),
    )


def councillors_found_by(user, user_ids):
    """The councillor profiles of these people that the person may see listed or manage."""
    found = councillors_listed_for(user) | councillors_managed_by(user)
    return found.filter(user_id__in=user_ids).select_related("user", "council").only(*PERSON_FIELDS)


def accounts_found_by(user, user_ids):
    """People with no councillor profile (staff, representatives, people invited but not yet
    placed): the national office alone finds them, as it alone manages their accounts."""
    if not is_staff(user):
        return get_user_model().objects.none()
    return get_user_model().objects.filter(pk__in=user_ids, councillor__isnull=True)


def councils_found_by(user, ids):
    return councils_visible_to(user).filter(pk__in=ids).defer("file_values", "notes")


def groups_found_by(user, ids):
    return (
        groups_visible_to(user)
        .filter(pk__in=ids)
        .select_related("council")
        .only("name", "council__name")
    )


def mailings_found_by(user, ids):
    """Mailings are searched by staff only (representatives reach their region's from the
    mailings list)."""
    if not is_staff(user):
        return Mailing.objects.none()
    return mailings_visible_to(user).filter(pk__in=ids)


def campaigns_found_by(user, ids):
    return campaigns_managed_by(user).filter(pk__in=ids)
