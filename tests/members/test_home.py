import datetime

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.urls import reverse
from factories import (
    TOTP_SECRET,
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    GroupOfficerFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
)

from members.models import Councillor, StaffRole, User
from regions.models import Council, Region, RegionalRepresentative

pytestmark = pytest.mark.django_db


@pytest.fixture
def camden(gb_councils):
    return Council.objects.get(gss_code="E09000007")


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse("account_login")


def test_councillor_sees_their_council_region_and_representative(client, camden):
    rep = RepresentativeFactory(region=camden.region, user__full_name="Priya Example")
    alice = CouncillorFactory(council=camden, ward="Kentish Town South")
    client.force_login(alice.user)

    page = client.get(reverse("home")).text
    assert "London Borough of Camden" in page
    assert "Kentish Town South" in page
    assert ">London</a>" in page
    assert "Priya Example" in page
    assert rep.user.email in page


def test_representative_sees_the_work_of_their_own_region_only(client, gb_councils):
    wales = Region.objects.get(name="Wales")
    rep = RepresentativeFactory(region=wales)
    client.force_login(rep.user)

    response = client.get(reverse("home"))
    [(region, tasks)] = response.context["represented_regions"]
    assert region == wales
    queue_urls = [task.url for task in tasks if "?" in task.url]
    assert queue_urls and all(url.startswith(wales.get_absolute_url()) for url in queue_urls)
    assert "London" not in response.text


def test_staff_see_every_region_with_counts(client, gb_councils):
    staff = StaffFactory()
    client.force_login(staff)

    response = client.get(reverse("home"))
    rows = {r.name: r for r in response.context["all_regions"]}
    assert len(rows) == 11
    assert rows["Wales"].council_count == 22
    assert rows["Wales"].group_count == 20
    assert rows["London"].council_count == 33


def test_staff_counts_leave_out_the_past(client, camden):
    """Abolished councils, councillors who have left and past appointments are not counted."""
    client.force_login(StaffFactory())
    london = camden.region
    CouncilFactory(region=london, end_date=datetime.date(2020, 3, 31))
    CouncillorFactory(council=camden)
    CouncillorFactory(council=camden, left_on=datetime.date(2024, 5, 2))
    RepresentativeFactory(region=london)
    RepresentativeFactory(
        region=london, start_date=datetime.date(2020, 1, 1), end_date=datetime.date(2022, 1, 1)
    )
    response = client.get(reverse("home"))
    row = next(r for r in response.context["all_regions"] if r.pk == london.pk)
    assert row.council_count == london.councils.current().count()
    assert row.councillor_count == 1  # the one who has not left
    assert len(row.current_representatives) == 1
    assert response.context["councillor_total"] == row.councillor_count


def test_one_person_may_hold_several_roles(client, camden):
    person = CouncillorFactory(council=camden).user
    RegionalRepresentative.objects.create(user=person, region=camden.region)
    StaffRole.objects.create(user=person)
    from members.services.accounts import two_factor_enrol

    two_factor_enrol(user=person, totp_secret=TOTP_SECRET)
    client.force_login(person)

    response = client.get(reverse("home"))
    assert response.context["councillor"] is not None
    assert response.context["represented_regions"]
    assert response.context["all_regions"] is not None


def test_councillor_home_names_only_the_representatives_serving_today(client, camden):
    RepresentativeFactory(region=camden.region, user__full_name="Priya Current")
    RepresentativeFactory(
        region=camden.region,
        user__full_name="Olu Former",
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2022, 1, 1),
    )
    client.force_login(CouncillorFactory(council=camden).user)
    page = client.get(reverse("home")).text
    assert "Priya Current" in page
    assert "Olu Former" not in page


def test_staff_who_represent_a_region_see_only_that_region_as_their_own(client, gb_councils):
    wales = Region.objects.get(name="Wales")
    staff = StaffFactory()
    RegionalRepresentative.objects.create(user=staff, region=wales)
    client.force_login(staff)
    response = client.get(reverse("home"))
    assert [region for region, _councils in response.context["represented_regions"]] == [wales]
    assert len(response.context["all_regions"]) == 11


def test_my_region_makes_a_fixed_number_of_queries(client, camden, django_assert_max_num_queries):
    group = CouncilGroupFactory(council=CouncilFactory(region=camden.region))
    councillor = CouncillorFactory(council=group.council)
    start = datetime.date(2025, 5, 10)
    GroupOfficerFactory(group=group, role="leader", start_date=start)
    RepresentativeFactory(region=camden.region)
    client.force_login(councillor.user)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("my_region"))
    for role in ["deputy_leader", "chief_whip", "secretary"]:
        GroupOfficerFactory(group=group, role=role, start_date=start)
    RepresentativeFactory.create_batch(3, region=camden.region)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("my_region"))
    assert len(response.context["representatives"]) == 4
    assert len(response.context["officers"]) == 4


def test_a_user_with_no_role_is_told_so(client):
    client.force_login(UserFactory())
    assert "no role on the portal yet" in client.get(reverse("home")).text


@pytest.mark.parametrize("extra_councils", [0, 300])
def test_representative_home_makes_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, extra_councils
):
    rep = RepresentativeFactory()
    from factories import CouncilFactory

    Council.objects.bulk_create(
        CouncilFactory.build(region=rep.region, gss_code=f"T{i:08d}", slug=f"t-{i}")
        for i in range(20 + extra_councils)
    )
    client.force_login(rep.user)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("home")).status_code == 200


def test_demo_data_can_be_loaded_twice_without_changing_anything(gb_councils):
    def snapshot():
        return {
            "users": sorted(User.objects.values_list("email", "full_name", "password")),
            "councillors": sorted(Councillor.objects.values_list("user__email", "council", "ward")),
            "staff": StaffRole.objects.count(),
            "representatives": sorted(
                RegionalRepresentative.objects.values_list("user__email", "region__name")
            ),
            "authenticators": sorted(Authenticator.objects.values_list("user__email", "type")),
            "history": Councillor.history.count() + User.history.count(),
        }

    call_command("demo_data", verbosity=0)
    before = snapshot()
    call_command("demo_data", verbosity=0)
    assert snapshot() == before
    assert len(before["users"]) == 8 and len(before["councillors"]) == 5
    assert before["representatives"] == [
        ("rep.london@demo.alc.example.org", "London"),
        ("rep.wales@demo.alc.example.org", "Wales"),
    ]
    # Each address is the person's own name.
    for email, name, _ in before["users"]:
        if email.startswith("cllr."):
            assert email.split("@")[0].removeprefix("cllr.") in name.lower().replace(" ", "")
    # Staff and representatives can use their pages: they are enrolled in two-factor.
    from allauth.mfa.utils import is_mfa_enabled

    for email in ["staff@demo.alc.example.org", "rep.london@demo.alc.example.org",
                  "rep.wales@demo.alc.example.org"]:  # fmt: skip
        assert is_mfa_enabled(User.objects.get(email=email))
