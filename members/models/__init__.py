"""The models of the members app, by what they are about: people.py (accounts and roles),
requests.py (what people ask for and what is decided), records.py (the export log and the
outbox of notices)."""

from .people import Councillor, CouncillorQuerySet, Position, StaffRole, User, UserManager
from .records import ExportLogEntry, Notice, NoticeQuerySet
from .requests import (
    CouncillorImport,
    DecidedRequest,
    Decision,
    EqualityMonitoring,
    ErasureRequest,
    JoinRequest,
    LevyWaiver,
    ProfileChange,
)

__all__ = [
    "Councillor",
    "CouncillorImport",
    "CouncillorQuerySet",
    "DecidedRequest",
    "Decision",
    "EqualityMonitoring",
    "ErasureRequest",
    "ExportLogEntry",
    "JoinRequest",
    "LevyWaiver",
    "Notice",
    "NoticeQuerySet",
    "Position",
    "ProfileChange",
    "StaffRole",
    "User",
    "UserManager",
]
