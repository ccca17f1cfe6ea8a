"""Two regions, A and B, each with a council, its Labour group and councillors, and the people
who search them: a councillor and a representative of each, staff, a councillor who has left
and a representative whose appointment has ended."""

import datetime
import types

import pytest
from factories import (
    CampaignFactory,
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    MailingFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
)

LONG_AGO = datetime.date(2024, 5, 2)


@pytest.fixture
def world(db):
    w = types.SimpleNamespace()
    w.region_a = RegionFactory(name="Region A", slug="region-a")
    w.region_b = RegionFactory(name="Region B", slug="region-b")
    w.council_a = CouncilFactory(
        region=w.region_a, name="Ashbourne Borough Council", short_name="Ashbourne",
        gss_code="E07000911", slug="ashbourne",
    )  # fmt: skip
    w.council_b = CouncilFactory(
        region=w.region_b, name="Bramcote District Council", short_name="Bramcote",
        gss_code="E07000922", slug="bramcote",
    )  # fmt: skip
    w.group_a = CouncilGroupFactory(council=w.council_a, name="Ashbourne Labour Group")
    w.group_b = CouncilGroupFactory(council=w.council_b, name="Bramcote Labour Group")

    def councillor(name, council, **extra):
        slug = name.lower().replace(" ", ".")
        return CouncillorFactory(
            council=council,
            user__full_name=name,
            user__email=f"{slug}@example.org",
            ward=extra.pop("ward", "Market"),
            **extra,
        )

    # The people searched for.
    w.zebedee = councillor(
        "Zebedee Quillfeather", w.council_a, ward="Marshgate", phone="01632 960111"
    )
    w.yolanda = councillor(
        "Yolanda Brackenridge", w.council_b, ward="Tollbar", phone="01632 960222"
    )
    w.xanthe = councillor("Xanthe Dovecote", w.council_a, left_on=LONG_AGO)
    w.office_only = UserFactory(full_name="Ulrika Vantablack", email="ulrika@example.org")
    # The people searching.
    w.cllr_a = councillor("Ann Searcher", w.council_a).user
    w.cllr_b = councillor("Bob Searcher", w.council_b).user
    w.rep_a = RepresentativeFactory(region=w.region_a, user__full_name="Rita Rep").user
    w.rep_b = RepresentativeFactory(region=w.region_b, user__full_name="Ravi Rep").user
    w.staff = StaffFactory(full_name="Sam Staff")
    w.former_cllr_a = councillor("Fred Former", w.council_a, left_on=LONG_AGO).user
    w.ended_rep_a = RepresentativeFactory(
        region=w.region_a, user__full_name="Edna Ended", start_date=LONG_AGO,
        end_date=datetime.date(2025, 5, 1),
    ).user  # fmt: skip
    w.campaign = CampaignFactory(title="Clean Rivers Pledge")
    w.mailing = MailingFactory(subject="Quarterly zephyr bulletin", created_by=w.staff)
    return w
