"""Councils found by the names people use for them.

People type a council as they know it: "Rhondda Cynon Taf" (how the council spells itself)
where the register says "Rhondda Cynon Taff", "Vale of Glamorgan" for "The Vale of Glamorgan",
"Cyngor Caerdydd", "Kings Lynn", "RBKC". `council_find(text)` is the one place that turns such
text into a council, for every form and import where a council is typed and for any other code
(search, say) that needs it.

A council is known by its GSS code, official name, short name and slug, and by the alternative
names in `regions/data/council_names.csv` (Welsh and Gaelic names, each with its source, and
short forms councils and the press use). Every name, and the typed text, is reduced to a key:

- accents folded and case ignored (Môn = Mon), apostrophes dropped (King's = Kings);
- "&" read as "and", "Saint" and "St." as "St";
- hyphens, spaces and punctuation ignored (Stoke-on-Trent = Stoke on Trent, Tor-faen = Torfaen);
- the words around the name dropped: "Council", "City Council", "County Borough Council",
  "The", "City of", "Royal Borough of", "London Borough of", "Metropolitan Borough", "Cyngor",
  "Bwrdeistref Sirol", "Comhairle"... (FRAME_BEFORE and FRAME_AFTER), so "Cardiff Council",
  "City of Cardiff" and "Cardiff" agree.

The typed text is looked up by its whole key first, then with those words dropped. A key that
belongs to several councils ("Newcastle", "Kingston") is never guessed: the match lists the
candidates. Text that matches no key suggests the councils it could be a start of.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

NAMES_FILE = Path(__file__).resolve().parent / "data" / "council_names.csv"
NAME_KINDS = ("welsh", "gaelic", "short")

# Words around a council's name, as token sequences, longest first. They are dropped from
# either end (repeatedly) to leave the name itself.
FRAME_BEFORE = [
    ("the",),
    ("city", "and", "county", "of"),
    ("city", "of"),
    ("royal", "borough", "of"),
    ("london", "borough", "of"),
    ("metropolitan", "borough", "of"),
    ("borough", "council", "of"),
    ("county", "borough", "of"),
    ("borough", "of"),
    ("county", "of"),
    ("council", "of", "the"),
    ("corporation", "of"),
    ("county",),
    # Welsh: council, county borough, city and county, city, county.
    ("cyngor",),
    ("bwrdeistref", "sirol"),
    ("dinas", "a", "sir"),
    ("dinas",),
    ("sir",),
    # Gaelic: council.
    ("comhairle",),
]
FRAME_AFTER = [
    ("metropolitan", "borough", "council"),
    ("metropolitan", "district", "council"),
    ("county", "borough", "council"),
    ("city", "and", "district", "council"),
    ("borough", "council"),
    ("district", "council"),
    ("county", "council"),
    ("city", "council"),
    ("council",),
    ("corporation",),
    ("city", "of"),
    ("metropolitan", "borough"),
    ("county", "borough"),
    ("borough",),
    ("city",),
    ("district",),
    ("county",),
    ("ua",),
    # Abbreviations: metropolitan, county, borough, district and city or county council.
    ("mbc",),
    ("cbc",),
    ("bc",),
    ("dc",),
    ("cc",),
]
# What dropping those words must never leave: these are not the name of any one council.
NOT_A_NAME = {"", "london", "city", "county", "borough", "district", "and", "council", "of"}

_APOSTROPHES = re.compile(r"['’‘ʼ`´]")
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")
# Letters Unicode does not decompose into a base letter and an accent.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "ð": "d"})


def name_words(text: str) -> list[str]:
    """The words of a name as compared: lower case, accents folded, apostrophes dropped, "&"
    as "and", "Saint" and "St." as "st", hyphens and punctuation as spaces."""
    folded = unicodedata.normalize("NFKD", (text or "").casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c)).translate(_LETTERS)
    folded = _APOSTROPHES.sub("", folded).replace("&", " and ")
    words = _NOT_ALPHANUMERIC.sub(" ", folded).split()
    return ["st" if word == "saint" else word for word in words]


def _unframed(words: list[str]) -> list[str]:
    """The words with those around the name (FRAME_BEFORE, FRAME_AFTER) dropped, as long as
    what is left is still a name ("City of London Council" is "City of London", not "London")."""
    # Words after the name first: "City of London Council" leaves "City of London".
    for frames, at_start in ((FRAME_AFTER, False), (FRAME_BEFORE, True)):
        for frame in frames:
            if len(words) <= len(frame):
                continue
            if at_start and tuple(words[: len(frame)]) == frame:
                rest = words[len(frame) :]
            elif not at_start and tuple(words[-len(frame) :]) == frame:
                rest = words[: -len(frame)]
            else:
                continue
            inner = _unframed(rest)
            if " ".join(inner) not in NOT_A_NAME:
                return inner
    return words


def name_keys(text: str) -> tuple[str, str]:
    """The two keys a name is compared by: all its words, and its words without those around
    the name ("City of Cardiff Council": cityofcardiffcouncil, cardiff)."""
    words = name_words(text)
    return "".join(words), "".join(_unframed(words))


def council_name_key(text: str) -> str:
    """The key a council name is known by, without the words around it."""
    return name_keys(text)[1]


@functools.cache
def alternative_names() -> dict[str, list[dict]]:
    """The alternative names of `regions/data/council_names.csv`, by GSS code: each a dict with
    name, kind (welsh, gaelic or short) and source."""
    names: dict[str, list[dict]] = {}
    with NAMES_FILE.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            names.setdefault(row["gss_code"], []).append(
                {"name": row["name"], "kind": row["kind"], "source": row["source"]}
            )
    return names


def names_of(council) -> list[str]:
    """Every name a council is known by: its GSS code, official and short names, slug, and its
    alternative names."""
    names = [council.gss_code, council.name, council.short_name, council.slug.replace("-", " ")]
    names += [entry["name"] for entry in alternative_names().get(council.gss_code, ())]
    return [name for name in names if name]


@dataclass(frozen=True)
class CouncilMatch:
    """What some typed text found: one `council`, or several `candidates` (never guessed
    between), or neither, with `suggestions` of councils it could be the start of."""

    text: str
    council: object | None = None
    candidates: tuple = ()
    suggestions: tuple = field(default=())

    @property
    def found(self) -> bool:
        return self.council is not None

    @property
    def is_ambiguous(self) -> bool:
        return len(self.candidates) > 1

    def error(self) -> str:
        """Why the text names no one council, in a sentence for an import's row."""
        shown = " ".join(self.text.split())[:200]
        if self.is_ambiguous:
            return f"'{shown}' could be {_either(self.candidates)}: use the full name or GSS code."
        message = f"No council called '{shown}' was found."
        if self.suggestions:
            message += f" Did you mean {_either(self.suggestions, codes=False)}?"
        return message


def _either(councils, *, codes: bool = True) -> str:
    names = [f"{c.name} ({c.gss_code})" if codes else c.name for c in councils]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


class CouncilNames:
    """An index of councils by every name they are known by. Build it once (a query for the
    councils, none after) and look up as many names as needed, e.g. a file's every row."""

    SUGGESTIONS = 5

    def __init__(self, councils: Iterable):
        self.councils = list(councils)
        self._by_key: dict[str, list] = {}
        self._words: list[tuple[object, list[list[str]]]] = []
        for council in self.councils:
            words_of_names = []
            for name in names_of(council):
                words = name_words(name)
                for key in {"".join(words), "".join(_unframed(words))}:
                    found = self._by_key.setdefault(key, [])
                    if council not in found:
                        found.append(council)
                words_of_names.append(_unframed(words))
            self._words.append((council, words_of_names))

    @classmethod
    def current(cls, on=None) -> CouncilNames:
        """The councils in being today (or on `on`): those a form or an import may name."""
        from .models import Council

        return cls(Council.objects.current(on).select_related("region"))

    def find(self, text: str) -> CouncilMatch:
        """The council `text` names: by its whole key, then without the words around it."""
        whole, unframed = name_keys(text)
        for key in (whole, unframed):
            found = self._by_key.get(key) if key else None
            if found:
                if len(found) == 1:
                    return CouncilMatch(text=text, council=found[0], candidates=(found[0],))
                return CouncilMatch(text=text, candidates=tuple(_ordered(found)))
        return CouncilMatch(text=text, suggestions=tuple(self._suggest(text)))

    def _suggest(self, text: str) -> list:
        """Councils one of whose names has, for each word typed, a word starting with it
        ("Bromsg" gives Bromsgrove); at most SUGGESTIONS."""
        typed = _unframed(name_words(text)) or name_words(text)
        if not typed:
            return []
        found = [
            council
            for council, names in self._words
            if any(all(any(w.startswith(t) for w in words) for t in typed) for words in names)
        ]
        return _ordered(found)[: self.SUGGESTIONS]

    def names(self) -> list[str]:
        """The official names, alphabetically, as a form offers them."""
        return sorted({council.name for council in self.councils})


def _ordered(councils) -> list:
    return sorted(councils, key=lambda c: (c.name, c.gss_code))


def council_find(text: str, *, on=None) -> CouncilMatch:
    """The council in being (today, or on `on`) that `text` names, if exactly one does: see the
    module's description. For many names at once, build one CouncilNames and call its find."""
    return CouncilNames.current(on).find(text)
