"""A council's Labour group: its page, contact details, officers and their history."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    GroupOfficerFactory,
    RepresentativeFactory,
    UserFactory,
)

from members.models import Councillor, User
from regions import services
from regions.models import CouncilGroup, GroupOfficer

pytestmark = pytest.mark.django_db

MAY = datetime.date(2026, 5, 11)


@pytest.fixture
def group():
    return CouncilGroupFactory(
        council=CouncilFactory(short_name="Riverton"), name="Riverton Labour Group"
    )


@pytest.fixture
def rep(group):
    return RepresentativeFactory(region=group.council.region).user


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def _councillor(group, name, **kwargs):
    return CouncillorFactory(council=group.council, user__full_name=name, **kwargs).user


# The page


def test_group_page_shows_contact_officers_councillors_and_changes(rep_client, group, rep):
    ann = _councillor(group, "Ann Archer", ward="Riverside")
    bob = _councillor(group, "Bob Baker", ward="Hilltop")
    _councillor(group, "Cat Left", left_on=datetime.date(2024, 5, 1))
    services.officer_appoint(group=group, role="leader", user=ann, start_date=MAY, by=rep)
    services.officer_appoint(
        group=group, role="leader", user=bob, start_date=MAY + datetime.timedelta(days=1), by=rep
    )
    response = rep_client.get(group.get_absolute_url())
    text = response.text
    assert "Riverton Labour Group" in text
    assert [c.user.full_name for c in response.context["councillors"]] == [
        "Ann Archer",
        "Bob Baker",
    ]
    assert "Riverside" in text and "Cat Left" not in text.split("Councillors in the group")[1]
    current = response.context["current_officers"]
    assert [(o.role, o.user) for o in current] == [("leader", bob)]
    assert [(o.user, o.end_date) for o in response.context["past_officers"]] == [
        (ann, MAY + datetime.timedelta(days=1))
    ]
    assert "Deputy leader</th><td>Vacant" in text
    changes = response.context["changes"]
    assert changes[0].subject == "Leader: Bob Baker"
    assert changes[0].kind == "Created"
    assert changes[0].who == str(rep)
    assert any(c.kind == "Changed" and c.fields[0].label == "End date" for c in changes)


@pytest.mark.parametrize("rows", [20, 2000])
def test_group_page_query_count_does_not_grow_with_councillors(
    rep_client, group, rows, django_assert_max_num_queries
):
    users = User.objects.bulk_create(
        User(email=f"bulk{i}@example.org", full_name=f"Councillor {i:04d}") for i in range(rows)
    )
    Councillor.objects.bulk_create(
        Councillor(
            user=u, council=group.council, ward=f"Ward {i}", bio=f"Bio {i}", labour_coop=bool(i % 2)
        )
        for i, u in enumerate(users)
    )
    with django_assert_max_num_queries(14):
        response = rep_client.get(group.get_absolute_url())
    assert len(response.context["councillors"]) == rows
    assert "Councillor 0000" in response.text
    assert f"Bio {rows - 1}" in response.text


def _councillor_rows(html: str) -> dict[str, str]:
    """Each row of the councillors table, by the name in its header cell."""
    table = html.split('id="councillors-caption"')[1].split("</table>")[0]
    return dict(re.findall(r'<tr>\s*<th scope="row">(.*?)</th>(.*?)</tr>', table, re.S))


def test_group_page_shows_each_councillors_bio_and_co_op_marker(client, group):
    _councillor(group, "Ann Archer", labour_coop=True, bio="Housing first.\nAllotments too.")
    _councillor(group, "Bob Baker", labour_coop=False, bio="")
    _councillor(group, "Cat Left", left_on=datetime.date(2024, 5, 1), bio="Retired.")
    client.force_login(_councillor(group, "Dee Reader"))
    response = client.get(group.get_absolute_url())
    assert response.status_code == 200
    rows = _councillor_rows(response.text)
    assert "Labour &amp; Co-operative" in rows["Ann Archer"]
    assert "Housing first.<br>Allotments too." in rows["Ann Archer"]
    assert "Co-operative" not in rows["Bob Baker"]
    assert "Cat Left" not in rows
    assert "Retired." not in response.text


def test_markup_in_a_bio_is_shown_escaped_on_the_group_page(rep_client, group):
    # The profile form refuses markup; a bio saved before that, or in the admin, is still text.
    _councillor(group, "Ann Archer", bio='<script>alert("x")</script> & <b>bold</b>')
    html = rep_client.get(group.get_absolute_url()).text
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
        in (_councillor_rows(html)["Ann Archer"])
    )
    assert "<script>alert" not in html
    assert "<b>bold" not in html


def test_councillor_of_the_group_sees_no_edit_links(client, group):
    client.force_login(_councillor(group, "Ann Archer"))
    response = client.get(group.get_absolute_url())
    assert response.status_code == 200
    assert reverse("regions:group_edit", args=[group.pk]) not in response.text


def test_rep_sees_edit_links(rep_client, group):
    response = rep_client.get(group.get_absolute_url())
    assert reverse("regions:group_edit", args=[group.pk]) in response.text
    assert reverse("regions:group_officers", args=[group.pk]) in response.text


# Contact details


def _contact(**overrides):
    data = {
        "name": "Riverton Labour Group",
        "contact_email": "secretary@riverton-labour.example.org",
        "phone": "+44 20 7946 0000",
        "postal_address": "Town Hall\nRiverton RV1 1AA",
    }
    return {**data, **overrides}


def test_rep_edits_contact_details_with_history(rep_client, group, rep):
    response = rep_client.post(reverse("regions:group_edit", args=[group.pk]), _contact())
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.contact_email == "secretary@riverton-labour.example.org"
    assert group.postal_address == "Town Hall\nRiverton RV1 1AA"
    latest = group.history.first()
    assert latest.history_user == rep
    assert latest.history_change_reason == "Contact details edited"
    page = rep_client.get(group.get_absolute_url()).text
    assert "Town Hall<br>Riverton RV1 1AA" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("contact_email", "not-an-email", "Enter a valid email address."),
        ("postal_address", "<script>alert(1)</script>", "plain text"),
        ("name", "<b>Group</b>", "plain text"),
        ("name", "x" * 201, "at most 200 characters"),
        ("postal_address", "y" * 501, "at most 500 characters"),
        ("phone", "call me maybe", "Enter a phone number"),
        ("phone", "1" * 31, "at most 30 characters"),
        ("name", "", "This field is required."),
    ],
)
def test_bad_contact_details_are_refused_next_to_the_field(
    rep_client, group, field, value, message
):
    before = list(CouncilGroup.objects.values())
    response = rep_client.post(
        reverse("regions:group_edit", args=[group.pk]), _contact(**{field: value})
    )
    assert response.status_code == 200
    error = response.text.split(f'id="id_{field}_error"')[1].split("</ul>")[0]
    assert message in error
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error"', response.text)
    assert "<script>alert" not in response.text
    assert list(CouncilGroup.objects.values()) == before


@pytest.mark.parametrize("phone", ["946 000", "7946 0000", "+44 20 7946 0000 0000 00"])
def test_group_phone_follows_the_same_rule_as_councillors_phones(rep_client, group, phone):
    response = rep_client.post(
        reverse("regions:group_edit", args=[group.pk]), _contact(phone=phone)
    )
    assert response.status_code == 200
    error = response.text.split('id="id_phone_error"')[1].split("</ul>")[0]
    assert "10 to 15 digits" in error
    group.refresh_from_db()
    assert group.phone != phone


def test_an_old_short_group_phone_does_not_block_other_changes(rep_client, group):
    CouncilGroup.objects.filter(pk=group.pk).update(phone="946 000")
    url = reverse("regions:group_edit", args=[group.pk])

    response = rep_client.post(url, _contact(name="Riverton Labour Group", phone="946 000"))
    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.contact_email, group.phone) == (
        "secretary@riverton-labour.example.org",
        "946 000",
    )

    response = rep_client.post(url, _contact(phone="946 001"))
    assert response.status_code == 200
    group.refresh_from_db()
    assert group.phone == "946 000"


def test_ampersands_and_quotes_are_stored_and_shown_escaped(rep_client, group):
    rep_client.post(
        reverse("regions:group_edit", args=[group.pk]),
        _contact(name='Riverton & "District" Labour Group'),
    )
    group.refresh_from_db()
    assert group.name == 'Riverton & "District" Labour Group'
    assert "Riverton &amp; &quot;District&quot;" in rep_client.get(group.get_absolute_url()).text


# Officers


def test_appointing_ends_the_previous_holder_on_the_start_date(group, rep):
    ann, bob = _councillor(group, "Ann"), _councillor(group, "Bob")
    first = services.officer_appoint(
        group=group, role="secretary", user=ann, start_date=MAY, by=rep
    )
    later = MAY + datetime.timedelta(days=30)
    second = services.officer_appoint(
        group=group, role="secretary", user=bob, start_date=later, by=rep
    )
    first.refresh_from_db()
    assert first.end_date == later
    assert second.end_date is None
    assert first.history.first().history_user == rep


def test_appointing_on_the_same_day_ends_the_previous_holder_that_day(group, rep):
    ann, bob = _councillor(group, "Ann"), _councillor(group, "Bob")
    first = services.officer_appoint(group=group, role="leader", user=ann, start_date=MAY, by=rep)
    services.officer_appoint(group=group, role="leader", user=bob, start_date=MAY, by=rep)
    first.refresh_from_db()
    assert first.end_date == MAY
    assert GroupOfficer.objects.current(MAY).get(group=group, role="leader").user == bob


def test_appointing_before_the_current_holder_started_changes_nothing(group, rep):
    ann, bob = _councillor(group, "Ann"), _councillor(group, "Bob")
    services.officer_appoint(group=group, role="leader", user=ann, start_date=MAY, by=rep)
    with pytest.raises(ValidationError):
        services.officer_appoint(
            group=group, role="leader", user=bob, start_date=MAY - datetime.timedelta(days=1),
            by=rep,
        )  # fmt: skip
    assert list(GroupOfficer.objects.values_list("user", "end_date")) == [(ann.pk, None)]


def test_service_refuses_someone_who_is_not_a_councillor_here(group, rep):
    outsider = CouncillorFactory().user  # serves on another council
    nobody = UserFactory()
    for user in (outsider, nobody):
        with pytest.raises(ValidationError):
            services.officer_appoint(group=group, role="leader", user=user, start_date=MAY, by=rep)
    assert not GroupOfficer.objects.exists()


def test_rep_appoints_through_the_form(rep_client, group):
    ann = _councillor(group, "Ann Archer")
    response = rep_client.post(
        reverse("regions:group_officers", args=[group.pk]),
        {"role": "chief_whip", "user": ann.pk, "start_date": "2026-05-11"},
        follow=True,
    )
    assert "Ann Archer is now chief whip." in response.text
    officer = GroupOfficer.objects.get()
    assert (officer.role, officer.user, officer.start_date) == ("chief_whip", ann, MAY)


def test_appoint_form_offers_only_serving_councillors_of_the_council(rep_client, group):
    _councillor(group, "Ann Archer")
    _councillor(group, "Cat Left", left_on=datetime.date(2024, 5, 1))
    CouncillorFactory(user__full_name="Olga Elsewhere")
    choices = rep_client.get(reverse("regions:group_officers", args=[group.pk])).context["form"]
    names = [label for _value, label in choices.fields["user"].choices][1:]
    assert names == ["Ann Archer"]


def test_with_nobody_to_appoint_the_page_says_why_and_where_to_add_councillors(rep_client, group):
    page = rep_client.get(reverse("regions:group_officers", args=[group.pk])).text
    assert 'name="user"' not in page
    assert "there is none yet" in page
    council = group.council
    for link in (
        reverse("councillor_add", args=[council.slug]),
        reverse("import_upload", args=[council.region.slug]),
        reverse("group_import_upload", args=[council.region.slug]),
    ):
        assert f'href="{link}"' in page
    _councillor(group, "Ann Archer")
    page = rep_client.get(reverse("regions:group_officers", args=[group.pk])).text
    assert 'name="user"' in page and "there is none yet" not in page


def test_appoint_form_reports_bad_dates_next_to_the_field(rep_client, group):
    ann = _councillor(group, "Ann Archer")
    response = rep_client.post(
        reverse("regions:group_officers", args=[group.pk]),
        {"role": "leader", "user": ann.pk, "start_date": "11/13/2026"},
    )
    assert 'id="id_start_date_error"' in response.text
    assert not GroupOfficer.objects.exists()


def _days_ahead(days):
    return lambda: (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    "start_date",
    [
        "2206-05-11",
        "1899-12-31",
        "0026-05-11",
        _days_ahead(370),
    ],
)
def test_appoint_form_refuses_a_start_date_with_a_mistyped_year(rep_client, group, start_date):
    ann = _councillor(group, "Ann Archer")
    value = start_date() if callable(start_date) else start_date
    response = rep_client.post(
        reverse("regions:group_officers", args=[group.pk]),
        {"role": "leader", "user": ann.pk, "start_date": value},
    )
    assert response.status_code == 200
    errors = re.search(
        r'<ul class="errorlist" id="id_start_date_error">(.*?)</ul>', response.text, re.S
    )
    assert errors and "Check the year" in errors.group(1)
    assert "1 January 1900" in errors.group(1)
    assert not GroupOfficer.objects.exists()


@pytest.mark.parametrize("start_date", [lambda: "1900-01-01", _days_ahead(0), _days_ahead(360)])
def test_appoint_form_accepts_start_dates_from_1900_to_a_year_ahead(rep_client, group, start_date):
    ann = _councillor(group, "Ann Archer")
    response = rep_client.post(
        reverse("regions:group_officers", args=[group.pk]),
        {"role": "leader", "user": ann.pk, "start_date": start_date()},
    )
    assert response.status_code == 302
    assert GroupOfficer.objects.get().start_date.isoformat() == start_date()


def test_rep_ends_a_term(rep_client, group, rep):
    officer = GroupOfficerFactory(group=group, user=_councillor(group, "Ann"), start_date=MAY)
    response = rep_client.post(
        reverse("regions:officer_end", args=[officer.pk]), {"end_date": "2026-06-01"}
    )
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.end_date == datetime.date(2026, 6, 1)
    assert officer.history.first().history_user == rep


def test_ending_a_term_before_it_began_is_refused(rep_client, group):
    officer = GroupOfficerFactory(group=group, user=_councillor(group, "Ann"), start_date=MAY)
    response = rep_client.post(
        reverse("regions:officer_end", args=[officer.pk]), {"end_date": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "cannot end before it began" in response.text
    officer.refresh_from_db()
    assert officer.end_date is None


# Names without contact details: councillors never read another person's email address here,
# as on the council's list of councillors.


@pytest.fixture
def nameless(group, rep):
    """An officer and a councillor of the group with no name on record, only an address."""
    hidden = CouncillorFactory(
        council=group.council, user__full_name="", user__email="hidden.officer@example.org"
    ).user
    CouncillorFactory(council=group.council, user__full_name="", user__email="quiet@example.org")
    services.officer_appoint(group=group, role="leader", user=hidden, start_date=MAY, by=rep)
    return group


def test_councillors_see_no_email_of_an_officer_or_councillor_without_a_name(client, nameless):
    client.force_login(_councillor(nameless, "Ann Archer"))
    response = client.get(nameless.get_absolute_url())
    assert response.status_code == 200
    assert "hidden.officer@example.org" not in response.text
    assert "quiet@example.org" not in response.text
    assert re.search(r"Leader</th>\s*<td>\(no name\)", response.text)
    assert '<th scope="row">(no name)</th>' in response.text
    assert "Leader: (no name)" in response.text  # the recent changes name no address either


def test_representatives_see_the_email_of_an_officer_without_a_name(rep_client, nameless):
    response = rep_client.get(nameless.get_absolute_url())
    assert re.search(r"Leader</th>\s*<td>hidden.officer@example.org", response.text)
    assert '<th scope="row">quiet@example.org</th>' in response.text


def test_a_nameless_representatives_email_is_not_shown_to_councillors_in_the_changes(client, group):
    nameless_rep = RepresentativeFactory(
        region=group.council.region, user__full_name="", user__email="nameless.rep@example.org"
    ).user
    ann = _councillor(group, "Ann Archer")
    services.officer_appoint(group=group, role="leader", user=ann, start_date=MAY, by=nameless_rep)
    client.force_login(ann)
    response = client.get(group.get_absolute_url())
    assert response.context["changes"][0].who == "(no name)"
    assert "nameless.rep@example.org" not in response.text


# Forms and changes read like the rest of the portal


def test_contact_form_uses_the_portal_field_layout(rep_client, group):
    url = reverse("regions:group_edit", args=[group.pk])
    text = rep_client.get(url).text
    assert '<label for="id_name">Name</label>' in text
    assert (
        '<label for="id_contact_email">Contact email address <span class="optional">(optional)'
        in text
    )
    assert ":</label>" not in text
    response = rep_client.post(url, _contact(contact_email="not-an-email"))
    field = response.text.split('<div class="field field-has-error">')[1].split("</div>")[0]
    # The message sits with its own field, after the label, not in a list above the form.
    assert field.index('for="id_contact_email"') < field.index('id="id_contact_email_error"')
    assert field.index('id="id_contact_email_error"') < field.index('name="contact_email"')


def test_officer_forms_use_the_portal_field_layout(rep_client, group, rep):
    ann = _councillor(group, "Ann Archer")
    services.officer_appoint(group=group, role="leader", user=ann, start_date=MAY, by=rep)
    officer = GroupOfficer.objects.get()
    url = reverse("regions:group_officers", args=[group.pk])
    text = rep_client.get(url).text
    assert '<label for="id_start_date">Start date</label>' in text
    assert f'<label for="id_officer{officer.pk}_end_date">Term ends on</label>' in text
    assert ":</label>" not in text
    response = rep_client.post(url, {"role": "leader", "user": ann.pk, "start_date": "soon"})
    field = response.text.split('<div class="field field-has-error">')[1].split("</div>")[0]
    assert 'id="id_start_date_error"' in field
    assert re.search(r'aria-describedby="[^"]*id_start_date_error"', field)


def test_recent_changes_name_people_and_offices_not_database_ids(rep_client, group, rep):
    ann = _councillor(group, "Ann Archer")
    services.officer_appoint(group=group, role="chief_whip", user=ann, start_date=MAY, by=rep)
    response = rep_client.get(group.get_absolute_url())
    created = next(c for c in response.context["changes"] if c.kind == "Created")
    assert created.subject == "Chief whip: Ann Archer"
    assert "Ann Archer" in [f.new for f in created.fields]
    assert "Id" not in [f.label for f in created.fields]
    assert not re.search(r"<li>Id:", response.text)
    assert f">{GroupOfficer.objects.get().pk}</ins>" not in response.text
