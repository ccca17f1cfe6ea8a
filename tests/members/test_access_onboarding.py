"""Who may open and post to every onboarding page.

Roles: anonymous, councillor A (region X), councillor B (region Y), the representatives of X
and of Y, staff, and a former councillor of region X (who has left, and so no longer sees the
region). Objects belong to region X unless named otherwise. Objects a person may
not know exist give 404, pages they can see but not change give 403, and a refused POST
changes nothing in the database.
"""

import datetime
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    GroupOfficerFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)

from members.access import councillors_listed_for
from members.models import Councillor, CouncillorImport, JoinRequest, User
from members.services import councillor_imports, invitations
from regions.models import GroupOfficer, RegionalRepresentative

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "councillor_a",
    "councillor_b",
    "rep_x",
    "rep_y",
    "staff",
    "former_councillor",
]
# The url names this module's matrix covers; tests/regions/test_access_regions.py checks that
# every url name of members and regions is covered by one of the matrix modules.
COVERED_URL_NAMES = {
    "join",
    "join_thanks",
    "join_requests",
    "join_request_approve",
    "join_request_refuse",
    "invitation_accept",
    "council_councillors",
    "councillor_add",
    "councillor_edit",
    "councillor_leave",
    "councillor_reinstate",
    "councillor_invitation_resend",
    "council_invitations_resend",
    "region_invitations_resend",
    "import_upload",
    "group_import_upload",
    "import_detail",
    "import_confirm",
    "import_progress",
    "import_rejected_rows",
    "export_councillors",
    "export_groups",
    "representatives",
    "representative_appoint",
    "representative_remove",
}
CSV = b"full_name,email,council,ward\nNew Person,imported@example.org,E0600001,North\n"
BAD_CSV = b"full_name,email,council,ward\nNo Address,,E0600001,North\n"
GROUPS_CSV = b"gss_code,contact_email\nE0600001,labour@example.org\n"


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
    # Invited by their representative and not yet signed in: no usable password.
    invitee = CouncillorFactory(council=council_x, user__email="invitee@example.org").user
    invitee.set_unusable_password()
    invitee.save()
    w["invitee"] = invitee
    w["former"] = CouncillorFactory(
        council=council_x, user__full_name="Morgan Former", left_on=datetime.date(2025, 5, 8)
    )
    w["former_councillor"] = w["former"].user
    # An office that marking the target as no longer a councillor would end.
    GroupOfficerFactory(
        group=CouncilGroupFactory(council=council_x),
        user=w["target"].user,
        start_date=datetime.date(2024, 5, 9),
    )
    w["invitation"] = urlsplit(invitations.invitation_link(invitee)).path
    w["import_x"] = councillor_imports.councillor_import_preview(
        region=region_x, uploaded_by=w["rep_x"], filename="x.csv", raw=CSV
    )
    w["import_bad_x"] = councillor_imports.councillor_import_preview(
        region=region_x, uploaded_by=w["rep_x"], filename="bad.csv", raw=BAD_CSV
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
        list(GroupOfficer.objects.values_list("pk", "user", "end_date").order_by("pk")),
        list(EmailAddress.objects.values_list("pk", "user", "email", "verified").order_by("pk")),
    )


def _as(client, world, role):
    if world[role] is not None:
        client.force_login(world[role])
    return client


# (name, url, {role: expected status}) for GET. 302 for anonymous is the login redirect.
def get_cases():
    read_region = {"councillor_a": 403, "councillor_b": 404, "rep_x": 200, "rep_y": 404}
    read_region["former_councillor"] = 404
    manage_x = {"anonymous": 302, **read_region, "staff": 200}
    managers_only = {
        "anonymous": 302,
        "councillor_a": 404,
        "councillor_b": 404,
        "rep_x": 200,
        "rep_y": 404,
        "staff": 200,
        "former_councillor": 404,
    }
    return [
        ("join", lambda w: reverse("join"), dict.fromkeys(ROLES, 200)),
        ("join_thanks", lambda w: reverse("join_thanks"), dict.fromkeys(ROLES, 200)),
        # The link itself is the credential: whoever holds it sets the invited person's password.
        ("invitation", lambda w: w["invitation"], dict.fromkeys(ROLES, 200)),
        (
            "join_requests",
            lambda w: reverse("join_requests"),
            {"anonymous": 302, "councillor_a": 403, "councillor_b": 403}
            | {"rep_x": 200, "rep_y": 200, "staff": 200, "former_councillor": 403},
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
        (
            "council_invitations",
            lambda w: reverse("council_invitations_resend", args=["council-x"]),
            manage_x,
        ),
        (
            "region_invitations",
            lambda w: reverse("region_invitations_resend", args=["region-x"]),
            manage_x,
        ),
        ("import_upload", lambda w: reverse("import_upload", args=["region-x"]), manage_x),
        (
            "group_import_upload",
            lambda w: reverse("group_import_upload", args=["region-x"]),
            manage_x,
        ),
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
            "import_rejected_rows",
            lambda w: reverse("import_rejected_rows", args=[w["import_bad_x"].pk]),
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
            | dict.fromkeys(
                ["councillor_a", "councillor_b", "rep_x", "rep_y", "former_councillor"], 403
            ),
        ),
        (
            "appoint_chosen_form",
            lambda w: reverse("representative_appoint", args=["region-x"]),
            {"anonymous": 302, "staff": 200}
            | dict.fromkeys(
                ["councillor_a", "councillor_b", "rep_x", "rep_y", "former_councillor"], 403
            ),
        ),
        (
            "remove_rep_confirm",
            lambda w: reverse("representative_remove", args=[w["rep_x_appointment"].pk]),
            {"anonymous": 302, "staff": 200}
            | dict.fromkeys(
                ["councillor_a", "councillor_b", "rep_x", "rep_y", "former_councillor"], 403
            ),
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
    read_region["former_councillor"] = 404
    manage_x = {"anonymous": 302, **read_region, "staff": 302}
    managers_only = {
        "anonymous": 302,
        "councillor_a": 404,
        "councillor_b": 404,
        "rep_x": 302,
        "rep_y": 404,
        "staff": 302,
        "former_councillor": 404,
    }
    staff_only = {"anonymous": 302, "staff": 302} | dict.fromkeys(
        ["councillor_a", "councillor_b", "rep_x", "rep_y", "former_councillor"], 403
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
            "councillor_reinstate",
            lambda w: reverse("councillor_reinstate", args=["council-x", w["former"].pk]),
            lambda w: {},
            manage_x,
        ),
        (
            "councillor_invitation_resend",
            lambda w: reverse(
                "councillor_invitation_resend", args=["council-x", w["invitee"].councillor.pk]
            ),
            lambda w: {},
            manage_x,
        ),
        (
            "council_invitations",
            lambda w: reverse("council_invitations_resend", args=["council-x"]),
            lambda w: {},
            manage_x,
        ),
        (
            "region_invitations",
            lambda w: reverse("region_invitations_resend", args=["region-x"]),
            lambda w: {},
            manage_x,
        ),
        (
            "import_upload",
            lambda w: reverse("import_upload", args=["region-x"]),
            lambda w: {"file": SimpleUploadedFile("c.csv", CSV, content_type="text/csv")},
            manage_x,
        ),
        (
            "group_import_upload",
            lambda w: reverse("group_import_upload", args=["region-x"]),
            lambda w: {"file": SimpleUploadedFile("g.csv", GROUPS_CSV, content_type="text/csv")},
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
            "appoint_chosen",
            lambda w: reverse("representative_appoint", args=["region-x"]),
            lambda w: {"person": w["councillor_a"].pk},
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
    if name in ("appoint", "appoint_chosen", "remove_rep"):
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


# The listing rule: anyone may see listed, by name and ward, the serving councillors of the
# councils they can see; a councillor opens only their own profile. Listed but not openable
# answers 403; not listed (another region, or no longer a councillor) answers 404.


def _listed_on_council_x(client, world, role):
    response = _as(client, world, role).get(reverse("council_councillors", args=["council-x"]))
    if response.status_code != 200:
        return response.status_code
    return {c.pk for c in response.context["councillors"]}


@pytest.mark.parametrize("role", ROLES)
def test_council_list_shows_the_serving_councillors_each_role_may_see_listed(client, world, role):
    world["target"].left_on = timezone.localdate()
    world["target"].save()
    serving_x = set(
        Councillor.objects.filter(council=world["council_x"], left_on__isnull=True).values_list(
            "pk", flat=True
        )
    )
    expected = {
        "anonymous": 302,
        "councillor_a": serving_x,
        "councillor_b": 404,
        "rep_x": serving_x,
        "rep_y": 404,
        "staff": serving_x,
        "former_councillor": 404,
    }[role]
    assert world["target"].pk not in serving_x
    assert _listed_on_council_x(client, world, role) == expected


@pytest.mark.parametrize("role", ROLES)
def test_former_councillors_are_listed_only_for_those_who_manage_them(client, world, role):
    response = _as(client, world, role).get(reverse("council_councillors", args=["council-x"]))
    if role in ("rep_x", "staff"):
        assert [c.pk for c in response.context["former"]] == [world["former"].pk]
        assert "Morgan Former" in response.text
    else:
        assert response.status_code != 200 or not response.context["former"]
        assert "Morgan Former" not in response.text


def test_councillors_listed_for_each_role_are_those_of_the_regions_they_see(world):
    def listed(role):
        return set(councillors_listed_for(world[role]).values_list("council__slug", flat=True))

    assert listed("councillor_a") == listed("rep_x") == {"council-x"}
    assert listed("councillor_b") == listed("rep_y") == {"council-y"}
    assert listed("staff") == {"council-x", "council-y"}
    world["target"].left_on = timezone.localdate()
    world["target"].save()
    assert world["target"] not in councillors_listed_for(world["staff"])
    assert not councillors_listed_for(AnonymousUser()).exists()


def test_councillor_sees_a_colleague_listed_but_may_not_open_them(client, world):
    client.force_login(world["councillor_a"])
    target = world["target"]
    Councillor.objects.filter(pk=target.pk).update(ward="Riverside", phone="020 7946 0123")
    User.objects.filter(pk=target.user_id).update(full_name="Rowan Listed")
    page = client.get(reverse("council_councillors", args=["council-x"])).text
    assert "Rowan Listed" in page and "Riverside" in page
    assert target.user.email not in page and "020 7946 0123" not in page
    assert client.get(reverse("councillor_history", args=[target.pk])).status_code == 403
    edit = reverse("councillor_edit", args=["council-x", target.pk])
    assert client.get(edit).status_code == 403


def test_councillor_of_another_region_is_not_found_for_a_councillor(client, world):
    client.force_login(world["councillor_a"])
    other = world["target_y"]
    assert client.get(reverse("councillor_history", args=[other.pk])).status_code == 404
    assert client.get(reverse("council_councillors", args=["council-y"])).status_code == 404
    edit = reverse("councillor_edit", args=["council-y", other.pk])
    assert client.get(edit).status_code == 404


def test_a_councillor_who_left_is_no_longer_listed_nor_known_to_colleagues(client, world):
    target = world["target"]
    target.left_on = timezone.localdate()
    target.save()
    User.objects.filter(pk=target.user_id).update(full_name="Morgan Departed")
    client.force_login(world["councillor_a"])
    page = client.get(reverse("council_councillors", args=["council-x"])).text
    assert "Morgan Departed" not in page
    assert client.get(reverse("councillor_history", args=[target.pk])).status_code == 404
    # The representative still manages them, and staff still read their history.
    client.force_login(world["rep_x"])
    assert client.get(reverse("councillor_history", args=[target.pk])).status_code == 403
    client.force_login(world["staff"])
    assert client.get(reverse("councillor_history", args=[target.pk])).status_code == 200


@pytest.mark.parametrize("count", [20, 2000])
def test_councillors_list_for_a_councillor_makes_a_fixed_number_of_queries(
    client, world, count, django_assert_max_num_queries
):
    users = User.objects.bulk_create(
        User(email=f"bulk-{n}@example.org", full_name=f"Person {n}", password="!")
        for n in range(count)
    )
    Councillor.objects.bulk_create(
        Councillor(user=user, council=world["council_x"], ward=f"Ward {n}")
        for n, user in enumerate(users)
    )
    client.force_login(world["councillor_a"])
    with django_assert_max_num_queries(20):
        response = client.get(reverse("council_councillors", args=["council-x"]))
    assert response.text.count("Ward ") >= count
    assert "bulk-0@example.org" not in response.text


def test_post_only_actions_refuse_get(client, world):
    client.force_login(world["rep_x"])
    assert client.get(reverse("join_request_approve", args=[world["join_x"].pk])).status_code == 405
    assert client.get(reverse("import_confirm", args=[world["import_x"].pk])).status_code == 405


# Joining is public: anyone may ask, and only the council they name, typed as its name or code,
# is accepted.


def _join_data(**overrides):
    data = {
        "full_name": "Nia New",
        "council": "E0600001",
        "ward": "Riverside",
        "email": "nia.new@example.org",
    }
    return data | overrides


@pytest.mark.parametrize("role", ROLES)
def test_anyone_may_ask_to_join(client, world, role):
    response = _as(client, world, role).post(reverse("join"), _join_data())
    assert response.status_code == 302
    assert response.url == reverse("join_thanks")
    request = JoinRequest.objects.get(email="nia.new@example.org")
    assert (request.council, request.ward, request.status) == (
        world["council_x"],
        "Riverside",
        "pending",
    )


@pytest.mark.parametrize("council", ["{pk}", "999999", "<script>alert(1)</script>", ""])
def test_join_refuses_a_council_that_is_not_a_councils_name_or_code(client, world, council):
    before = snapshot()
    value = council.format(pk=world["council_x"].pk)
    response = client.post(reverse("join"), _join_data(council=value))
    assert response.status_code == 200
    assert 'id="id_council_error"' in response.text
    assert "<script>alert(1)" not in response.text
    assert snapshot() == before


# Invitations: a valid link sets the password of the person it was made for, and of nobody else.


def _passwords():
    return dict(User.objects.values_list("pk", "password"))


@pytest.mark.parametrize("role", ROLES)
def test_a_valid_invitation_sets_only_the_invited_persons_password(client, world, role):
    invitee = world["invitee"]
    before = _passwords()
    data = {"new_password1": "a-long-new-pass-83", "new_password2": "a-long-new-pass-83"}
    response = _as(client, world, role).post(world["invitation"], data)
    assert response.status_code == 302
    assert response.url == reverse("home")
    after = _passwords()
    invitee.refresh_from_db()
    assert invitee.check_password("a-long-new-pass-83")
    assert {k: v for k, v in after.items() if k != invitee.pk} == {
        k: v for k, v in before.items() if k != invitee.pk
    }
    # The browser is now signed in as the invited person, whoever it was before.
    assert int(client.session["_auth_user_id"]) == invitee.pk


def test_an_invitation_works_once(client, world):
    data = {"new_password1": "a-long-new-pass-83", "new_password2": "a-long-new-pass-83"}
    client.post(world["invitation"], data)
    client.logout()
    assert client.get(world["invitation"]).status_code == 400
    before = _passwords()
    assert client.post(world["invitation"], data | {"new_password1": "x"}).status_code == 400
    assert _passwords() == before


def test_an_invitation_token_does_not_work_for_another_person(client, world):
    """The token is bound to the invited person: put with another person's id it is refused."""
    other = world["target"]
    token = world["invitation"].rstrip("/").rsplit("/", 1)[1]
    url = reverse(
        "invitation_accept", args=[urlsafe_base64_encode(force_bytes(other.user_id)), token]
    )
    before = _passwords()
    assert client.get(url).status_code == 400
    data = {"new_password1": "a-long-new-pass-83", "new_password2": "a-long-new-pass-83"}
    assert client.post(url, data).status_code == 400
    assert _passwords() == before
    assert "_auth_user_id" not in client.session


def test_the_matrix_covers_exactly_its_url_names(world):
    urls = [url(world) for _name, url, _expected in get_cases()]
    urls += [url(world) for _name, url, _data, _expected in post_cases()]
    urls += [reverse("join")]
    assert {resolve(url).view_name for url in urls} == COVERED_URL_NAMES
