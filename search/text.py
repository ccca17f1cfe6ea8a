"""How text becomes searchable: the same folding for what is stored and for what is typed.

Folding lower-cases, strips accents (Siân → sian, Llŷr → llyr, Ó Súilleabháin → o
suilleabhain) and drops apostrophes (O'Brien, O’Brien and OBrien are all `obrien`). A word
with a hyphen or an apostrophe is stored whole and in its parts (Smith-Jones: `smithjones`,
`smith`, `jones`), and a short particle is also stored joined to the word after it (ap Gwilym:
`apgwilym`), so that people find a name however they spell its joins.

Typo tolerance needs no database extension: each name word also gives its "deletion keys",
the strings left when one letter (two, for words of eight letters or more) is deleted. Two
words within one typo (a letter added, dropped, changed, or two swapped) share a key: Gwillym
and Gwilym both give `gwilym`; Niamh and Naimh both give `nimh`. The database finds the
entries sharing a key; `typo_distance` then keeps only those really that close.

Every token is a run of letters and digits, so it can go into a tsquery as it is.
"""

import re
import unicodedata

# Letters Unicode does not decompose into a base letter and an accent.
LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)
APOSTROPHES = re.compile(r"['’‘ʼ`´]")
# What joins the parts of one word: hyphens (and dashes typed for them) and apostrophes.
JOINERS = re.compile(r"[-‐‑–—'’‘ʼ`´]")
WORD = re.compile(r"[^\W_]+")
# Words that run on into the next one in many names: ap Gwilym, Ó Súilleabháin, Mc Donald.
PARTICLE_LENGTH = 3
# Typos are forgiven in words of this many letters or more: one, then two from TWO_TYPOS.
ONE_TYPO = 4
TWO_TYPOS = 8
PHONE = re.compile(r"^[\d\s()+.-]+$")
MIN_PHONE_DIGITS = 4


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(LETTERS)


def fold(text: str) -> str:
    """The text as searched: lower case, no accents, no apostrophes, words separated by
    single spaces."""
    return " ".join(WORD.findall(APOSTROPHES.sub("", strip_accents(text))))


def name_words(text: str) -> list[str]:
    """The words of a name, each whole (joins removed): "Siân ap-Gwilym" → sian, apgwilym."""
    return [
        "".join(WORD.findall(chunk))
        for chunk in re.split(r"[^\w'’‘ʼ`´‐‑–—-]+", strip_accents(text))
        if WORD.search(chunk)
    ]


def name_tokens(text: str) -> list[str]:
    """What a name is found by: its words, the parts of joined words, and particles joined to
    the word that follows them. In order, without repeats."""
    tokens = []
    chunks = [c for c in re.split(r"[^\w'’‘ʼ`´‐‑–—-]+", strip_accents(text)) if WORD.search(c)]
    for chunk in chunks:
        tokens.append("".join(WORD.findall(chunk)))
        parts = WORD.findall(JOINERS.sub(" ", chunk))
        if len(parts) > 1:
            tokens += parts
    words = name_words(text)
    tokens += [a + b for a, b in zip(words, words[1:], strict=False) if len(a) <= PARTICLE_LENGTH]
    return list(dict.fromkeys(token for token in tokens if token))


def typo_words(text: str) -> list[str]:
    """The words of a name that typos are forgiven in (all but one- and two-letter ones)."""
    return [token for token in name_tokens(text) if len(token) >= ONE_TYPO - 1]


def email_tokens(email: str) -> list[str]:
    """What an address is found by: its pieces (sian, apgwilym, example, org), and the whole
    address run together from each piece of its local part on (sianapgwilymexampleorg,
    apgwilymexampleorg), so that a partial address typed with its @ finds it."""
    local, _, domain = strip_accents(email).partition("@")
    local_parts, domain_parts = WORD.findall(local), WORD.findall(domain)
    runs = ["".join(local_parts[i:] + domain_parts) for i in range(len(local_parts))]
    return list(dict.fromkeys([*local_parts, *domain_parts, *runs]))


def phone_digits(text: str) -> str:
    """A UK number's digits as dialled at home: +44 (0)20 7946 0000 → 02079460000."""
    digits = re.sub(r"\D", "", text.replace("(0)", ""))
    if digits.startswith("44") and text.strip().startswith(("+", "00")):
        digits = "0" + digits[2:]
    elif digits.startswith("0044"):
        digits = "0" + digits[4:]
    return digits


def phone_tokens(phone: str) -> list[str]:
    """Every run of the number's digits from each position to its end, so that any part of
    it typed finds it (a prefix match on one of them)."""
    digits = phone_digits(phone)
    if len(digits) < MIN_PHONE_DIGITS:
        return [digits] if digits else []
    return [digits[i:] for i in range(len(digits) - MIN_PHONE_DIGITS + 1)]


def query_tokens(text: str, *, max_tokens: int = 6) -> list[str]:
    """What a person typed, as tokens to match: a phone number becomes its digits, an email
    address (with its @) one run of letters and digits, anything else its words joined as
    names are (O'Brien → obrien)."""
    text = text.strip()[:200]
    if PHONE.match(text) and len(re.sub(r"\D", "", text)) >= MIN_PHONE_DIGITS:
        return [phone_digits(text)]
    tokens = []
    for chunk in text.split():
        if "@" in chunk:
            tokens.append("".join(WORD.findall(strip_accents(chunk))))
        else:
            tokens += name_words(chunk)
    return list(dict.fromkeys(t for t in tokens if t))[:max_tokens]


def deletions(word: str, depth: int) -> set[str]:
    found, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def typo_keys(word: str) -> set[str]:
    """The deletion keys stored for a word: itself, then one letter deleted from words of
    ONE_TYPO letters or more and two from words of TWO_TYPOS or more."""
    if len(word) < ONE_TYPO - 1:
        return set()
    if len(word) < ONE_TYPO:
        return {word}
    return deletions(word, 2 if len(word) >= TWO_TYPOS else 1)


def query_typo_keys(token: str) -> set[str]:
    """The keys a typed word is looked up by: deep enough to meet any stored word within the
    typos allowed between the two (two when either has TWO_TYPOS letters)."""
    if len(token) < ONE_TYPO:
        return set()
    return deletions(token, 2 if len(token) >= TWO_TYPOS - 2 else 1)


def typos_allowed(typed: str, stored: str) -> int:
    """How many typos may separate a typed word from a stored one: two in stored words of
    TWO_TYPOS letters or more, one where either word has ONE_TYPO letters, else none."""
    if min(len(typed), len(stored)) < ONE_TYPO - 1:
        return 0
    if len(stored) >= TWO_TYPOS and len(typed) >= TWO_TYPOS - 2:
        return 2
    return 1 if max(len(typed), len(stored)) >= ONE_TYPO else 0


def typo_distance(a: str, b: str, limit: int) -> int:
    """Letters added, dropped, changed or swapped with their neighbour to turn `a` into `b`
    (optimal string alignment), or limit + 1 once it is known to be more than `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]
