"""Writes to the search index. Each `..._refresh` makes the entries of the given objects match
what is stored now (written, rewritten, or removed if the object is gone), so calling one twice,
or for an object that changed in no way that matters, does no harm. The receivers
(search.receivers) call them inside the transaction that changed the objects, so an entry is
never ahead of, or behind, the object it describes once that transaction commits.

`entries_reconcile` compares the whole index with the apps' tables and mends any difference:
the `search_reindex` command and a nightly job run it, for whatever changed without a signal
(a QuerySet.update() elsewhere, a change in how text is folded).
"""

from dataclasses import dataclass

from django.apps import apps as installed_apps
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Func, IntegerField
from django.utils import timezone

from search import documents
from search.models import SearchEntry

Kind = SearchEntry.Kind
FIELDS = ["region_id", "current", "names", "details", "contacts", "typo_keys"]
BATCH = 1000


def _model(apps, label):
    return (apps or installed_apps).get_model(label)


def _profile(user):
    try:
        return user.councillor
    except ObjectDoesNotExist:
        return None


def _entries_of(kind, apps=None):
    """The objects of a kind, read as their entries need them, and how an entry is made."""
    today = timezone.localdate()
    return {
        Kind.PERSON: (
            _model(apps, "members.User").objects.select_related("councillor__council"),
            lambda user: documents.person_entry(user, _profile(user)),
        ),
        Kind.COUNCIL: (
            _model(apps, "regions.Council").objects.all(),
            lambda council: documents.council_entry(council, today),
        ),
        Kind.GROUP: (
            _model(apps, "regions.CouncilGroup").objects.select_related("council"),
            documents.group_entry,
        ),
        Kind.MAILING: (_model(apps, "campaigns.Mailing").objects.all(), documents.mailing_entry),
        Kind.CAMPAIGN: (
            _model(apps, "campaigns.Campaign").objects.all(),
            documents.campaign_entry,
        ),
    }[kind]


def entries_save(entries: list[SearchEntry], *, model=SearchEntry) -> None:
    """Write the entries, replacing those already there for the same objects."""
    if entries:
        model.objects.bulk_create(
            entries,
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=["kind", "object_id"],
            update_fields=FIELDS,
        )


def entries_delete(*, kind: str, ids) -> None:
    SearchEntry.objects.filter(kind=kind, object_id__in=list(ids)).delete()


def entries_refresh(*, kind: str, ids) -> None:
    """Bring the entries of these objects of `kind` up to date with the objects."""
    ids = list(set(ids))
    objects, entry_for = _entries_of(kind)
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        found = list(objects.filter(pk__in=batch))
        entries_save([entry_for(obj) for obj in found])
        gone = set(batch) - {obj.pk for obj in found}
        if gone:
            entries_delete(kind=kind, ids=gone)


def people_refresh(*, user_ids) -> None:
    entries_refresh(kind=Kind.PERSON, ids=user_ids)


def councils_refresh(*, council_ids) -> None:
    """Councils, their Labour groups (found by their council's names too) and, for councils
    moved to another region, the people on them (scoped by region)."""
    from members.models import Councillor
    from regions.models import Council, CouncilGroup

    council_ids = list(set(council_ids))
    before = dict(
        SearchEntry.objects.filter(kind=Kind.COUNCIL, object_id__in=council_ids).values_list(
            "object_id", "region_id"
        )
    )
    entries_refresh(kind=Kind.COUNCIL, ids=council_ids)
    groups = CouncilGroup.objects.filter(council_id__in=council_ids).values_list("pk", flat=True)
    entries_refresh(kind=Kind.GROUP, ids=groups)
    now = dict(Council.objects.filter(pk__in=council_ids).values_list("pk", "region_id"))
    moved = [pk for pk, region_id in now.items() if pk in before and before[pk] != region_id]
    if moved:
        people = Councillor.objects.filter(council_id__in=moved).values_list("user_id", flat=True)
        people_refresh(user_ids=people)


@dataclass
class ReconcileCounts:
    written: int = 0
    deleted: int = 0
    unchanged: int = 0

    def __str__(self):
        return f"{self.written} written, {self.deleted} removed, {self.unchanged} unchanged"


class Cardinality(Func):
    function = "cardinality"
    output_field = IntegerField()


def _fingerprint(entry) -> tuple:
    return (
        entry.region_id,
        entry.current,
        entry.names,
        entry.details,
        entry.contacts,
        len(entry.typo_keys),
    )


def entries_reconcile(*, everything: bool = False, apps=None) -> ReconcileCounts:
    """Compare every entry with its object and write only the differences (every entry, with
    `everything`). With `apps` (a migration's), reads the historical models."""
    entry_model = _model(apps, "search.SearchEntry")
    counts = ReconcileCounts()
    for kind in Kind.values:
        stored = {
            row[0]: row[1:]
            for row in entry_model.objects.filter(kind=kind)
            .annotate(keys=Cardinality("typo_keys"))
            .values_list(
                "object_id", "region_id", "current", "names", "details", "contacts", "keys"
            )
            .iterator(chunk_size=BATCH)
        }
        objects, entry_for = _entries_of(kind, apps)
        changed = []
        for obj in objects.order_by("pk").iterator(chunk_size=BATCH):
            entry = entry_for(obj)
            if not everything and stored.pop(obj.pk, None) == _fingerprint(entry):
                counts.unchanged += 1
                continue
            stored.pop(obj.pk, None)
            changed.append(
                entry_model(**{f: getattr(entry, f) for f in ["kind", "object_id", *FIELDS]})
            )
            if len(changed) >= BATCH:
                entries_save(changed, model=entry_model)
                counts.written, changed = counts.written + len(changed), []
        entries_save(changed, model=entry_model)
        counts.written += len(changed)
        if stored:
            entry_model.objects.filter(kind=kind, object_id__in=list(stored)).delete()
            counts.deleted += len(stored)
    return counts
