"""A person's search, from what they typed to the results they may see: grouped by kind, each
with the link to the page its finder may open.

Every match is looked up through the access function of its kind (search.access) before it is
shown or counted, so a result, a link and a count only ever describe what the person may see.
A colleague a councillor sees listed links to their council's list of councillors (the page
that lists them; their profile would answer 403); someone the person manages links to the
profile they may edit; the person themself to their own profile.
"""

import dataclasses

from django.urls import reverse

from regions.access import manages_region
from search import access
from search.matching import candidates, matches_rank
from search.models import SearchEntry
from search.text import query_tokens

Kind = SearchEntry.Kind
MIN_LENGTH = 2


@dataclasses.dataclass
class Result:
    title: str
    detail: str
    url: str | None


@dataclasses.dataclass
class ResultGroup:
    kind: str
    label: str
    results: list[Result]
    total: int


@dataclasses.dataclass
class SearchResults:
    query: str
    groups: list[ResultGroup]
    total: int
    more: bool  # more entries matched than were looked at
    too_short: bool = False

    @property
    def summary(self) -> str:
        """The count announced to screen readers, e.g. "7 results: 5 people, 2 councils"."""
        if self.too_short:
            return f"Type at least {MIN_LENGTH} letters to search."
        if not self.total:
            return f"No results for “{self.query}”."
        count = f"{self.total}{'+' if self.more else ''}"
        kinds = ", ".join(f"{group.total} {_label(group)}" for group in self.groups)
        return f"{count} result{'s' if self.total != 1 else ''}: {kinds}"


def _label(group: ResultGroup) -> str:
    singular = {
        Kind.PERSON: "person",
        Kind.COUNCIL: "council",
        Kind.GROUP: "Labour group",
        Kind.CAMPAIGN: "campaign",
        Kind.MAILING: "mailing",
    }
    return group.label.lower() if group.total != 1 else singular[group.kind]


def _people(user, ids) -> dict[int, Result]:
    found = {}
    for councillor in access.councillors_found_by(user, ids):
        council, person = councillor.council, councillor.user
        if councillor.user_id == user.pk:
            url = reverse("profile")
        elif manages_region(user, council.region_id):
            url = reverse("councillor_edit", args=[council.slug, councillor.pk])
        else:
            url = reverse("council_councillors", args=[council.slug])
        where = ", ".join(part for part in (council.short_name, councillor.ward) if part)
        if councillor.left_on is not None:
            where += " (no longer a councillor)"
        found[person.pk] = Result(person.full_name or person.email, where, url)
    for person in access.accounts_found_by(user, ids):
        url = reverse("admin:members_user_change", args=[person.pk]) if user.is_staff else None
        found[person.pk] = Result(person.full_name or person.email, person.email, url)
    return found


def _councils(user, ids) -> dict[int, Result]:
    return {
        council.pk: Result(
            council.name,
            f"{council.short_name}, {council.gss_code}"
            + (" (former council)" if council.is_former() else ""),
            council.get_absolute_url(),
        )
        for council in access.councils_found_by(user, ids)
    }


def _groups(user, ids) -> dict[int, Result]:
    return {
        group.pk: Result(group.name, group.council.name, group.get_absolute_url())
        for group in access.groups_found_by(user, ids)
    }


def _mailings(user, ids) -> dict[int, Result]:
    return {
        mailing.pk: Result(
            mailing.subject,
            mailing.get_status_display(),
            reverse("campaigns:mailing", args=[mailing.pk]),
        )
        for mailing in access.mailings_found_by(user, ids)
    }


def _campaigns(user, ids) -> dict[int, Result]:
    return {
        campaign.pk: Result(campaign.title, campaign.summary, campaign.get_absolute_url())
        for campaign in access.campaigns_found_by(user, ids)
    }


LOOKUPS = {
    Kind.PERSON: _people,
    Kind.COUNCIL: _councils,
    Kind.GROUP: _groups,
    Kind.CAMPAIGN: _campaigns,
    Kind.MAILING: _mailings,
}


def search_for(user, query: str, *, per_kind: int) -> SearchResults:
    """What `user` finds for `query`: at most `per_kind` results of each kind, the kind with
    the best match first."""
    query = " ".join(query.split())[:100]
    tokens = query_tokens(query)
    if len("".join(tokens)) < MIN_LENGTH:
        return SearchResults(query, [], 0, False, too_short=True)
    scope = access.search_scope(user)
    rows, more = candidates(scope, tokens)
    ranked = matches_rank(scope, tokens, rows)
    groups = []
    for kind in Kind.values:
        matches = [match for match in ranked if match.kind == kind]
        if not matches:
            continue
        allowed = LOOKUPS[kind](user, [match.object_id for match in matches])
        results = [allowed[m.object_id] for m in matches if m.object_id in allowed]
        if results:
            best = next(m for m in matches if m.object_id in allowed)
            group = ResultGroup(kind, Kind(kind).label, results[:per_kind], len(results))
            groups.append((-best.score, group))
    # Kinds in order of their best match; equal ones in Kind's order (sort is stable).
    groups.sort(key=lambda pair: pair[0])
    ordered = [group for _order, group in groups]
    return SearchResults(query, ordered, sum(g.total for g in ordered), more)
