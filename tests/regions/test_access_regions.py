"""Who may open and change which regions pages, for every role.

Councillor A sits on council A in region X, councillor B on council B in region Y. Each
region has a representative. A former councillor sat on council A until they left: the
councillor role gave them region X, and leaving takes it away. Refused requests must leave the
database as it was.

The matrix is split over this module, tests/members/test_access_onboarding.py and
tests/members/test_access_profile.py; each names the url names it covers, and the guard test at
the end fails when a url of members or regions is covered by none of them.
"""

import datetime
import importlib.util
from pathlib import Path

import pytest
from django.urls import resolve, reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    GroupOfficerFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)

import members.urls
import regions.urls
from members.services.staff import staff_appoint
from regions.models import Council, CouncilGroup, GroupOfficer, RegionalRepresentative

pytestmark = pytest.mark.django_db


ROLES = ["anonymous", "councillor_a", "councillor_b", "rep_x", "rep_y", "staff", "former_a"]
COVERED_URL_NAMES = {
    "regions:region",
    "regions:council",
    "regions:council_correct",
    "regions:group",
    "regions:group_edit",
    "regions:group_officers",
    "regions:officer_end",
    "regions:national",
    "regions:history",
}


@pytest.fixture
def world():
    x = RegionFactory(name="Region X", slug="region-x")
    y = RegionFactory(name="Region Y", slug="region-y")
    council_a = CouncilFactory(region=x)
    council_b = CouncilFactory(region=y)
    group_a = CouncilGroupFactory(council=council_a, contact_email="a@labour.example.org")
    group_b = CouncilGroupFactory(council=council_b, contact_email="b@labour.example.org")
    councillor_a = CouncillorFactory(council=council_a)
    councillor_b = CouncillorFactory(council=council_b)
    former_a = CouncillorFactory(council=council_a, left_on=datetime.date(2025, 5, 8))
    # A second serving councillor on each council, who can be appointed.
    candidate_a = CouncillorFactory(council=council_a)
    candidate_b = CouncillorFactory(council=council_b)
    rep_x = RepresentativeFactory(region=x)
    rep_y = RepresentativeFactory(region=y)
    neighbour_a = CouncilFactory(region=x)  # another council of A's region, with no group
    staff = StaffFactory()
    staff_appoint(user=staff)  # with the admin site permissions national staff are given
    start = datetime.date(2025, 5, 10)
    officer_a = GroupOfficerFactory(group=group_a, user=councillor_a.user, start_date=start)
    officer_b = GroupOfficerFactory(group=group_b, user=councillor_b.user, start_date=start)
    return {
        "x": x,
        "y": y,
        "council_a": council_a,
        "neighbour_a": neighbour_a,
        "group_a": group_a,
        "group_b": group_b,
        "candidate_a": candidate_a,
        "candidate_b": candidate_b,
        "officer_a": officer_a,
        "officer_b": officer_b,
        "rep_x_appointment": rep_x,
        "users": {
            "anonymous": None,
            "councillor_a": councillor_a.user,
            "councillor_b": councillor_b.user,
            "rep_x": rep_x.user,
            "rep_y": rep_y.user,
            "staff": staff,
            "former_a": former_a.user,
        },
    }


def _client_as(client, world, role):
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    return client


def _snapshot():
    """Everything a refused request could have changed."""
    return {
        "groups": list(
            CouncilGroup.objects.order_by("pk").values_list(
                "pk", "name", "contact_email", "phone", "postal_address"
            )
        ),
        "officers": list(
            GroupOfficer.objects.order_by("pk").values_list(
                "pk", "group_id", "role", "user_id", "start_date", "end_date"
            )
        ),
        "group_history": CouncilGroup.history.count(),
        "officer_history": GroupOfficer.history.count(),
        "councils": list(
            Council.objects.order_by("pk").values_list("pk", "total_seats", "labour_seats")
        ),
        "council_history": Council.history.count(),
    }


def _status(response):
    """The status, with login redirects told apart from redirects after a save."""
    if response.status_code == 302 and "/accounts/login/" in response.url:
        return "login"
    return response.status_code


# url name, args from the world, expected status per role (in ROLES order).
READS = {
    "region dashboard": (
        lambda w: reverse("regions:region", args=[w["x"].slug]),
        ["login", 200, 404, 200, 404, 200, 404],
    ),
    "council page": (
        lambda w: reverse("regions:council", args=[w["council_a"].slug]),
        ["login", 200, 404, 200, 404, 200, 404],
    ),
    "page of another council in A's region": (
        lambda w: reverse("regions:council", args=[w["neighbour_a"].slug]),
        ["login", 200, 404, 200, 404, 200, 404],
    ),
    "unknown council": (
        lambda w: reverse("regions:council", args=["no-such-council"]),
        ["login", 404, 404, 404, 404, 404, 404],
    ),
    "council correction page": (
        lambda w: reverse("regions:council_correct", args=[w["council_a"].slug]),
        ["login", 403, 404, 403, 404, 200, 404],
    ),
    "council history": (
        lambda w: reverse("regions:history", args=["council", w["council_a"].pk]),
        ["login", 403, 404, 403, 404, 200, 404],
    ),
    "group page": (
        lambda w: reverse("regions:group", args=[w["group_a"].pk]),
        ["login", 200, 404, 200, 404, 200, 404],
    ),
    "group edit page": (
        lambda w: reverse("regions:group_edit", args=[w["group_a"].pk]),
        ["login", 403, 404, 200, 404, 200, 404],
    ),
    "group officers page": (
        lambda w: reverse("regions:group_officers", args=[w["group_a"].pk]),
        ["login", 403, 404, 200, 404, 200, 404],
    ),
    "national dashboard": (
        lambda w: reverse("regions:national"),
        ["login", 403, 403, 403, 403, 200, 403],
    ),
    "group history": (
        lambda w: reverse("regions:history", args=["group", w["group_a"].pk]),
        ["login", 403, 404, 403, 404, 200, 404],
    ),
    "officer history": (
        lambda w: reverse("regions:history", args=["officer", w["officer_a"].pk]),
        ["login", 403, 404, 403, 404, 200, 404],
    ),
    "representative history": (
        lambda w: reverse("regions:history", args=["representative", w["rep_x_appointment"].pk]),
        ["login", 403, 404, 403, 404, 200, 404],
    ),
}


@pytest.mark.parametrize("page", READS)
@pytest.mark.parametrize("role", ROLES)
def test_get_permissions(client, world, page, role):
    url, expected = READS[page]
    response = _client_as(client, world, role).get(url(world))
    assert _status(response) == expected[ROLES.index(role)]


def _contact_post(world):
    return (
        reverse("regions:group_edit", args=[world["group_a"].pk]),
        {
            "name": "Renamed Labour Group",
            "contact_email": "new@labour.example.org",
            "phone": "020 7946 0000",
            "postal_address": "1 High Street",
        },
    )


def _appoint_post(world):
    return (
        reverse("regions:group_officers", args=[world["group_a"].pk]),
        {"role": "secretary", "user": world["candidate_a"].user.pk, "start_date": "2026-01-05"},
    )


def _end_post(world):
    return (
        reverse("regions:officer_end", args=[world["officer_a"].pk]),
        {"end_date": "2026-01-05"},
    )


def _correct_post(world):
    return (
        reverse("regions:council_correct", args=[world["council_a"].slug]),
        {
            "total_seats": 60,
            "labour_seats": 31,
            "control": "LAB",
            "reason": "By-election",
            "elections-TOTAL_FORMS": "0",
            "elections-INITIAL_FORMS": "0",
        },
    )


# Expected status per role; 302 is the redirect after a successful change.
WRITES = {
    "correct a council's figures": (_correct_post, ["login", 403, 404, 403, 404, 302, 404]),
    "edit contact details": (_contact_post, ["login", 403, 404, 302, 404, 302, 404]),
    "appoint an officer": (_appoint_post, ["login", 403, 404, 302, 404, 302, 404]),
    "end an officer's term": (_end_post, ["login", 403, 404, 302, 404, 302, 404]),
}


@pytest.mark.parametrize("action", WRITES)
@pytest.mark.parametrize("role", ROLES)
def test_post_permissions_and_refusals_change_nothing(client, world, action, role):
    build, expected = WRITES[action]
    url, data = build(world)
    before = _snapshot()
    response = _client_as(client, world, role).post(url, data)
    status = _status(response)
    assert status == expected[ROLES.index(role)]
    if status == 302:
        assert _snapshot() != before
    else:
        assert _snapshot() == before


# A group's page lists the serving councillors of its council by name and ward for everyone
# who can see the group; only those who manage the region see their email addresses.
GROUP_LISTS = {
    "anonymous": "login",
    "councillor_a": "names",
    "councillor_b": 404,
    "rep_x": "contacts",
    "rep_y": 404,
    "staff": "contacts",
    "former_a": 404,
}


@pytest.mark.parametrize("role", ROLES)
def test_group_page_lists_councillors_by_name_for_those_who_see_it(client, world, role):
    world["candidate_a"].user.full_name = ""
    world["candidate_a"].user.save()
    colleague = CouncillorFactory(
        council=world["council_a"], ward="Riverside", user__full_name="Rowan Listed"
    )
    CouncillorFactory(
        council=world["council_a"],
        left_on=datetime.date(2025, 1, 1),
        user__full_name="Morgan Departed",
    )
    response = _client_as(client, world, role).get(
        reverse("regions:group", args=[world["group_a"].pk])
    )
    expected = GROUP_LISTS[role]
    if expected in ("login", 404):
        assert _status(response) == expected
        return
    page = response.text
    assert colleague.user.full_name in page and "Riverside" in page
    assert "Morgan Departed" not in page
    # A councillor without a name is shown by email only to those who manage the region.
    assert (world["candidate_a"].user.email in page) == (expected == "contacts")


def test_the_national_dashboard_is_not_linked_for_non_staff(client, world):
    client.force_login(world["users"]["rep_x"])
    assert reverse("regions:national") not in client.get(reverse("home")).text


def test_rep_cannot_appoint_a_councillor_from_another_region(client, world):
    client.force_login(world["users"]["rep_x"])
    before = _snapshot()
    response = client.post(
        reverse("regions:group_officers", args=[world["group_a"].pk]),
        {"role": "secretary", "user": world["candidate_b"].user.pk, "start_date": "2026-01-05"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert _snapshot() == before


def test_rep_cannot_appoint_in_a_group_of_another_region(client, world):
    client.force_login(world["users"]["rep_x"])
    before = _snapshot()
    response = client.post(
        reverse("regions:group_officers", args=[world["group_b"].pk]),
        {"role": "secretary", "user": world["candidate_b"].user.pk, "start_date": "2026-01-05"},
    )
    assert response.status_code == 404
    assert _snapshot() == before


def test_rep_cannot_end_an_officer_of_another_region(client, world):
    client.force_login(world["users"]["rep_x"])
    before = _snapshot()
    response = client.post(
        reverse("regions:officer_end", args=[world["officer_b"].pk]), {"end_date": "2026-01-05"}
    )
    assert response.status_code == 404
    assert _snapshot() == before


def test_rep_cannot_edit_group_in_other_region(client, world):
    client.force_login(world["users"]["rep_y"])
    before = _snapshot()
    url, data = _contact_post(world)
    assert client.post(url, data).status_code == 404
    assert _snapshot() == before


def test_a_councillor_who_left_cannot_be_appointed(client, world):
    world["candidate_a"].left_on = datetime.date(2025, 1, 1)
    world["candidate_a"].save()
    client.force_login(world["users"]["rep_x"])
    before = _snapshot()
    url, data = _appoint_post(world)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert _snapshot() == before


def test_an_ended_representative_loses_access(client, world):
    appointment = world["rep_x_appointment"]
    RegionalRepresentative.objects.filter(pk=appointment.pk).update(
        end_date=datetime.date(2020, 1, 1)
    )
    client.force_login(world["users"]["rep_x"])
    assert client.get(reverse("regions:group", args=[world["group_a"].pk])).status_code == 404


def test_a_representative_appointed_from_a_future_date_has_no_access_until_then(client, world):
    appointment = world["rep_x_appointment"]
    RegionalRepresentative.objects.filter(pk=appointment.pk).update(
        start_date=timezone.localdate() + datetime.timedelta(days=1)
    )
    client.force_login(world["users"]["rep_x"])
    assert client.get(reverse("regions:group", args=[world["group_a"].pk])).status_code == 404
    before = _snapshot()
    url, data = _contact_post(world)
    assert client.post(url, data).status_code == 404
    assert _snapshot() == before
    # From the first day of the appointment, the region is theirs.
    RegionalRepresentative.objects.filter(pk=appointment.pk).update(start_date=timezone.localdate())
    assert client.get(reverse("regions:group", args=[world["group_a"].pk])).status_code == 200


def test_a_councillor_who_leaves_loses_their_regions_pages(client, world):
    user = world["users"]["councillor_a"]
    user.councillor.left_on = timezone.localdate()
    user.councillor.save()
    client.force_login(user)
    pages = [
        reverse("regions:region", args=[world["x"].slug]),
        reverse("regions:council", args=[world["council_a"].slug]),
        reverse("regions:group", args=[world["group_a"].pk]),
    ]
    assert [client.get(page).status_code for page in pages] == [404, 404, 404]


def test_unknown_history_kind_is_not_found(client, world):
    client.force_login(world["users"]["staff"])
    response = client.get(reverse("regions:history", args=["user", world["group_a"].pk]))
    assert response.status_code == 404


# The admin site: national staff only. Everyone else is sent to the admin login page, and a
# POST to a change page changes nothing.

ADMIN_PAGES = {
    "council": ("regions_council", lambda w: w["council_a"].pk),
    "group": ("regions_councilgroup", lambda w: w["group_a"].pk),
    "officer": ("regions_groupofficer", lambda w: w["officer_a"].pk),
    "representative": ("regions_regionalrepresentative", lambda w: w["rep_x_appointment"].pk),
}


def _council_state():
    return list(
        Council.objects.order_by("pk").values_list("pk", "name", "region_id", "labour_seats")
    )


@pytest.mark.parametrize("page", ADMIN_PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_admin_change_pages_are_for_staff_only(client, world, page, role):
    model, pk = ADMIN_PAGES[page]
    url = reverse(f"admin:{model}_change", args=[pk(world)])
    client = _client_as(client, world, role)
    response = client.get(url)
    if role == "staff":
        assert response.status_code == 200
        return
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    before = (_snapshot(), _council_state(), list(RegionalRepresentative.objects.values()))
    data = {
        "name": "Taken over",
        "contact_email": "taken@example.org",
        "labour_seats": "0",
        "region": world["y"].pk,
        "end_date": "2020-01-01",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    after = (_snapshot(), _council_state(), list(RegionalRepresentative.objects.values()))
    assert after == before


def test_the_matrix_covers_exactly_its_url_names(world):
    urls = [url(world) for url, _expected in READS.values()]
    urls += [build(world)[0] for build, _expected in WRITES.values()]
    assert {resolve(url).view_name for url in urls} == COVERED_URL_NAMES


# Pages that only show something answer any other method with 405, before looking anything up;
# every url of members and regions is one or the other.

SHOWS_ONLY = {
    "home",
    "join_thanks",
    "join_requests",
    "council_councillors",
    "councillor_history",
    "import_detail",
    "import_progress",
    "import_rejected_rows",
    "export_councillors",
    "export_groups",
    "export_log",
    "profile",
    "my_region",
    "my_data",
    "my_data_json",
    "my_data_csv",
    "decisions",
    "decisions_waivers",
    "decisions_erasures",
    "decisions_equality",
    "regions:national",
    "regions:history",
    "regions:council",
    "regions:group",
    "regions:region",
}
ACCEPTS_POST = {
    "join",
    "join_request_approve",
    "join_request_refuse",
    "invitation_accept",
    "councillor_add",
    "councillor_edit",
    "councillor_leave",
    "councillor_reinstate",
    "councillor_invitation_resend",
    "council_invitations_resend",
    "region_invitations_resend",
    "import_upload",
    "group_import_upload",
    "import_confirm",
    "representatives",
    "representative_appoint",
    "representative_remove",
    "profile_edit",
    "levy_waiver",
    "erasure_request",
    "equality",
    "equality_withdraw",
    "decisions_changes",
    "decisions_change",
    "decisions_waiver",
    "decisions_erasure",
    "regions:council_correct",
    "regions:group_edit",
    "regions:group_officers",
    "regions:officer_end",
}


def _patterns():
    """(url name, url) for every pattern of members and regions, with placeholder arguments:
    the method is refused before any object is looked up."""
    sample = {"int": 1, "slug": "placeholder", "string": "placeholder"}
    found = []
    for prefix, module in (("", members.urls), (f"{regions.urls.app_name}:", regions.urls)):
        for pattern in module.urlpatterns:
            kinds = {
                name: type(converter).__name__.removesuffix("Converter").lower()
                for name, converter in pattern.pattern.converters.items()
            }
            kwargs = {name: sample[kind] for name, kind in kinds.items()}
            found.append((prefix + pattern.name, reverse(prefix + pattern.name, kwargs=kwargs)))
    return found


def test_every_page_either_only_shows_or_takes_a_post():
    names = {name for name, _url in _patterns()}
    assert SHOWS_ONLY.isdisjoint(ACCEPTS_POST)
    assert names - SHOWS_ONLY - ACCEPTS_POST == set(), "say which kind these pages are"
    assert (SHOWS_ONLY | ACCEPTS_POST) - names == set(), "these pages no longer exist"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_pages_that_only_show_refuse_other_methods(client, world, method):
    client.force_login(world["users"]["staff"])
    before = _snapshot()
    answers = {
        name: getattr(client, method)(url).status_code
        for name, url in _patterns()
        if name in SHOWS_ONLY
    }
    assert answers == dict.fromkeys(SHOWS_ONLY, 405)
    assert _snapshot() == before


def test_pages_that_only_show_still_answer_get_and_head(client, world):
    client.force_login(world["users"]["staff"])
    url = reverse("regions:group", args=[world["group_a"].pk])
    assert client.get(url).status_code == 200
    assert client.head(url).status_code == 200


# The guard: every url of members and regions is in the permission matrix.

MATRIX_MODULES = [
    Path(__file__).parent.parent / "members" / "test_access_onboarding.py",
    Path(__file__).parent.parent / "members" / "test_access_profile.py",
]


def _covered_elsewhere() -> set[str]:
    names = set()
    for path in MATRIX_MODULES:
        spec = importlib.util.spec_from_file_location(f"matrix_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        names |= module.COVERED_URL_NAMES
    return names


def test_every_url_of_members_and_regions_is_in_the_permission_matrix():
    defined = {p.name for p in members.urls.urlpatterns}
    defined |= {f"{regions.urls.app_name}:{p.name}" for p in regions.urls.urlpatterns}
    covered = COVERED_URL_NAMES | _covered_elsewhere()
    assert defined - covered == set(), "add these pages to the permission matrix"
    assert covered - defined == set(), "these pages no longer exist"
