"""Names are found however they are typed: without their accents, with or without apostrophes
and hyphens, in another order, as the start of a word, with a typo or two, or by part of an
email address. Each query finds its person among the first three results. Nobody ranks above
an exact match who does not match what was typed as well (every word, whole or as the start
of one), and nobody ranks above a match through a typo whose name does not come as close."""

import pytest
from factories import CouncilFactory, CouncillorFactory, RegionFactory, StaffFactory

from search.results import search_for
from search.text import email_tokens, name_tokens, query_tokens, typo_distance

pytestmark = pytest.mark.django_db

# People to find, and people with similar names to find them among.
PEOPLE = [
    ("Siân ap Gwilym", "sian.apgwilym@example.org", "07700 900123"),
    ("Llŷr Williams", "llyr.williams@example.org", ""),
    ("Rhiannon Prys", "r.prys@example.org", ""),
    ("Dafydd ab Owain", "dafydd@example.org", ""),
    ("Gwenllian Morgan", "gwen.morgan@example.org", ""),
    ("Angharad Lloyd-Jones", "angharad@example.org", ""),
    ("Eilidh MacLeòid", "eilidh.macleoid@example.org", ""),
    ("Mòrag NicDhòmhnaill", "morag@example.org", ""),
    ("Ruairidh MacAoidh", "ruairidh@example.org", ""),
    ("Niamh Ó Súilleabháin", "niamh.osuilleabhain@example.org", ""),
    ("Caoimhe Ní Bhriain", "caoimhe@example.org", ""),
    ("Seán O'Brien", "sean.obrien@example.org", ""),
    ("Aoife O’Connor", "aoife@example.org", ""),
    ("Pádraig Mac Giolla Phádraig", "padraig@example.org", ""),
    ("Mary-Jane Smith-Jones", "mj.smithjones@example.org", ""),
    ("Priya Chakraborty", "priya.c@example.org", ""),
    ("Mohammed Iqbal", "m.iqbal@example.org", ""),
    ("Harpreet Kaur Sandhu", "harpreet@example.org", ""),
    ("Aisha Siddiqui", "aisha.siddiqui@example.org", "020 7946 0321"),
    # Similar names.
    ("Sian Williams", "sian.williams@example.org", ""),
    ("Gwilym Evans", "gwilym.evans@example.org", ""),
    ("Rhian Price", "rhian.price@example.org", ""),
    ("Sean Bryan", "sean.bryan@example.org", ""),
    ("Niamh Kelly", "niamh.kelly@example.org", ""),
    ("Eileen Macleod", "eileen.macleod@example.org", ""),
    ("John Smith", "john.smith@example.org", ""),
    ("Mary Jones", "mary.jones@example.org", ""),
    ("Muhammad Ali Khan", "m.khan@example.org", ""),
    ("Priya Patel", "priya.patel@example.org", ""),
    ("Aoife Connolly", "aoife.connolly@example.org", ""),
    ("Harriet Sanders", "harriet.sanders@example.org", ""),
    ("David Owen", "david.owen@example.org", ""),
    ("Morgan Lloyd", "morgan.lloyd@example.org", ""),
    ("Brian O'Neill", "brian.oneill@example.org", ""),
]

FORGIVEN = [
    # Accents and case
    ("Siân ap Gwilym", "Siân ap Gwilym"),
    ("sian ap gwilym", "Siân ap Gwilym"),
    ("Llŷr", "Llŷr Williams"),
    ("llyr williams", "Llŷr Williams"),
    ("Eilidh MacLeoid", "Eilidh MacLeòid"),
    ("morag nicdhomhnaill", "Mòrag NicDhòmhnaill"),
    ("Ó Súilleabháin", "Niamh Ó Súilleabháin"),
    ("niamh o suilleabhain", "Niamh Ó Súilleabháin"),
    ("Caoimhe Ni Bhriain", "Caoimhe Ní Bhriain"),
    ("Padraig Mac Giolla", "Pádraig Mac Giolla Phádraig"),
    ("Rhiannon", "Rhiannon Prys"),
    ("Eilidh", "Eilidh MacLeòid"),
    ("Niamh", "Niamh Ó Súilleabháin"),
    # Particles written together or apart
    ("ap Gwilym", "Siân ap Gwilym"),
    ("apgwilym", "Siân ap Gwilym"),
    ("OSuilleabhain", "Niamh Ó Súilleabháin"),
    ("dafydd ab owain", "Dafydd ab Owain"),
    ("abowain", "Dafydd ab Owain"),
    # Apostrophes
    ("O'Brien", "Seán O'Brien"),
    ("O’Brien", "Seán O'Brien"),
    ("OBrien", "Seán O'Brien"),
    ("O Brien", "Seán O'Brien"),
    ("aoife o'connor", "Aoife O’Connor"),
    ("Aoife OConnor", "Aoife O’Connor"),
    # Hyphens
    ("Smith-Jones", "Mary-Jane Smith-Jones"),
    ("smithjones", "Mary-Jane Smith-Jones"),
    ("Mary Jane Smith Jones", "Mary-Jane Smith-Jones"),
    ("Lloyd Jones", "Angharad Lloyd-Jones"),
    ("angharad lloydjones", "Angharad Lloyd-Jones"),
    # Another order
    ("Gwilym Siân", "Siân ap Gwilym"),
    ("Iqbal Mohammed", "Mohammed Iqbal"),
    ("Sandhu Harpreet", "Harpreet Kaur Sandhu"),
    ("MacLeoid Eilidh", "Eilidh MacLeòid"),
    # The start of a name, as it is being typed
    ("Rhi", "Rhiannon Prys"),
    ("priya chak", "Priya Chakraborty"),
    ("Siddi", "Aisha Siddiqui"),
    # One typo
    ("Gwillym", "Siân ap Gwilym"),
    ("Rhianon", "Rhiannon Prys"),
    ("Eildh", "Eilidh MacLeòid"),
    ("Naimh", "Niamh Ó Súilleabháin"),
    ("Dafyd", "Dafydd ab Owain"),
    ("Gwenlian Morgan", "Gwenllian Morgan"),
    ("Chakrabarty", "Priya Chakraborty"),
    ("Mohamed Iqbal", "Mohammed Iqbal"),
    ("Suilleabhan", "Niamh Ó Súilleabháin"),
    ("Siddiqi", "Aisha Siddiqui"),
    ("Morag Nicdhomnaill", "Mòrag NicDhòmhnaill"),
    # Two typos
    ("Rhianan Prys", "Rhiannon Prys"),
    ("Suileabhan", "Niamh Ó Súilleabháin"),
    ("Ruaraidh", "Ruairidh MacAoidh"),
    ("Chakrabarti", "Priya Chakraborty"),
    # Part of an email address or phone number
    ("sian.apgwilym", "Siân ap Gwilym"),
    ("sian.apgwilym@exa", "Siân ap Gwilym"),
    ("apgwilym@", "Siân ap Gwilym"),
    ("niamh.osuil", "Niamh Ó Súilleabháin"),
    ("m.iqbal@example.org", "Mohammed Iqbal"),
    ("07700 900", "Siân ap Gwilym"),
    ("+44 20 7946 0321", "Aisha Siddiqui"),
]


@pytest.fixture
def people(db):
    council = CouncilFactory(region=RegionFactory(name="Wales", slug="wales"))
    for name, email, phone in PEOPLE:
        CouncillorFactory(
            council=council, user__full_name=name, user__email=email, phone=phone, ward="Canton"
        )
    return StaffFactory(full_name="Sam Staff", email="sam.staff@alc.example.org")


def _tokens(name: str) -> list[str]:
    email = next(email for person, email, _phone in PEOPLE if person == name)
    return name_tokens(name) + email_tokens(email)


def _matches_as_typed(query: str, name: str) -> bool:
    """Every typed word is a word of the name or address, whole or its start."""
    return all(any(t.startswith(w) for t in _tokens(name)) for w in query_tokens(query))


def _resembles(query: str, name: str) -> bool:
    """Every typed word is as typed, or within two typos of a word of the name."""
    return all(
        any(t.startswith(w) or typo_distance(w, t, 2) <= 2 for t in _tokens(name))
        for w in query_tokens(query)
    )


def test_the_table_is_long_enough():
    assert len(FORGIVEN) >= 30
    assert {name for _q, name in FORGIVEN} <= {name for name, _e, _p in PEOPLE}


@pytest.mark.parametrize(("query", "expected"), FORGIVEN)
def test_a_name_is_found_however_it_is_typed(people, query, expected):
    [found] = [g for g in search_for(people, query, per_kind=20).groups if g.kind == "person"]
    names = [result.title for result in found.results]
    assert expected in names[:3], names
    # Above an exact match, only other exact matches; above one found through a typo, only
    # people whose names are as close to what was typed.
    exact = _matches_as_typed(query, expected)
    for above in names[: names.index(expected)]:
        assert (_matches_as_typed if exact else _resembles)(query, above), (above, names)


def test_an_exact_match_comes_before_anyone_found_through_a_typo(people):
    names = [r.title for r in search_for(people, "macleoid", per_kind=20).groups[0].results]
    assert names == ["Eilidh MacLeòid", "Eileen Macleod"]
