"""Writes for regions: councils (loading the data file, staff corrections) in councils.py, and
council Labour groups and their officers in groups.py."""

from .councils import COUNCIL_FIELDS, LoadCounts, LoadResult, council_correct, councils_load
from .groups import group_contact_update, officer_appoint, officer_end

__all__ = [
    "COUNCIL_FIELDS",
    "LoadCounts",
    "LoadResult",
    "council_correct",
    "councils_load",
    "group_contact_update",
    "officer_appoint",
    "officer_end",
]
