"""Councils found by the names people use: every variant of every current council's name finds
exactly that council, or is reported as ambiguous with the right candidates."""

import csv
import re
from collections import defaultdict

import pytest

from regions.models import Council
from regions.names import NAMES_FILE, CouncilNames, alternative_names, council_find, name_keys

pytestmark = pytest.mark.django_db

# The words councils and people put around a council's name.
BEFORE = ("The", "City of", "Borough of", "London Borough of", "Royal Borough of", "County of")
AFTER = (
    "Council",
    "City Council",
    "Borough Council",
    "District Council",
    "County Council",
    "County Borough Council",
    "Metropolitan Borough Council",
    "County Borough",
    "Metropolitan Borough",
)
# The same words, taken off an official name ("Borough of Poole" is "Poole").
FRAME = re.compile(
    r"^(the |city and county of |city of |royal borough of |london borough of |borough of |"
    r"county of )+|( city and district council| metropolitan borough council|"
    r" metropolitan district council| county borough council| borough council|"
    r" district council| county council| city council| council|"
    r" corporation)+$",
    re.IGNORECASE,
)


def _spellings(name: str) -> set[str]:
    """A name with "&" for "and" (and back), "St", "St." or "Saint", hyphens for spaces (and
    back), and in other cases."""
    found = {name}
    for old, new in ((" and ", " & "), (" & ", " and ")):
        found |= {n.replace(old, new) for n in found}
    for pattern in (r"\bSt\.? ", r"\bSaint "):
        found |= {re.sub(pattern, new, n) for n in found for new in ("St ", "St. ", "Saint ")}
    found |= {n.replace("-", " ") for n in found} | {n.replace(" ", "-") for n in found}
    found |= {n.upper() for n in found} | {n.lower() for n in found}
    return found


def variants(council) -> set[str]:
    """Every way of writing this council's name: its code, its alternative names, and its
    names as written, without the words around them and with others, spelt differently."""
    found = {council.gss_code, council.gss_code.lower()}
    for name in alternative_names_of(council):
        found |= _spellings(name)
    for name in {council.name, council.short_name}:
        core = FRAME.sub("", name).strip()
        # "City of London" without its frame is London, a region: not one council's name.
        if not core or core.lower() == "london":
            core = name
        found |= _spellings(name) | _spellings(core)
        found |= {f"{before} {core}" for before in BEFORE}
        found |= {f"{core} {after}" for after in AFTER}
    return found


def alternative_names_of(council) -> list[str]:
    return [entry["name"] for entry in alternative_names().get(council.gss_code, ())]


@pytest.fixture
def councils(gb_councils):
    return list(Council.objects.current().select_related("region"))


def test_every_variant_of_every_current_council_finds_it_or_names_the_candidates(councils):
    names = CouncilNames(councils)
    # A council's own names (and codes) are its alone; a variant's core, the name without the
    # words around it, may be shared ("Newcastle"): then the right answer is every council
    # with that core, named as candidates.
    own = defaultdict(set)
    by_core = defaultdict(set)
    for council in councils:
        for name in (council.gss_code, council.name, council.short_name):
            own[name_keys(name)[0]].add(council.pk)
        for text in variants(council):
            by_core[name_keys(text)[1]].add(council.pk)
    wrong = []
    tried = 0
    for council in councils:
        for text in sorted(variants(council)):
            tried += 1
            match = names.find(text)
            whole, core = name_keys(text)
            expected = own[whole] if len(own[whole]) == 1 else by_core[core]
            if len(expected) == 1:
                right = match.found and match.council.pk == council.pk
            else:
                right = not match.found and {c.pk for c in match.candidates} == expected
            if not right:
                wrong.append((council.name, text, [c.name for c in match.candidates]))
    assert wrong == []
    assert tried > 373 * 25


def test_every_welsh_principal_area_is_found_by_its_welsh_name(councils):
    names = CouncilNames(councils)
    welsh = defaultdict(list)
    with NAMES_FILE.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            if row["kind"] in ("welsh", "gaelic"):
                assert row["source"].strip(), row
            if row["kind"] == "welsh":
                welsh[row["gss_code"]].append(row["name"])
    areas = [c for c in councils if c.gss_code.startswith("W06")]
    assert len(areas) == 22
    assert sorted(c.gss_code for c in areas if c.gss_code not in welsh) == []
    for area in areas:
        for name in welsh[area.gss_code]:
            for text in (name, f"Cyngor {name}", name.upper()):
                match = names.find(text)
                assert match.found and match.council == area, (text, area.name)


@pytest.mark.parametrize(
    "text,gss_code",
    [
        ("Rhondda Cynon Taf", "W06000016"),
        ("Vale of Glamorgan", "W06000014"),
        ("Bro Morgannwg", "W06000014"),
        ("Cyngor Caerdydd", "W06000015"),
        ("Abertawe", "W06000011"),
        ("Comhairle nan Eilean Siar", "S12000013"),
        ("Hull", "E06000010"),
        ("Kings Lynn", "E07000146"),
        ("King's Lynn and West Norfolk", "E07000146"),
        ("RBKC", "E09000020"),
        ("Stoke on Trent", "E06000021"),
        ("St Helens", "E08000013"),
        ("Saint Helens Metropolitan Borough Council", "E08000013"),
        ("Brighton & Hove", "E06000043"),
        ("City of Cardiff Council", "W06000015"),
    ],
)
def test_names_people_use_find_the_council(gb_councils, text, gss_code):
    match = council_find(text)
    assert match.found and match.council.gss_code == gss_code


@pytest.mark.parametrize(
    "text,candidates",
    [
        ("Newcastle", {"E08000021", "E07000195"}),
        ("Kingston", {"E06000010", "E09000021"}),
    ],
)
def test_a_name_several_councils_go_by_is_never_guessed(gb_councils, text, candidates):
    match = council_find(text)
    assert not match.found
    assert {c.gss_code for c in match.candidates} == candidates
    for council in match.candidates:
        assert council.name in match.error()
