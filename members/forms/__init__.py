"""Forms for people: a councillor's own profile and requests (profile.py)."""
