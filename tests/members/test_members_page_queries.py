"""The members pages make a fixed number of queries, with 20 rows behind them or 2,000."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncillorFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)
from simple_history.utils import bulk_create_with_history

from members.models import (
    Councillor,
    Decision,
    ErasureRequest,
    JoinRequest,
    LevyWaiver,
    Position,
    ProfileChange,
    User,
)
from members.services import councillor_imports
from regions.models import Council

pytestmark = pytest.mark.django_db

MAX_QUERIES = 20
ROWS = [20, 2000]


@pytest.fixture
def region():
    return RegionFactory(name="Region X", slug="region-x")


@pytest.fixture
def council(region):
    return CouncilFactory(region=region, slug="council-x", gss_code="E0600001")


def _bulk_users(count: int, prefix: str) -> list[User]:
    return User.objects.bulk_create(
        User(email=f"{prefix}-{n}@example.org", full_name=f"{prefix} {n}", password="!")
        for n in range(count)
    )


def _bulk_councillors(council, count: int, prefix: str = "colleague") -> list[Councillor]:
    return Councillor.objects.bulk_create(
        Councillor(user=user, council=council, ward=f"Ward {n}")
        for n, user in enumerate(_bulk_users(count, prefix))
    )


@pytest.mark.parametrize("rows", ROWS)
def test_join_requests_page(client, council, rows, django_assert_max_num_queries):
    rep = RepresentativeFactory(region=council.region).user
    now = timezone.now()
    JoinRequest.objects.bulk_create(
        JoinRequest(
            full_name=f"Joiner {n}",
            email=f"joiner-{n}@example.org",
            council=council,
            ward="W",
            **(
                {"status": Decision.REFUSED, "decided_by": rep, "decided_at": now, "reason": "No"}
                if n % 2
                else {}
            ),
        )
        for n in range(rows)
    )
    client.force_login(rep)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("join_requests"))
    assert response.status_code == 200
    assert len(response.context["pending"]) == rows // 2
    assert "Joiner 0" in response.text


def _pending_requests(council, rows: int) -> None:
    councillors = _bulk_councillors(council, rows, "asker")
    ProfileChange.objects.bulk_create(
        ProfileChange(councillor=c, council=council, ward="Riverside") for c in councillors
    )
    LevyWaiver.objects.bulk_create(
        LevyWaiver(councillor=c, year=2026, circumstances="Low income", declaration=True)
        for c in councillors
    )
    ErasureRequest.objects.bulk_create(ErasureRequest(user_id=c.user_id) for c in councillors)


@pytest.mark.parametrize("rows", ROWS)
def test_decisions_index(client, council, rows, django_assert_max_num_queries):
    _pending_requests(council, rows)
    client.force_login(StaffFactory())
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("decisions"))
    assert response.status_code == 200
    assert response.context["pending_changes"] == rows
    assert response.context["pending_erasures"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_decisions_erasures_page(client, council, rows, django_assert_max_num_queries):
    staff = StaffFactory()
    users = _bulk_users(rows, "eraser")
    now = timezone.now()
    ErasureRequest.objects.bulk_create(
        ErasureRequest(
            user=user,
            **(
                {"status": Decision.REFUSED, "decided_by": staff, "decided_at": now}
                if n % 2
                else {}
            ),
        )
        for n, user in enumerate(users)
    )
    client.force_login(staff)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("decisions_erasures"))
    assert response.status_code == 200
    assert len(response.context["pending"]) == rows // 2
    assert "eraser-0@example.org" in response.text or "eraser 0" in response.text


@pytest.mark.parametrize("rows", ROWS)
def test_councillor_history_page(client, council, rows, django_assert_max_num_queries):
    staff = StaffFactory()
    councillor = CouncillorFactory(council=council)
    bulk_create_with_history(
        [Position(councillor=councillor, title=f"Position {n}") for n in range(rows)],
        Position,
        default_user=staff,
    )
    client.force_login(staff)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("councillor_history", args=[councillor.pk]))
    assert response.status_code == 200
    assert f"Position {rows - 1}" in response.text


@pytest.mark.parametrize("rows", ROWS)
def test_import_detail_page(client, council, rows, django_assert_max_num_queries):
    rep = RepresentativeFactory(region=council.region).user
    lines = ["full_name,email,council,ward"]
    lines += [f"Imported {n},imported-{n}@example.org,E0600001,Ward {n}" for n in range(rows)]
    councillor_import = councillor_imports.councillor_import_preview(
        region=council.region,
        uploaded_by=rep,
        filename="councillors.csv",
        raw="\n".join(lines).encode(),
    )
    client.force_login(rep)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("import_detail", args=[councillor_import.pk]))
    assert response.status_code == 200
    assert len(response.context["rows"]) == rows
    assert f"imported-{rows - 1}@example.org" in response.text


@pytest.mark.parametrize("rows", ROWS)
def test_my_data_page(client, council, rows, django_assert_max_num_queries):
    councillor = CouncillorFactory(council=council)
    staff = StaffFactory()
    now = timezone.now()
    ErasureRequest.objects.bulk_create(
        ErasureRequest(
            user=councillor.user,
            status=Decision.REFUSED,
            decided_by=staff,
            decided_at=now,
            reason=f"Reason {n}",
        )
        for n in range(rows)
    )
    Position.objects.bulk_create(
        Position(councillor=councillor, title=f"Position {n}") for n in range(rows)
    )
    client.force_login(councillor.user)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("my_data"))
    assert response.status_code == 200
    assert len(response.context["erasure_requests"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_home_for_staff(client, council, rows, django_assert_max_num_queries):
    Council.objects.bulk_create(
        CouncilFactory.build(region=council.region, gss_code=f"T{n:08d}", slug=f"t-{n}")
        for n in range(rows)
    )
    _bulk_councillors(council, rows)
    RepresentativeFactory(region=council.region)
    client.force_login(StaffFactory())
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["councillor_total"] == rows


@pytest.mark.parametrize("rows", ROWS)
def test_home_for_a_councillor(client, council, rows, django_assert_max_num_queries):
    Council.objects.bulk_create(
        CouncilFactory.build(region=council.region, gss_code=f"T{n:08d}", slug=f"t-{n}")
        for n in range(rows)
    )
    _bulk_councillors(council, rows)
    for n in range(3):
        RepresentativeFactory(
            region=council.region, start_date=datetime.date(2024, 1, 1) + datetime.timedelta(n)
        )
    councillor = CouncillorFactory(council=council)
    client.force_login(councillor.user)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert len(response.context["councillor_representatives"]) == 3
