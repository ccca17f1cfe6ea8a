"""Who runs a council, in plain English.

The council data labels control as a party code ("LAB"), a minority ("LAB min"), a directly
elected mayor ("LAB Mayor") or a coalition or shared control ("LD/LAB/GRN"). Each choice in
``CONTROL_CHOICES`` names one kind of label, and every label falls under exactly one choice:
Labour majority, minority, shared control or mayor; another party's majority or mayor; no
overall control without Labour (other parties' minorities and coalitions); and "other" for
anything else (a local party such as "Aspire Mayor" or "PIP/CIIP", "TBC", or no label).
Several choices match any of them. Earlier choices were bare party codes
(``LEGACY_CONTROL_CHOICES``): they still match any label naming that party.

The region dashboard's filter and the mailing composer's audience rule both use these
choices, so a council is described the same way everywhere.
"""

import re
from collections.abc import Iterable

from django.db.models import Q

# Party codes as they appear in the council data's control labels.
PARTIES = {
    "LAB": "Labour",
    "CON": "Conservative",
    "LD": "Liberal Democrat",
    "GRN": "Green",
    "SNP": "SNP",
    "PC": "Plaid Cymru",
    "REF": "Reform UK",
    "IND": "Independent",
}
_ANY = "(" + "|".join(PARTIES) + ")"
_NOT_LAB = "(" + "|".join(code for code in PARTIES if code != "LAB") + ")"


def _whole(pattern: str) -> str:
    return rf"^\s*({pattern})\s*$"


LAB_MAJORITY = "lab_majority"
LAB_MINORITY = "lab_minority"
LAB_SHARED = "lab_shared"
LAB_MAYOR = "lab_mayor"
NO_OVERALL_CONTROL = "noc"
OTHER_MAYOR = "other_mayor"
OTHER = "other"

# code: (label, patterns a council's control label must all match, ignoring case). "Other" is
# whatever matches none of them.
_CONTROL_PATTERNS = {
    LAB_MAJORITY: ("Labour majority", [_whole("LAB")]),
    LAB_MINORITY: ("Labour minority", [_whole(r"LAB\s+min")]),
    LAB_SHARED: (
        "Labour in coalition or shared control",
        [_whole(rf"{_ANY}(/{_ANY})+(\s+min)?"), r"(^|[/\s])LAB($|[/\s])"],
    ),
    LAB_MAYOR: ("Labour mayor", [_whole(r"LAB\s+Mayor")]),
    NO_OVERALL_CONTROL: (
        "No overall control, Labour not running it",
        [_whole(rf"{_NOT_LAB}(/{_NOT_LAB})+(\s+min)?|{_NOT_LAB}\s+min")],
    ),
    **{
        code.lower(): (f"{name} majority", [_whole(code)])
        for code, name in PARTIES.items()
        if code != "LAB"
    },
    OTHER_MAYOR: ("Another party's mayor", [_whole(rf"{_NOT_LAB}\s+Mayor")]),
}
CONTROL_CHOICES = [
    *((code, label) for code, (label, _) in _CONTROL_PATTERNS.items()),
    (OTHER, "Other (a local party, to be confirmed, or not recorded)"),
]
CONTROL_CODES = frozenset(code for code, _ in CONTROL_CHOICES)
# Choices made before the ones above were bare party codes, meaning any council whose label
# names that party. They still work, and are shown as what they are.
LEGACY_CONTROL_CHOICES = [
    (code, f"Run by or with {name} (earlier choice)") for code, name in PARTIES.items()
]
LEGACY_CONTROL_CODES = frozenset(PARTIES)
# What every control code, current or earlier, means.
CONTROL_NAMES = dict(CONTROL_CHOICES + LEGACY_CONTROL_CHOICES)


def _control_query(code: str, field: str) -> Q:
    if code in LEGACY_CONTROL_CODES:
        return Q(**{f"{field}__regex": rf"(^|[/ ]){code}($|[/ ])"})
    if code == OTHER:
        known = Q()
        for other in _CONTROL_PATTERNS:
            known |= _control_query(other, field)
        return ~known
    query = Q()
    for pattern in _CONTROL_PATTERNS[code][1]:
        query &= Q(**{f"{field}__iregex": pattern})
    return query


def control_filter(controls: Iterable[str], field: str = "council__control") -> Q:
    """Councils (through `field`, their control label) matching any of the control choices."""
    query = Q()
    for code in controls:
        if code in CONTROL_CODES or code in LEGACY_CONTROL_CODES:
            query |= _control_query(code, field)
    return query


def control_choice(label: str) -> str:
    """The one control choice a council's control label falls under."""
    for code, (_, patterns) in _CONTROL_PATTERNS.items():
        if all(re.search(pattern, label, re.IGNORECASE) for pattern in patterns):
            return code
    return OTHER


def control_labels(codes: Iterable[str]) -> list[str]:
    """What saved control codes mean, for people to read."""
    return [CONTROL_NAMES.get(code, code) for code in codes]


_PARTY_BY_NAME = {name.lower(): code for code, name in PARTIES.items()}


def control_code_from_text(text: str) -> str | None:
    """The choice meant by a control written by hand, as the dashboard's filter once took it:
    a choice's own code, a party code in any case ("lab", "GRN") or a party's name ("Green")
    stand for that choice or for the earlier "run by or with" choice; anything else is None."""
    text = text.strip()
    if text in CONTROL_CODES:
        return text
    upper = text.upper()
    if upper in LEGACY_CONTROL_CODES:
        return upper
    return _PARTY_BY_NAME.get(text.lower())


def control_choices_present(labels: Iterable[str]) -> list[tuple[str, str]]:
    """The control choices that some of these control labels fall under, in the usual order."""
    present = {control_choice(label) for label in labels}
    return [(code, name) for code, name in CONTROL_CHOICES if code in present]


def control_described(label: str) -> str:
    """A council's control label in words: "LAB min" is "Labour minority", "GRN/LD" "Green and
    Liberal Democrat: shared control", "CON Mayor" "Conservative mayor". Parts that are not
    party codes are kept as they are."""
    text = label.strip()
    if not text:
        return "Not recorded"
    suffix = ""
    lowered = text.lower()
    if lowered.endswith(" min"):
        text, suffix = text[:-4].strip(), " minority"
    elif lowered.endswith(" mayor"):
        text, suffix = text[:-6].strip(), " mayor"
    codes = [code.strip() for code in text.split("/")]
    if len(codes) == 1:
        code = codes[0]
        if code.upper() == "TBC":
            return "To be confirmed"
        if code.upper() not in PARTIES:
            return code + suffix
        return PARTIES[code.upper()] + (suffix or " majority")
    parties = [PARTIES.get(code.upper(), code) for code in codes]
    named = ", ".join(parties[:-1]) + " and " + parties[-1]
    return f"{named}: a shared minority" if suffix == " minority" else f"{named}: shared control"


def party_codes_in(labels: Iterable[str]) -> list[tuple[str, str]]:
    """The party codes these control labels use, with their names, in the usual order."""
    used = {
        code.strip().upper()
        for label in labels
        for code in re.split(r"[/\s]+", label or "")
        if code.strip().upper() in PARTIES
    }
    return [(code, name) for code, name in PARTIES.items() if code in used]
