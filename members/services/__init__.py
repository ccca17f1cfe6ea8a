"""Writes for people, one module per entity: accounts (making accounts, sessions), staff,
representatives, join_requests, invitations, councillors, councillor_imports, profiles,
profile_changes, waivers, personal_data (equality answers and a person's download), erasure,
exports (the export log) and notices (the outbox every email about a person's business goes
through). Each function is keyword-only and named `<thing>_<verb>`."""

from . import (  # noqa: F401 - so that `services.<entity>.<function>` reads as it is
    accounts,
    councillor_imports,
    councillors,
    erasure,
    exports,
    invitations,
    join_requests,
    notices,
    personal_data,
    profile_changes,
    profiles,
    representatives,
    staff,
    waivers,
)
