"""Writes for people: roles (roles.py), profiles and requests (profile.py), and onboarding of
new councillors (onboarding.py)."""

from .roles import (
    councillor_ensure,
    representative_appoint,
    staff_appoint,
    staff_remove,
    two_factor_enrol,
    user_ensure,
)

__all__ = [
    "councillor_ensure",
    "representative_appoint",
    "staff_appoint",
    "staff_remove",
    "two_factor_enrol",
    "user_ensure",
]
