"""Finding and ranking the index entries that match what someone typed.

One query to PostgreSQL finds the candidates within the person's scope (search.access): every
typed word must match a token of the entry, as a prefix ("as you type": `rhi` finds Rhiannon)
through the full-text index, or within a typo or two through the deletion keys (search.text).
It returns at most CANDIDATES of them, whole-word matches and names before the rest, and
Python then scores each by how well each word matched:

    whole name word 10, start of a name word 8, whole other word 6, start of one 5,
    a name word one typo away 5, two typos away 3

(other words: a ward, a group's council, and an email address or phone number for those who
may search by them). Ties go to serving councillors and current councils, then to shorter
names, then alphabetically. So an exact match always ranks above a person found only through
a typo.
"""

import dataclasses

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Q

from search.models import SearchEntry
from search.text import query_typo_keys, typo_distance, typos_allowed

CANDIDATES = 100
NAME_WORD, NAME_START, OTHER_WORD, OTHER_START = 10, 8, 6, 5
TYPO_SCORES = {1: 5, 2: 3}


@dataclasses.dataclass
class Match:
    kind: str
    object_id: int
    region_id: int | None
    current: bool
    names: str
    score: int

    @property
    def order(self):
        return (-self.score, not self.current, len(self.names), self.names)


def _tsquery(text: str) -> SearchQuery:
    # Tokens are runs of letters and digits (search.text), safe in a tsquery as they are.
    return SearchQuery(text, config="simple", search_type="raw")


def _words_match(tokens: list[str], weights: str) -> Q:
    """Every token matches a token of the entry of one of these weights as a prefix, or a
    name word through a deletion key."""
    condition = Q()
    for token in tokens:
        found = Q(vector=_tsquery(f"{token}:*{weights}"))
        keys = query_typo_keys(token) if token.isalpha() else set()
        if keys:
            found |= Q(typo_keys__overlap=sorted(keys))
        condition &= found
    return condition


def candidates(scope, tokens: list[str]) -> tuple[list[tuple], bool]:
    """The index rows that may match, best first, and whether there may be more."""
    if scope.is_empty or not tokens:
        return [], False
    condition = Q(pk__in=[])
    for part, weights in scope.parts():
        condition |= part & _words_match(tokens, weights)
    query = (
        SearchEntry.objects.filter(condition)
        .annotate(
            whole=ExpressionWrapper(
                Q(vector=_tsquery(" & ".join(tokens))), output_field=BooleanField()
            ),
            rank=SearchRank(F("vector"), _tsquery(" | ".join(f"{t}:*" for t in tokens))),
        )
        .order_by("-whole", "-rank", "names")
        .values_list("kind", "object_id", "region_id", "current", "names", "details", "contacts")
    )
    with transaction.atomic():
        # The planner cannot know that testing the typo keys row by row (an array of a hundred
        # keys or so, read from TOAST) costs far more than reading the two GIN indexes: left
        # to itself it scans the whole table: 400 ms for a long word among 20,000 people,
        # against 6 ms through the indexes.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        rows = list(query[: CANDIDATES + 1])
    return rows[:CANDIDATES], len(rows) > CANDIDATES


def word_score(token: str, names: list[str], others: list[str]) -> int:
    """How well one typed word matches an entry (0: not at all)."""
    if token in names:
        return NAME_WORD
    if any(name.startswith(token) for name in names):
        return NAME_START
    if token in others:
        return OTHER_WORD
    if any(other.startswith(token) for other in others):
        return OTHER_START
    best = 0
    if token.isalpha():
        for name in names:
            allowed = typos_allowed(token, name)
            if allowed and (distance := typo_distance(token, name, allowed)) <= allowed:
                best = max(best, TYPO_SCORES[distance] if distance else NAME_WORD)
    return best


def matches_rank(scope, tokens: list[str], rows) -> list[Match]:
    """Score each row; drop those a word does not really match (a deletion key shared by
    words more than the allowed typos apart); best first."""
    found = []
    for kind, object_id, region_id, current, names, details, contacts in rows:
        name_tokens = names.split()
        others = details.split()
        if scope.may_search_contacts(region_id):
            others += contacts.split()
        scores = [word_score(token, name_tokens, others) for token in tokens]
        if all(scores):
            found.append(Match(kind, object_id, region_id, current, names, sum(scores)))
    return sorted(found, key=lambda match: match.order)
