"""Who may see and change profiles, personal data, council and ward changes, levy waivers and
erasure requests, for every role.

Roles: anonymous, councillor A (council A in region X), councillor B (council B in region Y),
the representative of region X, the representative of region Y, and national office staff.
Objects a person may not know exist give 404, pages they can see but not use give 403, and a
refused write leaves the database as it was. A request (council or ward change, levy waiver,
erasure) is known to the person it concerns and to those who may decide it: its decision page
answers 403 to the first and 404 to everyone else who may not decide it, even representatives.
A councillor sees the serving councillors of their region listed, but opens only their own
profile: 403 for a listed colleague, 404 for anyone else.
"""

import datetime

import pytest
from django.urls import resolve, reverse
from factories import (
    CouncilFactory,
    CouncillorFactory,
    ErasureRequestFactory,
    LevyWaiverFactory,
    ProfileChangeFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)

from members.models import (
    Councillor,
    Decision,
    EqualityMonitoring,
    ErasureRequest,
    LevyWaiver,
    Position,
    ProfileChange,
    User,
)
from members.services.staff import staff_appoint

pytestmark = pytest.mark.django_db


# The latest year a levy waiver may be applied for.
NEXT_YEAR = datetime.date.today().year + 1

ROLES = ["anonymous", "councillor_a", "councillor_b", "rep_x", "rep_y", "staff"]

# The url names this module's matrix covers; tests/regions/test_access_regions.py checks that
# every url name of members and regions is covered by one of the matrix modules.
COVERED_URL_NAMES = {
    "home",
    "profile",
    "profile_edit",
    "my_region",
    "levy_waiver",
    "my_data",
    "my_data_json",
    "my_data_csv",
    "erasure_request",
    "equality",
    "equality_withdraw",
    "decisions",
    "decisions_changes",
    "decisions_change",
    "decisions_waivers",
    "decisions_waiver",
    "decisions_erasures",
    "decisions_erasure",
    "decisions_equality",
    "councillor_history",
    "export_log",
}


@pytest.fixture
def world():
    region_x, region_y = RegionFactory(name="Region X"), RegionFactory(name="Region Y")
    council_a, council_b = CouncilFactory(region=region_x), CouncilFactory(region=region_y)
    # Councillor A asks to move to another council of their own region.
    council_a2 = CouncilFactory(region=region_x)
    councillor_a = CouncillorFactory(council=council_a, ward="Old Ward", phone="020 7946 0001")
    councillor_b = CouncillorFactory(council=council_b, ward="B Ward")
    # Listed on council A's page for everyone who can see region X.
    colleague_a = CouncillorFactory(council=council_a, ward="Next Ward")
    former_a = CouncillorFactory(council=council_a, left_on=datetime.date(2024, 5, 2))
    staff = StaffFactory()
    staff_appoint(user=staff)  # with the admin site permissions national staff are given
    people = {
        "anonymous": None,
        "councillor_a": councillor_a.user,
        "councillor_b": councillor_b.user,
        "rep_x": RepresentativeFactory(region=region_x).user,
        "rep_y": RepresentativeFactory(region=region_y).user,
        "staff": staff,
        # Roles that have ended: a councillor of council A who has left, and a representative
        # of region X whose appointment is over.
        "former_councillor": former_a.user,
        "ended_rep": RepresentativeFactory(
            region=region_x,
            start_date=datetime.date(2022, 5, 1),
            end_date=datetime.date(2025, 5, 1),
        ).user,
    }
    EqualityMonitoring.objects.create(
        user=councillor_a.user, consented_at="2026-01-01T10:00Z", answers={"age_band": "30_44"}
    )
    return {
        "people": people,
        "councillor_a": councillor_a,
        "colleague_a": colleague_a,
        "former_a": former_a,
        "change": ProfileChangeFactory(councillor=councillor_a, council=council_a2, ward="New"),
        "waiver": LevyWaiverFactory(councillor=councillor_a),
        "erasure": ErasureRequestFactory(user=councillor_a.user),
    }


def _client_as(client, world, role):
    if world["people"][role] is not None:
        client.force_login(world["people"][role])
    return client


OWN_PAGE = dict.fromkeys(ROLES[1:], 200) | {"anonymous": 302}
DECIDERS = {"anonymous": 302, "councillor_a": 403, "councillor_b": 403}
STAFF_ONLY = DECIDERS | {"rep_x": 403, "rep_y": 403, "staff": 200}
# A request of councillor A's: A knows it exists, and so do those who may decide it.
A_REQUEST = {"anonymous": 302, "councillor_a": 403, "councillor_b": 404}
A_CHANGE = A_REQUEST | {"rep_x": 200, "rep_y": 404, "staff": 200}
A_STAFF_REQUEST = A_REQUEST | {"rep_x": 404, "rep_y": 404, "staff": 200}
# A profile in region X that councillor A sees listed (by name and ward) but may not open.
LISTED_IN_X = {"anonymous": 302, "councillor_a": 403, "councillor_b": 404}
LISTED_IN_X |= {"rep_x": 403, "rep_y": 404, "staff": 200}

GET_CASES = [
    ("home", lambda w: reverse("home"), OWN_PAGE),
    ("profile", lambda w: reverse("profile"), OWN_PAGE),
    ("profile_edit", lambda w: reverse("profile_edit"), OWN_PAGE),
    ("my_region", lambda w: reverse("my_region"), OWN_PAGE),
    ("levy_waiver", lambda w: reverse("levy_waiver"), OWN_PAGE),
    ("my_data", lambda w: reverse("my_data"), OWN_PAGE),
    ("my_data_json", lambda w: reverse("my_data_json"), OWN_PAGE),
    ("my_data_csv", lambda w: reverse("my_data_csv"), OWN_PAGE),
    ("equality", lambda w: reverse("equality"), OWN_PAGE),
    ("decisions", lambda w: reverse("decisions"), DECIDERS | dict.fromkeys(ROLES[3:], 200)),
    (
        "change_list",
        lambda w: reverse("decisions_changes"),
        DECIDERS | dict.fromkeys(ROLES[3:], 200),
    ),
    ("change_detail", lambda w: reverse("decisions_change", args=[w["change"].pk]), A_CHANGE),
    ("waiver_list", lambda w: reverse("decisions_waivers"), STAFF_ONLY),
    (
        "waiver_detail",
        lambda w: reverse("decisions_waiver", args=[w["waiver"].pk]),
        A_STAFF_REQUEST,
    ),
    ("erasure_list", lambda w: reverse("decisions_erasures"), STAFF_ONLY),
    (
        "erasure_detail",
        lambda w: reverse("decisions_erasure", args=[w["erasure"].pk]),
        A_STAFF_REQUEST,
    ),
    # Staff need the equality-monitoring permission too: the factory's staff do not have it.
    ("equality_totals", lambda w: reverse("decisions_equality"), STAFF_ONLY | {"staff": 403}),
    ("export_log", lambda w: reverse("export_log"), STAFF_ONLY),
    # Councillor A knows their own profile exists, and so does the representative of region X.
    (
        "councillor_history",
        lambda w: reverse("councillor_history", args=[w["councillor_a"].pk]),
        {"anonymous": 302, "councillor_a": 403, "councillor_b": 404}
        | {"rep_x": 403, "rep_y": 404, "staff": 200},
    ),
    (
        "colleague_history",
        lambda w: reverse("councillor_history", args=[w["colleague_a"].pk]),
        LISTED_IN_X,
    ),
    # Someone who has left is listed nowhere: only those who manage the region know of them.
    (
        "former_councillor_history",
        lambda w: reverse("councillor_history", args=[w["former_a"].pk]),
        LISTED_IN_X | {"councillor_a": 404},
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("page", "url", "expected"), GET_CASES, ids=[c[0] for c in GET_CASES])
def test_get_access(client, world, role, page, url, expected):
    response = _client_as(client, world, role).get(url(world))
    assert response.status_code == expected[role]
    if role == "anonymous":
        assert response.url.startswith(reverse("account_login"))


def _change_state(w):
    return list(ProfileChange.objects.values_list("status", "decided_by_id"))


def _councillor_a_state(w):
    c = Councillor.objects.get(pk=w["councillor_a"].pk)
    return (c.council_id, c.ward, c.phone)


def _waiver_state(w):
    return list(LevyWaiver.objects.values_list("status", "reason"))


def _erasure_state(w):
    return list(ErasureRequest.objects.values_list("status", "reason"))


def _erased_state(w):
    """What carrying out councillor A's erasure changes: the request and A's personal data."""
    person = User.objects.get(pk=w["councillor_a"].user_id)
    return (
        _erasure_state(w),
        (person.email, person.full_name, person.is_active),
        EqualityMonitoring.objects.filter(user=person).exists(),
    )


APPROVE = {"decision": "approved", "reason": ""}
CHANGE_DECIDED = A_CHANGE | {"rep_x": 302, "staff": 302}
# Posted to the list page, which councillors may not use whatever id they send.
CHANGE_DECIDED_FROM_LIST = CHANGE_DECIDED | {"councillor_b": 403}
STAFF_DECIDED = A_STAFF_REQUEST | {"staff": 302}

# (name, url, data, expected status per role, what to look at in the database)
POST_CASES = [
    (
        "approve_change_by_url",
        lambda w: reverse("decisions_change", args=[w["change"].pk]),
        lambda w: APPROVE,
        CHANGE_DECIDED,
        _change_state,
    ),
    (
        "approve_change_by_posted_id",
        lambda w: reverse("decisions_changes"),
        lambda w: APPROVE | {"change": w["change"].pk},
        CHANGE_DECIDED_FROM_LIST,
        _change_state,
    ),
    (
        "approve_change_moves_councillor",
        lambda w: reverse("decisions_change", args=[w["change"].pk]),
        lambda w: APPROVE,
        CHANGE_DECIDED,
        _councillor_a_state,
    ),
    (
        "approve_waiver",
        lambda w: reverse("decisions_waiver", args=[w["waiver"].pk]),
        lambda w: APPROVE,
        STAFF_DECIDED,
        _waiver_state,
    ),
    (
        "refuse_waiver",
        lambda w: reverse("decisions_waiver", args=[w["waiver"].pk]),
        lambda w: {"decision": "refused", "reason": "Income above threshold"},
        STAFF_DECIDED,
        _waiver_state,
    ),
    (
        "erase_now",
        lambda w: reverse("decisions_erasure", args=[w["erasure"].pk]),
        lambda w: {"decision": "approved", "reason": ""},
        STAFF_DECIDED,
        _erased_state,
    ),
    (
        "refuse_erasure",
        lambda w: reverse("decisions_erasure", args=[w["erasure"].pk]),
        lambda w: {"decision": "refused", "reason": "Membership dispute open"},
        STAFF_DECIDED,
        _erasure_state,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("action", "url", "data", "expected", "state"), POST_CASES, ids=[c[0] for c in POST_CASES]
)
def test_post_access(client, world, role, action, url, data, expected, state):
    before = state(world)
    response = _client_as(client, world, role).post(url(world), data(world))
    assert response.status_code == expected[role]
    if expected[role] == 302 and role != "anonymous":
        assert state(world) != before
    else:
        assert state(world) == before
    if role == "anonymous":
        assert response.url.startswith(reverse("account_login"))


def test_rep_cannot_decide_change_of_other_region_whatever_id_they_post(client, world):
    """A representative posting another region's change id to their own list gets 404."""
    client.force_login(world["people"]["rep_y"])
    response = client.post(reverse("decisions_changes"), APPROVE | {"change": world["change"].pk})
    assert response.status_code == 404
    assert ProfileChange.objects.get().status == Decision.PENDING


DECISION_PAGES = {
    "decisions_change": "change",
    "decisions_waiver": "waiver",
    "decisions_erasure": "erasure",
}


@pytest.mark.parametrize("role", ROLES[1:])
@pytest.mark.parametrize("page", DECISION_PAGES)
def test_a_request_id_that_does_not_exist_is_not_found_for_everyone(client, world, role, page):
    client = _client_as(client, world, role)
    assert client.get(reverse(page, args=[999999])).status_code == 404
    assert client.post(reverse(page, args=[999999]), APPROVE).status_code == 404


# Everyone but A and those who decide: the representative of A's region decides A's change.
OUTSIDERS = [
    (role, page)
    for page in DECISION_PAGES
    for role in ["councillor_b", "rep_x", "rep_y"]
    if (role, page) != ("rep_x", "decisions_change")
]


@pytest.mark.parametrize(("role", "page"), OUTSIDERS)
def test_someone_elses_request_answers_as_if_it_did_not_exist(client, world, role, page):
    """Councillor B and the representatives cannot tell A's waiver or erasure from a missing id
    (nor the representative of another region A's change)."""
    client = _client_as(client, world, role)
    existing = client.get(reverse(page, args=[world[DECISION_PAGES[page]].pk]))
    missing = client.get(reverse(page, args=[999999]))
    assert existing.status_code == missing.status_code == 404


@pytest.mark.parametrize("page", DECISION_PAGES)
def test_the_person_a_request_concerns_is_refused_its_decision_page(client, world, page):
    client.force_login(world["people"]["councillor_a"])
    assert client.get(reverse(page, args=[world[DECISION_PAGES[page]].pk])).status_code == 403


def test_a_move_into_another_region_is_decided_by_that_regions_rep(client, world):
    """The change goes to the representative of the council the councillor moves to."""
    councillor = world["councillor_a"]
    ProfileChange.objects.all().delete()
    council_y = CouncilFactory(region=world["people"]["rep_y"].representative_roles.get().region)
    move = ProfileChangeFactory(councillor=councillor, council=council_y, ward="Y Ward")
    client.force_login(world["people"]["rep_x"])
    assert client.post(reverse("decisions_change", args=[move.pk]), APPROVE).status_code == 404
    assert ProfileChange.objects.get().status == Decision.PENDING
    client.force_login(world["people"]["rep_y"])
    assert client.post(reverse("decisions_change", args=[move.pk]), APPROVE).status_code == 302
    councillor.refresh_from_db()
    assert (councillor.council, councillor.ward) == (council_y, "Y Ward")


def test_rep_lists_only_changes_into_their_region(client, world):
    client.force_login(world["people"]["rep_y"])
    response = client.get(reverse("decisions_changes"))
    assert world["councillor_a"].user.full_name not in response.text
    client.force_login(world["people"]["rep_x"])
    response = client.get(reverse("decisions_changes"))
    assert world["councillor_a"].user.full_name in response.text


@pytest.mark.parametrize("role", ROLES)
def test_only_councillor_a_can_change_councillor_a_profile(client, world, role):
    councillor = world["councillor_a"]
    data = {
        "full_name": "Someone Else",
        "council": councillor.council_id,
        "ward": councillor.ward,
        "labour_coop": "no",
        "phone": "07700 900999",
        "positions-TOTAL_FORMS": "0",
        "positions-INITIAL_FORMS": "0",
    }
    others_before = list(
        Councillor.objects.exclude(pk=councillor.pk).values_list("pk", "phone", "council", "ward")
    )
    positions_before = list(Position.objects.filter(councillor=councillor).values_list())
    changes_before = list(ProfileChange.objects.filter(councillor=councillor).values_list())
    response = _client_as(client, world, role).post(reverse("profile_edit"), data)
    councillor.refresh_from_db()
    councillor.user.refresh_from_db()
    # Anonymous: to the login page. Councillor B: their own profile is what the form edits
    # (saved, or a pending request to move to A's council). Staff and representatives: the page
    # saying they have no councillor profile.
    expected = {"anonymous": 302, "councillor_a": 302, "councillor_b": 302}.get(role, 200)
    assert response.status_code == expected
    if role == "councillor_a":
        assert councillor.phone == "07700 900999"
    else:
        assert councillor.phone == "020 7946 0001"
        assert councillor.user.full_name != "Someone Else"
        assert list(ProfileChange.objects.filter(councillor=councillor).values_list()) == (
            changes_before
        )
        assert list(Position.objects.filter(councillor=councillor).values_list()) == (
            positions_before
        )
    if role != "councillor_b":
        assert others_before == list(
            Councillor.objects.exclude(pk=councillor.pk).values_list(
                "pk", "phone", "council", "ward"
            )
        )


# A person's own requests: each acts on the signed-in person only, whatever they post. Each
# state is {user id: what the action changes for that person}.


def _waivers_by_person():
    by_person = {}
    for user_id, year in LevyWaiver.objects.values_list("councillor__user_id", "year"):
        by_person.setdefault(user_id, set()).add(year)
    return by_person


def _pending_erasures_by_person():
    pending = ErasureRequest.objects.filter(status=Decision.PENDING)
    return dict.fromkeys(pending.values_list("user_id", flat=True), True)


def _equality_by_person():
    return dict(EqualityMonitoring.objects.values_list("user_id", "answers"))


SIGNED_IN = dict.fromkeys(ROLES[1:], 302) | {"anonymous": 302}
# People without a councillor profile get a page that says so, and nothing is saved.
COUNCILLORS_ONLY = SIGNED_IN | {"rep_x": 200, "rep_y": 200, "staff": 200}

# (name, url, data, expected status per role, state, the person's entry after it worked)
OWN_POST_CASES = [
    (
        "levy_waiver",
        lambda: reverse("levy_waiver"),
        {"year": str(NEXT_YEAR), "circumstances": "Low income", "declaration": "on"},
        COUNCILLORS_ONLY,
        _waivers_by_person,
        lambda entry: entry is not None and NEXT_YEAR in entry,
    ),
    (
        "erasure_request",
        lambda: reverse("erasure_request"),
        {"confirm": "on"},
        SIGNED_IN,
        _pending_erasures_by_person,
        lambda entry: entry is True,
    ),
    (
        "equality",
        lambda: reverse("equality"),
        {"age_band": "45_59", "consent": "on"},
        SIGNED_IN,
        _equality_by_person,
        lambda entry: entry == {"age_band": "45_59"},
    ),
    (
        "equality_withdraw",
        lambda: reverse("equality_withdraw"),
        {},
        SIGNED_IN,
        _equality_by_person,
        lambda entry: entry is None,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("action", "url", "data", "expected", "state", "done"),
    OWN_POST_CASES,
    ids=[c[0] for c in OWN_POST_CASES],
)
def test_own_requests_act_on_the_signed_in_person_only(
    client, world, role, action, url, data, expected, state, done
):
    person = world["people"][role]
    before = state()
    response = _client_as(client, world, role).post(url(), data)
    assert response.status_code == expected[role]
    after = state()
    if role == "anonymous":
        assert response.url.startswith(reverse("account_login"))
        assert after == before
        return
    others = {k: v for k, v in after.items() if k != person.pk}
    assert others == {k: v for k, v in before.items() if k != person.pk}
    if expected[role] == 302:
        assert done(after.get(person.pk))
    else:
        assert after == before


def test_a_posted_user_or_councillor_id_is_ignored(client, world):
    """Fields naming someone else are not part of these forms: the request is still one's own."""
    client.force_login(world["people"]["councillor_b"])
    other = world["councillor_a"]
    client.post(
        reverse("levy_waiver"),
        {"year": NEXT_YEAR, "circumstances": "x", "declaration": "on", "councillor": other.pk},
    )
    client.post(reverse("equality_withdraw"), {"user": other.user_id})
    assert not LevyWaiver.objects.filter(councillor=other, year=NEXT_YEAR).exists()
    assert LevyWaiver.objects.filter(councillor__user=world["people"]["councillor_b"]).exists()
    assert EqualityMonitoring.objects.filter(user=other.user).exists()


# The admin site: national staff only. Everyone else is sent to the admin login page, and a
# POST to a change page changes nothing.

ADMIN_PAGES = [
    ("person", "members_user", lambda w: w["councillor_a"].user_id),
    ("councillor", "members_councillor", lambda w: w["councillor_a"].pk),
    ("waiver", "members_levywaiver", lambda w: w["waiver"].pk),
]


def _admin_state(w):
    person = User.objects.get(pk=w["councillor_a"].user_id)
    councillor = Councillor.objects.get(pk=w["councillor_a"].pk)
    return (
        (person.email, person.full_name, person.is_staff, person.is_superuser),
        (councillor.council_id, councillor.ward, councillor.phone),
        _waiver_state(w),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("page", "model", "pk"), ADMIN_PAGES, ids=[p[0] for p in ADMIN_PAGES])
def test_admin_change_pages_are_for_staff_only(client, world, role, page, model, pk):
    url = reverse(f"admin:{model}_change", args=[pk(world)])
    client = _client_as(client, world, role)
    response = client.get(url)
    if role == "staff":
        assert response.status_code == 200
        return
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    before = _admin_state(world)
    data = {"email": "taken@example.org", "full_name": "Taken Over", "is_superuser": "on"}
    response = client.post(url, data | {"ward": "Taken", "status": "approved"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert _admin_state(world) == before


def test_the_matrix_covers_exactly_its_url_names(world):
    urls = [url(world) for _name, url, _expected in GET_CASES]
    urls += [url(world) for _name, url, _data, _expected, _state in POST_CASES]
    urls += [url() for _name, url, *_rest in OWN_POST_CASES]
    assert {resolve(url).view_name for url in urls} == COVERED_URL_NAMES


# Roles that have ended. A former councillor keeps their own profile and data pages (and reads
# their waivers) but loses their region and may not apply for a waiver or ask to move; their
# own profile's history is known to them but staff's to read. A representative whose
# appointment has ended loses everything the appointment gave: they are a person with no role.
ENDED_ROLES = ["former_councillor", "ended_rep"]
ENDED_GET = {
    "home": (200, 200),
    "profile": (200, 200),
    "profile_edit": (200, 200),
    "my_region": (403, 200),
    "levy_waiver": (200, 200),
    "my_data": (200, 200),
    "my_data_json": (200, 200),
    "my_data_csv": (200, 200),
    "equality": (200, 200),
    "decisions": (403, 403),
    "change_list": (403, 403),
    "change_detail": (404, 404),
    "waiver_list": (403, 403),
    "waiver_detail": (404, 404),
    "erasure_list": (403, 403),
    "erasure_detail": (404, 404),
    "equality_totals": (403, 403),
    "export_log": (403, 403),
    "councillor_history": (404, 404),
    "colleague_history": (404, 404),
    "former_councillor_history": (403, 404),
}


def test_the_ended_roles_matrix_covers_every_page():
    assert set(ENDED_GET) == {case[0] for case in GET_CASES}


@pytest.mark.parametrize("role", ENDED_ROLES)
@pytest.mark.parametrize(("page", "url", "_expected"), GET_CASES, ids=[c[0] for c in GET_CASES])
def test_get_access_after_a_role_ends(client, world, role, page, url, _expected):
    expected = ENDED_GET[page][ENDED_ROLES.index(role)]
    assert _client_as(client, world, role).get(url(world)).status_code == expected


# Deciding anything is refused as for a councillor of another region: 404 for a request they
# may not know exists, 403 for posting to a list they may not use.
ENDED_POST = {
    "approve_change_by_url": 404,
    "approve_change_by_posted_id": 403,
    "approve_change_moves_councillor": 404,
    "approve_waiver": 404,
    "refuse_waiver": 404,
    "erase_now": 404,
    "refuse_erasure": 404,
}


@pytest.mark.parametrize("role", ENDED_ROLES)
@pytest.mark.parametrize(
    ("action", "url", "data", "_expected", "state"), POST_CASES, ids=[c[0] for c in POST_CASES]
)
def test_post_access_after_a_role_ends(client, world, role, action, url, data, _expected, state):
    before = state(world)
    response = _client_as(client, world, role).post(url(world), data(world))
    assert response.status_code == ENDED_POST[action]
    assert state(world) == before


def test_a_former_councillor_may_not_apply_for_a_waiver_but_may_ask_for_erasure(client, world):
    person = world["people"]["former_councillor"]
    client.force_login(person)
    data = {"year": str(NEXT_YEAR), "circumstances": "Low income", "declaration": "on"}
    assert client.post(reverse("levy_waiver"), data).status_code == 403
    assert not LevyWaiver.objects.filter(councillor__user=person).exists()
    assert client.post(reverse("erasure_request"), {"confirm": "on"}).status_code == 302
    assert ErasureRequest.objects.filter(user=person, status=Decision.PENDING).exists()


def test_a_representative_whose_appointment_ended_is_not_shown_decisions(client, world):
    client.force_login(world["people"]["ended_rep"])
    page = client.get(reverse("home"))
    assert page.context["pending"] is None
    assert page.context["represented_regions"] == []
    assert reverse("decisions") not in page.text
