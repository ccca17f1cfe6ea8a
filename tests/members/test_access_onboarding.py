"""Who may open and post to every onboarding page.

Roles: anonymous, councillor A (region X), councillor B (region Y), the representatives of X
and of Y, and staff. Objects belong to region X unless named otherwise. Objects a person may
not know exist give 404, pages they can see but not change give 403, and a refused POST
changes nothing in the database.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncillorFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)

from members.models import Councillor, CouncillorImport, JoinRequest, User
from members.services import onboarding
from regions.models import RegionalRepresentative

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "councillor_a", "councillor_b", "rep_x", "rep_y", "staff"]
CSV = b"full_name,email,council,ward\nNew Person,imported@example.org,E0600001,North\n"


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    # Nine accounts per test: hashing their passwords the production way would dominate.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world():
    region_x = RegionFactory(name="Region X", slug="region-x")
    region_y = RegionFactory(name="Region Y", slug="region-y")
    council_x = CouncilFactory(region=region_x, slug="council-x", gss_code="E0600001")
    council_y = CouncilFactory(region=region_y, slug="council-y", gss_code="E0700002")
    rep_x = RepresentativeFactory(region=region_x)
    w = {
        "region_x": region_x,
        "council_x": council_x,
        "council_y": council_y,
        "anonymous": None,
        "councillor_a": CouncillorFactory(council=council_x).user,
        "councillor_b": CouncillorFactory(council=council_y).user,
        "rep_x": rep_x.user,
        "rep_x_appointment": rep_x,
        "rep_y": RepresentativeFactory(region=region_y).user,
        "staff": StaffFactory(),
        "target": CouncillorFactory(council=council_x),
        "target_y": CouncillorFactory(council=council_y),
        "join_x": JoinRequest.objects.create(
            full_name="Joiner X", email="joiner-x@example.org", council=council_x, ward="W"
        ),
        "join_y": JoinRequest.objects.create(
            full_name="Joiner Y", email="joiner-y@example.org", council=council_y, ward="W"
        ),
    }
    w["import_x"] = onboarding.councillor_import_preview(
        region=region_x, uploaded_by=w["rep_x"], filename="x.csv", raw=CSV
    )
    return w


def snapshot():
    """Everything a refused request might have changed."""
    return (
        list(User.objects.values_list("pk", "email", "full_name").order_by("pk")),
        list(Councillor.objects.values_list("pk", "council", "ward", "phone", "left_on")),
        list(JoinRequest.objects.values_list("pk", "status", "reason").order_by("pk")),
        list(CouncillorImport.objects.values_list("pk", "status").order_by("pk")),
        list(RegionalRepresentative.objects.values_list("pk", "end_date").order_by("pk")),
    )


def _as(client, world, role):
    if world[role] is not None:
        client.force_login(world[role])
    return client


# (name, url, {role: expected status}) for GET. 302 for anonymous is the login redirect.
def get_cases():
    read_region = {"councillor_a": 403, "councillor_b": 404, "rep_x": 200, "rep_y": 404}
    manage_x = {"anonymous": 302, **read_region, "staff": 200}
    managers_only = {
        "anonymous": 302,
        "councillor_a": 404,
        "councillor_b": 404,
        "rep_x": 200,
        "rep_y": 404,
        "staff": 200,
    }
    return [
        ("join", lambda w: reverse("join"), dict.fromkeys(ROLES, 200)),
        (
            "join_requests",
            lambda w: reverse("join_requests"),
            {"anonymous": 302, "councillor_a": 403, "councillor_b": 403}
            | {"rep_x": 200, "rep_y": 200, "staff": 200},
        ),
        (
            "join_refuse",
            lambda w: reverse("join_request_refuse", args=[w["join_x"].pk]),
            managers_only,
        ),
        (
            "councillors",
            lambda w: reverse("council_councillors", args=["council-x"]),
            manage_x | {"councillor_a": 200},
        ),
        ("councillor_add", lambda w: reverse("councillor_add", args=["council-x"]), manage_x),
        (
            "councillor_edit",
            lambda w: reverse("councillor_edit", args=["council-x", w["target"].pk]),
            manage_x,
        ),
        (
            "councillor_leave",
            lambda w: reverse("councillor_leave", args=["council-x", w["target"].pk]),
            manage_x,
        ),
        ("import_upload", lambda w: reverse("import_upload", args=["region-x"]), manage_x),
        (
            "import_detail",
            lambda w: reverse("import_detail", args=[w["import_x"].pk]),
            managers_only,
        ),
        (
            "import_progress",
            lambda w: reverse("import_progress", args=[w["import_x"].pk]),
            managers_only,
        ),
        (
            "export_councillors",
            lambda w: reverse("export_councillors", args=["region-x"]),
            manage_x,
        ),
        ("export_groups", lambda w: reverse("export_groups", args=["region-x"]), manage_x),
        (
            "representatives",
            lambda w: reverse("representatives"),
            {"anonymous": 302, "staff": 200}
            | dict.fromkeys(["councillor_a", "councillor_b", "rep_x", "rep_y"], 403),
        ),
    ]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "url", "expected"), get_cases(), ids=[c[0] for c in get_cases()])
def test_get_permissions(client, world, role, name, url, expected):
    response = _as(client, world, role).get(url(world))
    assert response.status_code == expected[role], f"{role} GET {name}"
    if expected[role] == 302:
        assert response.url.startswith(reverse("account_login"))


def post_cases():
    read_region = {"councillor_a": 403, "councillor_b": 404, "rep_x": 302, "rep_y": 404}
    manage_x = {"anonymous": 302, **read_region, "staff": 302}
    managers_only = {
        "anonymous": 302,
        "councillor_a": 404,
        "councillor_b": 404,
        "rep_x": 302,
        "rep_y": 404,
        "staff": 302,
    }
    staff_only = {"anonymous": 302, "staff": 302} | dict.fromkeys(
        ["councillor_a", "councillor_b", "rep_x", "rep_y"], 403
    )
    today = timezone.localdate().isoformat()
    return [
        (
            "approve",
            lambda w: reverse("join_request_approve", args=[w["join_x"].pk]),
            lambda w: {},
            managers_only,
        ),
        (
            "refuse",
            lambda w: reverse("join_request_refuse", args=[w["join_x"].pk]),
            lambda w: {"reason": "Not known to the group."},
            managers_only,
        ),
        (
            "councillor_add",
            lambda w: reverse("councillor_add", args=["council-x"]),
            lambda w: {
                "full_name": "New One",
                "email": "new@example.org",
                "ward": "W",
                "phone": "",
            },
            manage_x,
        ),
        (
            "councillor_edit",
            lambda w: reverse("councillor_edit", args=["council-x", w["target"].pk]),
            lambda w: {"full_name": "Edited Name", "ward": "Edited Ward", "phone": ""},
            manage_x,
        ),
        (
            "councillor_leave",
            lambda w: reverse("councillor_leave", args=["council-x", w["target"].pk]),
            lambda w: {"left_on": today, "confirm": "on"},
            manage_x,
        ),
        (
            "import_upload",
            lambda w: reverse("import_upload", args=["region-x"]),
            lambda w: {"file": SimpleUploadedFile("c.csv", CSV, content_type="text/csv")},
            manage_x,
        ),
        (
            "import_confirm",
            lambda w: reverse("import_confirm", args=[w["import_x"].pk]),
            lambda w: {},
            managers_only,
        ),
        (
            "appoint",
            lambda w: reverse("representatives"),
            lambda w: {"email": w["councillor_a"].email, "region": w["region_x"].pk},
            staff_only,
        ),
        (
            "remove_rep",
            lambda w: reverse("representative_remove", args=[w["rep_x_appointment"].pk]),
            lambda w: {},
            staff_only,
        ),
    ]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "url", "data", "expected"), post_cases(), ids=[c[0] for c in post_cases()]
)
def test_post_permissions(client, world, role, name, url, data, expected):
    before = snapshot()
    response = _as(client, world, role).post(url(world), data(world))
    assert response.status_code == expected[role], f"{role} POST {name}"
    allowed = role in ("rep_x", "staff")
    if name in ("appoint", "remove_rep"):
        allowed = role == "staff"
    if allowed:
        assert snapshot() != before, f"{role} POST {name} should have changed something"
    else:
        assert snapshot() == before, f"{role} POST {name} was refused but changed the database"


def test_rep_cannot_edit_a_councillor_of_another_region_through_their_own_council(client, world):
    client.force_login(world["rep_x"])
    before = snapshot()
    url = reverse("councillor_edit", args=["council-x", world["target_y"].pk])
    response = client.post(url, {"full_name": "Hijacked", "ward": "W", "phone": ""})
    assert response.status_code == 404
    assert snapshot() == before


def test_rep_cannot_edit_a_councillor_of_another_council_under_this_council(client, world):
    other = CouncillorFactory(council=CouncilFactory(region=world["region_x"], slug="council-x2"))
    client.force_login(world["rep_x"])
    url = reverse("councillor_edit", args=["council-x", other.pk])
    assert client.get(url).status_code == 404


def test_rep_sees_only_their_regions_join_requests(client, world):
    client.force_login(world["rep_y"])
    page = client.get(reverse("join_requests")).text
    assert "Joiner Y" in page
    assert "Joiner X" not in page


def test_rep_cannot_approve_another_regions_join_request(client, world):
    client.force_login(world["rep_y"])
    before = snapshot()
    response = client.post(reverse("join_request_approve", args=[world["join_x"].pk]))
    assert response.status_code == 404
    assert snapshot() == before


def test_councillor_list_hides_contact_details_from_councillors(client, world):
    client.force_login(world["councillor_a"])
    page = client.get(reverse("council_councillors", args=["council-x"])).text
    assert world["target"].user.full_name in page
    assert world["target"].user.email not in page
    assert "Add a councillor" not in page


def test_post_only_actions_refuse_get(client, world):
    client.force_login(world["rep_x"])
    assert client.get(reverse("join_request_approve", args=[world["join_x"].pk])).status_code == 405
    assert client.get(reverse("import_confirm", args=[world["import_x"].pk])).status_code == 405
