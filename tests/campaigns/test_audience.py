import datetime
import importlib

import pytest
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    ElectionFactory,
    GroupOfficerFactory,
    MailingFactory,
    RegionFactory,
    ServingOfficerFactory,
    SuppressionFactory,
    UserFactory,
)

from campaigns.audience import (
    audience_resolve,
    audience_resolve_rule,
    missing_values,
)
from regions.control import CONTROL_CHOICES, control_choice, control_filter
from regions.models import Council, CouncilGroup, Election

pytestmark = pytest.mark.django_db

POLLING_DAY = datetime.date(2027, 5, 6)


def emails(audience):
    return [r.email for r in audience.recipients]


def test_contact_address_of_each_group_is_a_recipient():
    group = CouncilGroupFactory(contact_email="Group@Labour.Example.org")
    audience = audience_resolve_rule(recipients=["contact"])
    assert emails(audience) == ["group@labour.example.org"]
    context = audience.recipients[0].context
    assert context["group"] == {"name": group.name}
    assert context["council"] == {"name": group.council.name}
    assert context["region"] == {"name": group.council.region.name}


def test_leader_and_secretary_get_their_own_address_and_name():
    group = CouncilGroupFactory()
    leader = ServingOfficerFactory(
        group=group, role="leader", user=UserFactory(full_name="Ada Lovelace")
    )
    secretary = ServingOfficerFactory(group=group, role="secretary")
    audience = audience_resolve_rule(recipients=["leader", "secretary"])
    assert sorted(emails(audience)) == sorted([leader.user.email, secretary.user.email])
    by_email = {r.email: r.context for r in audience.recipients}
    assert by_email[leader.user.email]["recipient"] == {
        "first_name": "Ada",
        "full_name": "Ada Lovelace",
    }
    assert group.contact_email not in emails(audience)


def test_former_officers_are_not_recipients():
    group = CouncilGroupFactory()
    GroupOfficerFactory(
        group=group,
        role="leader",
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2021, 1, 1),
    )
    audience = audience_resolve_rule(recipients=["leader"], fall_back_to_contact=False)
    assert emails(audience) == []
    assert audience.groups_without_address == [(group.pk, group.name, group.council.name)]


@pytest.mark.parametrize(
    "recipients, serving, expected",
    [
        (["leader"], [], ["contact"]),
        (["secretary"], [], ["contact"]),
        (["leader", "secretary"], ["leader"], ["leader", "contact"]),
        (["leader", "secretary"], ["secretary"], ["secretary", "contact"]),
    ],
)
def test_vacant_office_falls_back_to_the_contact_address(recipients, serving, expected):
    group = CouncilGroupFactory()
    officers = {role: ServingOfficerFactory(group=group, role=role).user for role in serving}
    audience = audience_resolve_rule(recipients=recipients)
    # The office holders' own addresses first, then the group's, once, greeting a colleague.
    addresses = {"contact": group.contact_email} | {r: u.email for r, u in officers.items()}
    assert emails(audience) == [addresses[kind] for kind in expected]
    assert audience.recipients[-1].context["recipient"] == {
        "first_name": "colleague",
        "full_name": group.name,
    }


def test_no_fallback_when_every_chosen_office_is_filled():
    group = CouncilGroupFactory()
    leader = ServingOfficerFactory(group=group, role="leader")
    secretary = ServingOfficerFactory(group=group, role="secretary")
    audience = audience_resolve_rule(recipients=["leader", "secretary"])
    assert sorted(emails(audience)) == sorted([leader.user.email, secretary.user.email])


def test_vacant_office_without_fallback_gives_no_address():
    CouncilGroupFactory()
    audience = audience_resolve_rule(recipients=["leader"], fall_back_to_contact=False)
    assert audience.count == 0
    assert len(audience.groups_without_address) == 1


def test_all_serving_active_councillors_who_want_mailings():
    group = CouncilGroupFactory()
    serving = CouncillorFactory(council=group.council)
    CouncillorFactory(council=group.council, left_on=datetime.date(2024, 5, 2))
    CouncillorFactory(council=group.council, user=UserFactory(is_active=False))
    CouncillorFactory(council=group.council, wants_campaign_mailings=False)
    CouncillorFactory()  # another council
    audience = audience_resolve_rule(recipients=["all_councillors"])
    assert emails(audience) == [serving.user.email]


def test_an_address_is_written_to_once_across_groups_and_kinds():
    person = UserFactory(email="shared@example.org")
    first = CouncilGroupFactory(council=CouncilFactory(short_name="Aberdeen"))
    second = CouncilGroupFactory(
        council=CouncilFactory(short_name="Bristol"), contact_email="SHARED@example.org"
    )
    ServingOfficerFactory(group=first, role="leader", user=person)
    ServingOfficerFactory(group=first, role="secretary", user=person)
    audience = audience_resolve_rule(recipients=["leader", "secretary", "contact"])
    assert emails(audience).count("shared@example.org") == 1
    assert sorted(emails(audience)) == sorted(["shared@example.org", first.contact_email])
    shared = next(r for r in audience.recipients if r.email == "shared@example.org")
    assert shared.context["group"]["name"] == first.name
    assert second.pk not in [g[0] for g in audience.groups_without_address]


def test_suppressed_addresses_are_reported_not_written_to_whatever_their_case():
    kept = CouncilGroupFactory()
    gone = CouncilGroupFactory(contact_email="gone@example.org")
    SuppressionFactory(email="Gone@Example.ORG")
    audience = audience_resolve_rule(recipients=["contact"])
    assert emails(audience) == [kept.contact_email]
    assert audience.suppressed == ["gone@example.org"]
    assert audience.groups_without_address == [(gone.pk, gone.name, gone.council.name)]


def test_groups_without_any_address_are_listed():
    group = CouncilGroupFactory(contact_email="")
    audience = audience_resolve_rule(recipients=["contact"])
    assert audience.count == 0
    assert audience.groups_without_address == [(group.pk, group.name, group.council.name)]


def test_rule_filters_by_region_kind_and_control():
    north = RegionFactory(name="North")
    south = RegionFactory(name="South")
    wanted = CouncilGroupFactory(
        council=CouncilFactory(
            region=north, kind=Council.Kind.METROPOLITAN_DISTRICT, control="LD/LAB"
        )
    )
    CouncilGroupFactory(
        council=CouncilFactory(region=south, kind=Council.Kind.METROPOLITAN_DISTRICT, control="LAB")
    )
    CouncilGroupFactory(
        council=CouncilFactory(region=north, kind=Council.Kind.UNITARY, control="LAB")
    )
    CouncilGroupFactory(
        council=CouncilFactory(region=north, kind=Council.Kind.METROPOLITAN_DISTRICT, control="CON")
    )
    audience = audience_resolve_rule(
        region_ids=[north.pk],
        council_kinds=[Council.Kind.METROPOLITAN_DISTRICT],
        controls=["lab_shared"],
        recipients=["contact"],
    )
    assert emails(audience) == [wanted.contact_email]


def test_abolished_councils_are_left_out():
    CouncilGroupFactory(council=CouncilFactory(end_date=datetime.date(2020, 4, 1)))
    assert audience_resolve_rule(recipients=["contact"]).count == 0


def test_election_values_come_from_the_chosen_election_date():
    group = CouncilGroupFactory()
    ElectionFactory(council=group.council, date=POLLING_DAY, seats_up=40, labour_seats_up=22)
    ElectionFactory(council=group.council, date=datetime.date(2028, 5, 4))
    CouncilGroupFactory()  # no election that day
    audience = audience_resolve_rule(election_date=POLLING_DAY, recipients=["contact"])
    assert emails(audience) == [group.contact_email]
    assert audience.recipients[0].context["election"] == {
        "date": "2027-05-06",
        "seats_up": 40,
        "labour_seats_up": 22,
    }


def test_election_values_are_the_next_election_or_empty_without_a_date():
    with_poll = CouncilGroupFactory(council=CouncilFactory(short_name="A"))
    ElectionFactory(council=with_poll.council, date=datetime.date(2029, 5, 3), seats_up=19)
    ElectionFactory(council=with_poll.council, date=POLLING_DAY, seats_up=17)
    CouncilGroupFactory(council=CouncilFactory(short_name="B"))
    first, second = audience_resolve_rule(recipients=["contact"]).recipients
    assert first.context["election"]["date"] == "2027-05-06"
    assert first.context["election"]["seats_up"] == 17
    assert second.context["election"] == {"date": "", "seats_up": "", "labour_seats_up": ""}


def test_saved_mailing_rule_is_resolved(gb_councils):
    wales = RegionFactory(name="Wales")
    mailing = MailingFactory(
        regions=[wales],
        election_date=POLLING_DAY,
        recipients=["contact"],
        fall_back_to_contact=True,
    )
    CouncilGroup.objects.filter(council__region=wales).update(contact_email="")
    audience = audience_resolve(mailing)
    expected = CouncilGroup.objects.filter(
        council__region=wales,
        council__in=Election.objects.filter(date=POLLING_DAY).values("council_id"),
    )
    assert expected.count() > 10
    assert audience.count == 0
    assert {g[2] for g in audience.groups_without_address} == {g.council.name for g in expected}


def test_welsh_and_scottish_groups_with_elections_on_6_may_2027(gb_councils):
    regions = list(RegionFactory._meta.model.objects.filter(name__in=["Wales", "Scotland"]))
    audience = audience_resolve_rule(
        region_ids=[r.pk for r in regions],
        election_date=POLLING_DAY,
        recipients=["contact"],
    )
    names = {g[2] for g in audience.groups_without_address}
    assert "Cardiff Council" in names or any("Cardiff" in n for n in names)
    assert any("Glasgow" in n for n in names)
    assert not any("Manchester" in n for n in names)
    assert (
        len(names)
        == CouncilGroup.objects.filter(
            council__region__in=regions, council__elections__date=POLLING_DAY
        ).count()
    )


def make_groups(count):
    region = RegionFactory(name="Scale")
    councils = CouncilFactory._meta.model.objects.bulk_create(
        CouncilFactory.build(region=region, gss_code=f"S{n:08d}", slug=f"scale-{n}")
        for n in range(count)
    )
    groups = CouncilGroup.objects.bulk_create(
        CouncilGroup(council=c, name=f"Group {n}", contact_email=f"g{n}@example.org")
        for n, c in enumerate(councils)
    )
    Election.objects.bulk_create(
        Election(council=c, date=POLLING_DAY, seats_up=10, labour_seats_up=5) for c in councils
    )
    return groups


@pytest.mark.parametrize("count", [20, 2000])
def test_resolving_makes_a_fixed_number_of_queries(count, django_assert_max_num_queries):
    groups = make_groups(count)
    for group in groups[:5]:
        ServingOfficerFactory(group=group, role="leader")
        CouncillorFactory(council=group.council)
    mailing = MailingFactory(
        election_date=POLLING_DAY, recipients=["contact", "leader", "secretary", "all_councillors"]
    )
    with django_assert_max_num_queries(7):
        audience = audience_resolve(mailing)
    assert audience.count == count + 10


# --- control ------------------------------------------------------------------------------------


def test_every_council_matches_exactly_one_control_choice(gb_councils):
    councils = dict(Council.objects.values_list("pk", "control"))
    assert len(councils) > 300
    matched = {pk: [] for pk in councils}
    for code, _ in CONTROL_CHOICES:
        query = control_filter([code], field="control")
        for pk in Council.objects.filter(query).values_list("pk", flat=True):
            matched[pk].append(code)
    assert {pk: codes for pk, codes in matched.items() if len(codes) != 1} == {}
    # The database and Python agree on every label.
    assert all(matched[pk] == [control_choice(label)] for pk, label in councils.items())


@pytest.mark.parametrize(
    "short_name, choice",
    [
        ("Warrington", "lab_majority"),
        ("Halton", "lab_majority"),
        ("Stockton-on-Tees", "lab_minority"),
        ("Derby", "lab_minority"),
        ("Newham", "lab_mayor"),
        ("Tower Hamlets", "other"),
        ("Oldham", "other"),
        ("Hartlepool", "noc"),
    ],
)
def test_real_councils_fall_under_the_right_control_choice(gb_councils, short_name, choice):
    council = Council.objects.get(short_name=short_name)
    chosen = Council.objects.filter(control_filter([choice], field="control"))
    assert chosen.filter(pk=council.pk).exists(), council.control
    others = [code for code, _ in CONTROL_CHOICES if code != choice]
    assert not Council.objects.filter(control_filter(others, field="control"), pk=council.pk)


def test_labour_majority_and_minority_pick_different_groups():
    majority = CouncilGroupFactory(council=CouncilFactory(control="LAB"))
    minority = CouncilGroupFactory(council=CouncilFactory(control="LAB min"))
    shared = CouncilGroupFactory(council=CouncilFactory(control="LD/LAB/GRN"))
    CouncilGroupFactory(council=CouncilFactory(control="CON min"))

    def chosen(*controls):
        return sorted(emails(audience_resolve_rule(controls=controls, recipients=["contact"])))

    assert chosen("lab_majority") == [majority.contact_email]
    assert chosen("lab_minority") == [minority.contact_email]
    assert chosen("lab_majority", "lab_shared") == sorted(
        [majority.contact_email, shared.contact_email]
    )


def test_a_rule_saved_with_an_earlier_party_code_still_matches_as_before():
    run_by = CouncilGroupFactory(council=CouncilFactory(control="CON min"))
    jointly = CouncilGroupFactory(council=CouncilFactory(control="LD/CON"))
    CouncilGroupFactory(council=CouncilFactory(control="LAB"))
    audience = audience_resolve(MailingFactory(controls=["CON"], recipients=["contact"]))
    assert sorted(emails(audience)) == sorted([run_by.contact_email, jointly.contact_email])


def test_saved_labour_rules_become_the_four_labour_choices():
    from django.apps import apps

    migration = importlib.import_module("campaigns.migrations.0005_mailing_control_choices")
    labour = MailingFactory(controls=["LAB", "CON"])
    other = MailingFactory(controls=["LD"])
    migration.labour_to_its_four_choices(apps, None)
    labour.refresh_from_db()
    other.refresh_from_db()
    assert labour.controls == ["lab_majority", "lab_minority", "lab_shared", "lab_mayor", "CON"]
    assert other.controls == ["LD"]


# --- officers must be serving councillors who want campaign mailings ---------------------------


@pytest.mark.parametrize(
    "officer",
    [
        {"councillor__wants_campaign_mailings": False},
        {"councillor__left_on": datetime.date(2025, 5, 1)},
        {"user__is_active": False},
    ],
    ids=["opted out", "former councillor", "inactive account"],
)
def test_an_officer_who_may_not_be_written_to_leaves_the_office_vacant(officer):
    group = CouncilGroupFactory()
    holder = ServingOfficerFactory(group=group, role="leader", **officer).user
    audience = audience_resolve_rule(recipients=["leader"])
    assert emails(audience) == [group.contact_email]
    assert holder.email not in emails(audience)
    assert audience_resolve_rule(recipients=["leader"], fall_back_to_contact=False).count == 0


def test_an_officer_who_is_not_a_councillor_leaves_the_office_vacant():
    group = CouncilGroupFactory()
    GroupOfficerFactory(group=group, role="secretary")
    audience = audience_resolve_rule(recipients=["secretary"])
    assert emails(audience) == [group.contact_email]


def test_an_opted_out_officer_is_not_written_to_as_a_councillor_either():
    group = CouncilGroupFactory(contact_email="")
    ServingOfficerFactory(group=group, role="leader", councillor__wants_campaign_mailings=False)
    audience = audience_resolve_rule(recipients=["leader", "all_councillors"])
    assert audience.count == 0
    assert audience.groups_without_address == [(group.pk, group.name, group.council.name)]


# --- merge values -----------------------------------------------------------------------------


def test_a_person_without_a_name_is_greeted_as_colleague():
    group = CouncilGroupFactory()
    ServingOfficerFactory(group=group, role="leader", user=UserFactory(full_name=""))
    (person,) = audience_resolve_rule(recipients=["leader"]).recipients
    assert person.context["recipient"] == {"first_name": "colleague", "full_name": "colleague"}


def test_a_preferred_name_without_a_full_name_is_used_for_both():
    group = CouncilGroupFactory()
    user = UserFactory(full_name="", preferred_name="Bron")
    ServingOfficerFactory(group=group, role="leader", user=user)
    (person,) = audience_resolve_rule(recipients=["leader"]).recipients
    assert person.context["recipient"] == {"first_name": "Bron", "full_name": "Bron"}


def test_missing_values_counts_recipients_with_no_value_for_each_field():
    voting = CouncilGroupFactory(council=CouncilFactory(short_name="A"))
    ElectionFactory(council=voting.council, date=POLLING_DAY)
    CouncilGroupFactory(council=CouncilFactory(short_name="B"))
    CouncilGroupFactory(council=CouncilFactory(short_name="C"))
    audience = audience_resolve_rule(recipients=["contact"])
    assert missing_values(
        audience.recipients, ["election.date", "election.seats_up", "group.name"]
    ) == {"election.date": 2, "election.seats_up": 2}
