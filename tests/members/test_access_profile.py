"""Who may see and change profiles, council and ward changes, levy waivers and erasure requests.

Roles: anonymous, councillor A, councillor B (same region, other council), the representative
of A's region, the representative of another region, and national office staff. A refused
write leaves the database as it was.
"""

import pytest
from django.urls import reverse
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

from members.models import Councillor, Decision, ErasureRequest, LevyWaiver, ProfileChange

pytestmark = pytest.mark.django_db


ROLES = ["anonymous", "councillor_a", "councillor_b", "rep_a", "rep_other", "staff"]


@pytest.fixture
def world():
    region_a, region_other = RegionFactory(name="Region A"), RegionFactory(name="Region Other")
    council_a, council_b = CouncilFactory(region=region_a), CouncilFactory(region=region_a)
    councillor_a = CouncillorFactory(council=council_a, ward="Old Ward", phone="020 7946 0001")
    councillor_b = CouncillorFactory(council=council_b, ward="B Ward")
    people = {
        "anonymous": None,
        "councillor_a": councillor_a.user,
        "councillor_b": councillor_b.user,
        "rep_a": RepresentativeFactory(region=region_a).user,
        "rep_other": RepresentativeFactory(region=region_other).user,
        "staff": StaffFactory(),
    }
    return {
        "people": people,
        "councillor_a": councillor_a,
        "change": ProfileChangeFactory(councillor=councillor_a, council=council_b, ward="New"),
        "waiver": LevyWaiverFactory(councillor=councillor_a),
        "erasure": ErasureRequestFactory(user=councillor_a.user),
    }


def _client_as(client, world, role):
    if world["people"][role] is not None:
        client.force_login(world["people"][role])
    return client


OWN_PAGE = dict.fromkeys(ROLES[1:], 200) | {"anonymous": 302}
DECIDERS = {"anonymous": 302, "councillor_a": 403, "councillor_b": 403}
STAFF_ONLY = DECIDERS | {"rep_a": 403, "rep_other": 403, "staff": 200}

GET_CASES = [
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
    (
        "change_detail",
        lambda w: reverse("decisions_change", args=[w["change"].pk]),
        DECIDERS | {"rep_a": 200, "rep_other": 404, "staff": 200},
    ),
    ("waiver_list", lambda w: reverse("decisions_waivers"), STAFF_ONLY),
    ("waiver_detail", lambda w: reverse("decisions_waiver", args=[w["waiver"].pk]), STAFF_ONLY),
    ("erasure_list", lambda w: reverse("decisions_erasures"), STAFF_ONLY),
    (
        "erasure_detail",
        lambda w: reverse("decisions_erasure", args=[w["erasure"].pk]),
        STAFF_ONLY,
    ),
    # Staff need the equality-monitoring permission too: the factory's staff do not have it.
    ("equality_totals", lambda w: reverse("decisions_equality"), STAFF_ONLY | {"staff": 403}),
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


APPROVE = {"decision": "approved", "reason": ""}
CHANGE_DECIDED = DECIDERS | {"rep_a": 302, "rep_other": 404, "staff": 302}
STAFF_DECIDED = STAFF_ONLY | {"staff": 302}

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
        CHANGE_DECIDED,
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
    client.force_login(world["people"]["rep_other"])
    response = client.post(reverse("decisions_changes"), APPROVE | {"change": world["change"].pk})
    assert response.status_code == 404
    assert ProfileChange.objects.get().status == Decision.PENDING


def test_rep_lists_only_changes_into_their_region(client, world):
    client.force_login(world["people"]["rep_other"])
    response = client.get(reverse("decisions_changes"))
    assert world["councillor_a"].user.full_name not in response.text
    client.force_login(world["people"]["rep_a"])
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
    response = _client_as(client, world, role).post(reverse("profile_edit"), data)
    councillor.refresh_from_db()
    councillor.user.refresh_from_db()
    if role == "councillor_a":
        assert response.status_code == 302
        assert councillor.phone == "07700 900999"
    else:
        assert response.status_code in (200, 302)
        assert councillor.phone == "020 7946 0001"
        assert councillor.user.full_name != "Someone Else"


@pytest.mark.parametrize("role", ROLES)
def test_requests_are_made_only_for_oneself(client, world, role):
    """Applying for a waiver or asking for erasure acts on the signed-in person only."""
    client = _client_as(client, world, role)
    waivers, erasures = LevyWaiver.objects.count(), ErasureRequest.objects.count()
    client.post(
        reverse("levy_waiver"),
        {"year": "2027", "circumstances": "Low income", "declaration": "on"},
    )
    client.post(reverse("erasure_request"), {"confirm": "on"})
    person = world["people"][role]
    if person is None:
        assert (LevyWaiver.objects.count(), ErasureRequest.objects.count()) == (waivers, erasures)
        return
    assert set(LevyWaiver.objects.values_list("councillor__user", flat=True)) <= {
        world["councillor_a"].user.pk,
        getattr(getattr(person, "councillor", None), "user_id", None),
    }
    assert ErasureRequest.objects.filter(user=person).count() == 1
