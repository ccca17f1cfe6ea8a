"""The region dashboard: every current council, filtered, sorted, totalled and charted."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    ElectionFactory,
    GroupOfficerFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)

from regions.control import control_described
from regions.models import Council, CouncilGroup, Election

pytestmark = pytest.mark.django_db

NEXT_MAY = timezone.localdate() + datetime.timedelta(days=200)
LATER = timezone.localdate() + datetime.timedelta(days=900)


@pytest.fixture
def region():
    region = RegionFactory(name="Northshire", slug="northshire")
    alpha = CouncilFactory(
        region=region, short_name="Alpha", kind=Council.Kind.UNITARY, control="LAB",
        total_seats=60, labour_seats=40,
    )  # fmt: skip
    beta = CouncilFactory(
        region=region, short_name="Beta", kind=Council.Kind.COUNTY, control="CON",
        total_seats=80, labour_seats=10,
    )  # fmt: skip
    gamma = CouncilFactory(
        region=region, short_name="Gamma", kind=Council.Kind.UNITARY, control="LAB min",
        total_seats=50, labour_seats=0,
    )  # fmt: skip
    # Abolished: not shown, not counted.
    CouncilFactory(
        region=region, short_name="Delta", end_date=datetime.date(2020, 4, 1), labour_seats=30
    )
    ElectionFactory(council=alpha, date=NEXT_MAY, seats_up=20, labour_seats_up=15)
    ElectionFactory(council=alpha, date=LATER, seats_up=20, labour_seats_up=14)
    ElectionFactory(council=beta, date=LATER, seats_up=80, labour_seats_up=10)
    # A past poll is not the next one.
    ElectionFactory(council=gamma, date=datetime.date(2021, 5, 6), seats_up=50, labour_seats_up=0)
    CouncilGroupFactory(council=alpha, name="Alpha Labour Group")
    CouncilGroupFactory(council=beta, name="Beta Labour Group")
    return region


@pytest.fixture
def rep_client(client, region):
    client.force_login(RepresentativeFactory(region=region).user)
    return client


def _council_names(response):
    """Council names in table order (the row headers of the councils table)."""
    table = response.text.split('<table class="councils">')[1].split("</table>")[0]
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', table)


def _url(region, **params):
    return reverse("regions:region", args=[region.slug]), params


def test_dashboard_lists_current_councils_with_next_election(rep_client, region):
    response = rep_client.get(*_url(region))
    assert _council_names(response) == ["Alpha", "Beta", "Gamma"]
    assert f'datetime="{NEXT_MAY:%Y-%m-%d}"' in response.text
    assert "Alpha Labour Group" in response.text
    assert "None scheduled" in response.text  # Gamma's only poll is in the past


def test_totals_cover_current_councils(rep_client, region):
    totals = rep_client.get(*_url(region)).context["totals"]
    assert totals == {
        "councils": 3,
        "groups": 2,
        "seats": 190,
        "labour_seats": 50,
        "labour_seats_up": 25,  # Alpha 15 at its next poll, Beta 10
    }


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"kind": "UA"}, ["Alpha", "Gamma"]),
        ({"control": "lab_majority"}, ["Alpha"]),
        ({"control": "lab_minority"}, ["Gamma"]),
        ({"control": "con"}, ["Beta"]),
        # Links from before the control list: a party code or name, in any case, still means
        # any council that party runs or shares.
        ({"control": "lab"}, ["Alpha", "Gamma"]),
        ({"control": "LAB"}, ["Alpha", "Gamma"]),
        ({"control": "Labour"}, ["Alpha", "Gamma"]),
        ({"control": "CON"}, ["Beta"]),
        ({"election_on": f"{LATER:%Y-%m-%d}"}, ["Alpha", "Beta"]),
        ({"election_on": f"{NEXT_MAY:%Y-%m-%d}"}, ["Alpha"]),
        ({"has_group": "yes"}, ["Alpha", "Beta"]),
        ({"has_group": "no"}, ["Gamma"]),
        ({"kind": "UA", "has_group": "yes"}, ["Alpha"]),
    ],
)
def test_filters(rep_client, region, params, names):
    assert _council_names(rep_client.get(*_url(region, **params))) == names


@pytest.mark.parametrize("written", ["{:%-d %B %Y}", "{:%-d %b %Y}", "{:%d/%m/%Y}"])
def test_election_date_can_be_written_the_british_way(rep_client, region, written):
    response = rep_client.get(*_url(region, election_on=written.format(NEXT_MAY)))
    assert _council_names(response) == ["Alpha"]
    # The box shows the date that was read, written out.
    assert f'value="{NEXT_MAY.day} {NEXT_MAY:%B %Y}"' in response.text


def test_election_date_hint_gives_a_british_example(rep_client, region):
    response = rep_client.get(*_url(region))
    assert "For example, 7 December 2026 or 07/12/2026." in response.text
    assert "such as 2027-05-06" not in response.text


def _control_options(response):
    select = re.search(r'<select name="control"[^>]*>(.*?)</select>', response.text, re.S)
    assert select, "the control filter is a list to choose from"
    return re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1))


def test_control_list_offers_the_kinds_of_control_in_the_region_in_plain_english(
    rep_client, region
):
    # Another region's Green council is not offered here.
    CouncilFactory(short_name="Elsewhere", control="GRN")
    options = _control_options(rep_client.get(*_url(region)))
    assert [(value, label) for value, _selected, label in options] == [
        ("", "Any control"),
        ("lab_majority", "Labour majority"),
        ("lab_minority", "Labour minority"),
        ("con", "Conservative majority"),
    ]


def test_control_chosen_from_the_list_stays_chosen(rep_client, region):
    options = _control_options(rep_client.get(*_url(region, control="lab_minority")))
    assert ("lab_minority", " selected", "Labour minority") in options


def test_old_party_code_link_shows_what_it_filters_on(rep_client, region):
    response = rep_client.get(*_url(region, control="GRN"))
    assert _council_names(response) == []
    assert ("GRN", " selected", "Run by or with Green (earlier choice)") in _control_options(
        response
    )
    assert 'id="id_control_error"' not in response.text


def test_kind_of_control_not_in_the_region_can_still_be_chosen_by_link(rep_client, region):
    response = rep_client.get(*_url(region, control="grn"))
    assert _council_names(response) == []
    assert ("grn", " selected", "Green majority") in _control_options(response)


def test_unknown_control_is_reported_and_the_other_filters_apply(rep_client, region):
    response = rep_client.get(*_url(region, control="Labour-ish", kind="UA"))
    assert _council_names(response) == ["Alpha", "Gamma"]
    assert 'id="id_control_error"' in response.text
    assert "Choose a kind of control from the list." in response.text


def test_chart_sits_in_a_labelled_region_reachable_by_keyboard(rep_client, region):
    response = rep_client.get(*_url(region))
    assert re.search(
        r'<div class="chart-scroll" role="region" aria-labelledby="chart-heading" tabindex="0">'
        r"\s*<svg",
        response.text,
    )


def test_filter_by_missing_group_details(rep_client, region):
    alpha = CouncilGroup.objects.get(council__short_name="Alpha")
    CouncilGroup.objects.filter(council__short_name="Beta").update(contact_email="")
    leader = CouncillorFactory(council=alpha.council).user
    GroupOfficerFactory(
        group=alpha, role="leader", user=leader, start_date=datetime.date(2024, 5, 9)
    )
    # A leader who has stood down leaves the office vacant.
    beta = CouncilGroup.objects.get(council__short_name="Beta")
    GroupOfficerFactory(
        group=beta, role="leader", start_date=datetime.date(2022, 5, 5),
        end_date=datetime.date(2024, 5, 9),
    )  # fmt: skip

    assert _council_names(rep_client.get(*_url(region, missing="address"))) == ["Beta"]
    assert _council_names(rep_client.get(*_url(region, missing="leader"))) == ["Beta"]
    assert _council_names(rep_client.get(*_url(region, missing="secretary"))) == ["Alpha", "Beta"]


def test_unknown_missing_choice_is_reported_and_ignored(rep_client, region):
    response = rep_client.get(*_url(region, missing="treasurer"))
    assert _council_names(response) == ["Alpha", "Beta", "Gamma"]
    assert "Select a valid choice" in response.text


def test_totals_follow_the_filters(rep_client, region):
    response = rep_client.get(*_url(region, kind="CTY"))
    assert response.context["totals"]["labour_seats"] == 10
    assert "match the filters" in response.text


@pytest.mark.parametrize(
    ("sort", "order", "names"),
    [
        ("council", "desc", ["Gamma", "Beta", "Alpha"]),
        ("seats", "asc", ["Gamma", "Alpha", "Beta"]),
        ("labour", "desc", ["Alpha", "Beta", "Gamma"]),
        ("control", "asc", ["Beta", "Alpha", "Gamma"]),
        ("election", "asc", ["Alpha", "Beta", "Gamma"]),  # no election last
        ("election", "desc", ["Beta", "Alpha", "Gamma"]),  # still last
        ("up", "desc", ["Alpha", "Beta", "Gamma"]),
        ("type", "asc", ["Beta", "Alpha", "Gamma"]),  # CTY before UA
        ("nonsense", "asc", ["Alpha", "Beta", "Gamma"]),
    ],
)
def test_sorting(rep_client, region, sort, order, names):
    assert _council_names(rep_client.get(*_url(region, sort=sort, order=order))) == names


def test_sorted_header_has_aria_sort_and_links_keep_filters(rep_client, region):
    response = rep_client.get(*_url(region, sort="seats", order="desc", kind="UA"))
    assert response.text.count("aria-sort=") == 1
    header = re.search(
        r'<th scope="col" class="num" aria-sort="descending"><a href="([^"]+)">Seats', response.text
    )
    assert header, "the seats header is marked as sorted descending"
    link = header.group(1).replace("&amp;", "&")
    assert "kind=UA" in link and "order=asc" in link


def test_bad_filter_input_is_reported_next_to_the_field(rep_client, region):
    response = rep_client.get(*_url(region, election_on="not-a-date", control="x" * 500))
    assert response.status_code == 200
    assert 'id="id_election_on_error"' in response.text
    assert 'id="id_control_error"' in response.text
    assert _council_names(response) == ["Alpha", "Beta", "Gamma"]


def test_an_invalid_filter_does_not_drop_the_valid_ones(rep_client, region):
    response = rep_client.get(*_url(region, kind="CTY", election_on="garbage"))
    assert response.status_code == 200
    assert _council_names(response) == ["Beta"]
    assert 'id="id_election_on_error"' in response.text
    assert "Enter a date like 7 December 2026 or 07/12/2026." in response.text
    # The totals and the wording follow the filter that applied.
    assert response.context["totals"]["councils"] == 1
    assert "match the filters" in response.text


def test_only_invalid_filters_show_the_whole_region(rep_client, region):
    response = rep_client.get(*_url(region, election_on="garbage"))
    assert _council_names(response) == ["Alpha", "Beta", "Gamma"]
    assert "match the filters" not in response.text


def test_chart_shows_labour_seats_up_largest_first(rep_client, region):
    response = rep_client.get(*_url(region))
    chart = response.text.split("<svg")[1].split("</svg>")[0]
    assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
    labels = re.findall(r'class="bar-label"[^>]*>([^<]+)<', chart)
    values = re.findall(r'class="bar-value"[^>]*>([^<]+)<', chart)
    assert labels == ["Alpha", "Beta"]
    assert values == ["15", "10"]
    assert "style=" not in response.text


def test_councillor_of_the_region_reads_the_dashboard_without_edit_links(client, region):
    councillor = CouncillorFactory(council=Council.objects.get(short_name="Alpha"))
    client.force_login(councillor.user)
    response = client.get(*_url(region))
    assert response.status_code == 200
    assert _council_names(response) == ["Alpha", "Beta", "Gamma"]


def _bulk_region(rows: int):
    region = RegionFactory(name=f"Bulk {rows}", slug=f"bulk-{rows}")
    councils = Council.objects.bulk_create(
        Council(
            gss_code=f"B{rows:05d}{i:06d}", name=f"Council {i}", short_name=f"Council {i}",
            slug=f"bulk-{rows}-{i}", kind=Council.Kind.UNITARY, region=region, total_seats=40,
            labour_seats=i % 40, control="LAB", election_pattern="all-out",
        )
        for i in range(rows)
    )  # fmt: skip
    Election.objects.bulk_create(
        Election(council=c, date=NEXT_MAY, seats_up=20, labour_seats_up=i % 20)
        for i, c in enumerate(councils)
    )
    CouncilGroup.objects.bulk_create(
        CouncilGroup(council=c, name=f"{c.short_name} Labour Group") for c in councils[::2]
    )
    return region


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"sort": "up"}, id="sorted"),
        pytest.param({"control": "lab_majority"}, id="control-filter"),
    ],
)
@pytest.mark.parametrize("rows", [20, 2000])
def test_dashboard_query_count_does_not_grow_with_councils(
    client, rows, params, django_assert_max_num_queries
):
    region = _bulk_region(rows)
    client.force_login(StaffFactory())
    with django_assert_max_num_queries(12):
        response = client.get(reverse("regions:region", args=[region.slug]), params)
    assert response.context["totals"]["councils"] == rows


@pytest.mark.parametrize("rows", [20, 2000])
def test_dashboard_query_count_for_a_representative_does_not_grow_with_councils(
    client, rows, django_assert_max_num_queries
):
    region = _bulk_region(rows)
    client.force_login(RepresentativeFactory(region=region).user)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("regions:region", args=[region.slug]), {"sort": "up"})
    assert response.status_code == 200
    assert response.context["totals"]["councils"] == rows
    assert response.context["can_manage"]


@pytest.mark.parametrize(
    ("label", "words"),
    [
        ("LAB", "Labour majority"),
        ("LAB min", "Labour minority"),
        ("GRN/LD", "Green and Liberal Democrat: shared control"),
        ("IND/LAB/PC", "Independent, Labour and Plaid Cymru: shared control"),
        ("LD/LAB min", "Liberal Democrat and Labour: a shared minority"),
        ("REF", "Reform UK majority"),
        ("CON Mayor", "Conservative mayor"),
        ("Aspire Mayor", "Aspire mayor"),
        ("TBC", "To be confirmed"),
    ],
)
def test_each_party_code_is_explained(label, words):
    assert control_described(label) == words


def test_the_table_explains_the_party_codes_it_shows(client, region):
    client.force_login(StaffFactory())
    page = client.get(reverse("regions:region", args=["northshire"])).text
    assert '<abbr title="Labour minority">LAB min</abbr>' in page
    legend = re.search(r'<p class="table-note">Party codes: (.*?)</p>', page, re.S).group(1)
    assert "LAB</abbr> Labour" in legend and "CON</abbr> Conservative" in legend
    assert "Green" not in legend


def test_the_table_counts_councillors_on_the_portal_and_vacant_offices(client, region):
    alpha = Council.objects.get(short_name="Alpha")
    CouncillorFactory(council=alpha)
    CouncillorFactory(council=alpha)
    CouncillorFactory(council=alpha, left_on=datetime.date(2025, 5, 1))
    leader = CouncillorFactory(council=alpha).user
    GroupOfficerFactory(group=alpha.labour_group, user=leader, role="leader")
    client.force_login(StaffFactory())
    page = client.get(reverse("regions:region", args=["northshire"]), {"sort": "portal"}).text
    table = re.search(r'<table class="councils">.*?</table>', page, re.S).group(0)
    rows = re.findall(r'<tr>\s*<th scope="row"><a [^>]*>(\w+)</a></th>(.*?)</tr>', table, re.S)
    cells = {name: re.findall(r'<td class="num">([^<]*)</td>', body)[-2:] for name, body in rows}
    assert cells["Alpha"] == ["3", "3"]  # three serving; leader held, three offices vacant
    assert cells["Beta"] == ["0", "4"]
    assert cells["Gamma"] == ["0", "–"]  # no Labour group
    assert [name for name, _ in rows] == ["Beta", "Gamma", "Alpha"]


def test_a_column_that_would_repeat_one_value_is_left_out_and_said_once(client):
    london = RegionFactory(name="Londinium", slug="londinium")
    for name in ("Camden", "Hackney"):
        council = CouncilFactory(
            region=london, short_name=name, kind=Council.Kind.LONDON_BOROUGH, control="LAB",
            total_seats=50, labour_seats=40,
        )  # fmt: skip
        ElectionFactory(council=council, date=NEXT_MAY, seats_up=50, labour_seats_up=40)
    client.force_login(StaffFactory())
    page = client.get(reverse("regions:region", args=["londinium"])).text
    caption = re.search(r"<caption.*?</caption>", page, re.S).group(0)
    assert "All are of one type: london borough." in caption
    assert "All are under the same control: LAB." in caption
    assert "every Labour seat is up" in caption
    header = re.search(r"<thead>.*?</thead>", page, re.S).group(0)
    assert ">Type<" not in header and ">Control<" not in header
    assert ">Labour seats up<" not in header and ">Labour seats<" in header
    assert "London borough</td>" not in page
