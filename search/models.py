"""The search index: one row per person, council, Labour group, mailing and campaign, holding
the text each is found by, already folded (search.text), and where it belongs for scoping.

The rows are derived data, rebuilt from the apps' own tables at any time (`search_reindex`),
so they point at their objects by id rather than by foreign key: no other app's deletes or
migrations ever touch them. Whether a person may see a row's object is decided by the apps'
access functions when results are read, never by the index alone (search.access).
"""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models


class SearchEntry(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", "People"
        COUNCIL = "council", "Councils"
        GROUP = "group", "Labour groups"
        CAMPAIGN = "campaign", "Campaigns"
        MAILING = "mailing", "Mailings"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The user (for a person), council, group, mailing or campaign this row is about.
    object_id = models.BigIntegerField()
    # The region it belongs to: a councillor's council's, a council's, a group's council's, a
    # mailing's owner region. None for people with no councillor profile and national mailings.
    region_id = models.BigIntegerField(null=True, blank=True)
    # A councillor still in office (people); a council still in being (councils).
    current = models.BooleanField(default=True)
    # Folded tokens, separated by spaces: what the object is called (weight A in `vector`),
    # what else describes it (a ward, a group's council: B), and a person's email address and
    # phone number (D), which only those who may open the person's profile search by.
    names = models.TextField(blank=True)
    details = models.TextField(blank=True)
    contacts = models.TextField(blank=True)
    typo_keys = ArrayField(models.TextField(), default=list, blank=True)
    vector = models.GeneratedField(
        expression=SearchVector("names", config="simple", weight="A")
        + SearchVector("details", config="simple", weight="B")
        + SearchVector("contacts", config="simple", weight="D"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="one_entry_per_object")
        ]
        indexes = [
            GinIndex(fields=["vector"], name="search_entry_vector"),
            GinIndex(fields=["typo_keys"], name="search_entry_typo_keys"),
        ]
        verbose_name_plural = "search entries"

    def __str__(self):
        return f"{self.kind} {self.object_id}: {self.names}"
