"""A councillor keeps their own profile; a change of council or ward waits for approval."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    GroupOfficerFactory,
    PositionFactory,
    ProfileChangeFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    profile_form_data,
)

from members.models import Councillor, Decision, Position, ProfileChange
from members.services.profile_changes import profile_change_decide
from regions.models import GroupOfficer

pytestmark = pytest.mark.django_db

NAME_CHARACTERS = "Names cannot contain &lt;, &gt;, { or } or control characters."


@pytest.fixture
def councillor():
    return CouncillorFactory(ward="Castle", council=CouncilFactory(region=RegionFactory()))


def _form(councillor, **changes):
    return profile_form_data(councillor, **{"phone": "", **changes})


def test_councillor_sees_their_profile(client, councillor):
    PositionFactory(councillor=councillor, title="Group whip")
    client.force_login(councillor.user)
    response = client.get(reverse("profile"))
    assert councillor.council.name in response.text
    assert "Castle" in response.text
    assert "Group whip" in response.text
    assert reverse("account_email") in response.text


def test_person_without_councillor_profile_gets_a_friendly_page(client):
    client.force_login(StaffFactory())
    for name in ["profile", "profile_edit", "my_region", "levy_waiver"]:
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert "You have no councillor profile" in response.text


def test_edit_applies_everything_but_council_and_ward_at_once(client, councillor):
    client.force_login(councillor.user)
    response = client.post(
        reverse("profile_edit"),
        _form(
            councillor,
            full_name="Alys Tregaron",
            preferred_name="Alys",
            first_elected="2022-05-05",
            term_ends="2026-05-07",
            labour_coop="yes",
            phone="+44 (0)29 2087 2000",
            bio="Housing campaigner.",
            wants_regional_news="on",
        ),
    )
    assert response.status_code == 302
    councillor.refresh_from_db()
    councillor.user.refresh_from_db()
    assert councillor.user.full_name == "Alys Tregaron"
    assert councillor.user.preferred_name == "Alys"
    assert councillor.labour_coop is True
    assert councillor.phone == "+44 (0)29 2087 2000"
    assert str(councillor.first_elected) == "2022-05-05"
    assert (
        councillor.wants_campaign_mailings,
        councillor.wants_regional_news,
        councillor.wants_training_events,
    ) == (True, True, False)
    assert not ProfileChange.objects.exists()


def test_positions_are_added_and_removed(client, councillor):
    whip = PositionFactory(councillor=councillor, title="Group whip")
    client.force_login(councillor.user)
    data = _form(councillor)
    data.update(
        {
            "positions-TOTAL_FORMS": "2",
            "positions-INITIAL_FORMS": "1",
            "positions-0-id": whip.pk,
            "positions-0-title": "Group whip",
            "positions-0-DELETE": "on",
            "positions-1-title": "Cabinet member for housing",
            "positions-1-start_date": "2024-05-20",
        }
    )
    assert client.post(reverse("profile_edit"), data).status_code == 302
    assert list(councillor.positions.values_list("title", "start_date__year")) == [
        ("Cabinet member for housing", 2024)
    ]


def test_ward_change_waits_for_approval(client, councillor):
    client.force_login(councillor.user)
    client.post(reverse("profile_edit"), _form(councillor, ward="Riverside"))
    councillor.refresh_from_db()
    assert councillor.ward == "Castle"
    change = ProfileChange.objects.get()
    assert (change.ward, change.status) == ("Riverside", Decision.PENDING)
    response = client.get(reverse("profile"))
    assert "Pending approval" in response.text
    assert "Riverside" in response.text


def test_second_edit_replaces_the_pending_change(client, councillor):
    other = CouncilFactory(region=councillor.council.region)
    client.force_login(councillor.user)
    client.post(reverse("profile_edit"), _form(councillor, ward="Riverside"))
    client.post(reverse("profile_edit"), _form(councillor, council=other.pk, ward="Docks"))
    change = ProfileChange.objects.get()
    assert (change.council, change.ward) == (other, "Docks")


def test_editing_back_to_current_values_withdraws_the_pending_change(client, councillor):
    client.force_login(councillor.user)
    client.post(reverse("profile_edit"), _form(councillor, ward="Riverside"))
    client.post(reverse("profile_edit"), _form(councillor, ward="Castle"))
    assert not ProfileChange.objects.exists()


def test_edit_form_shows_the_pending_values(client, councillor):
    client.force_login(councillor.user)
    client.post(reverse("profile_edit"), _form(councillor, ward="Riverside"))
    # Saving another field keeps the pending request as it is.
    client.post(reverse("profile_edit"), _form(councillor, ward="Riverside", phone="01234567890"))
    assert ProfileChange.objects.get().ward == "Riverside"
    assert 'value="Riverside"' in client.get(reverse("profile_edit")).text


def test_change_goes_to_the_rep_of_the_new_councils_region(client, councillor):
    new_region = RegionFactory()
    new_council = CouncilFactory(region=new_region)
    old_rep = RepresentativeFactory(region=councillor.council.region).user
    new_rep = RepresentativeFactory(region=new_region).user
    client.force_login(councillor.user)
    client.post(reverse("profile_edit"), _form(councillor, council=new_council.pk))
    change = ProfileChange.objects.get()

    client.force_login(old_rep)
    assert client.get(reverse("decisions_change", args=[change.pk])).status_code == 404
    client.force_login(new_rep)
    assert client.get(reverse("decisions_change", args=[change.pk])).status_code == 200


def test_rep_approval_applies_council_and_ward(client, councillor):
    rep = RepresentativeFactory(region=councillor.council.region).user
    other = CouncilFactory(region=councillor.council.region)
    change = ProfileChange.objects.create(councillor=councillor, council=other, ward="Docks")
    client.force_login(rep)
    response = client.post(
        reverse("decisions_change", args=[change.pk]), {"decision": "approved", "reason": ""}
    )
    assert response.status_code == 302
    councillor.refresh_from_db()
    assert (councillor.council, councillor.ward) == (other, "Docks")
    change.refresh_from_db()
    assert (change.status, change.decided_by) == (Decision.APPROVED, rep)

    client.force_login(councillor.user)
    assert "Approved:" in client.get(reverse("profile")).text


def test_approved_move_of_council_ends_the_offices_held_in_the_old_group(client, councillor):
    old_group = CouncilGroupFactory(council=councillor.council)
    leader = GroupOfficerFactory(group=old_group, role="leader", user=councillor.user)
    whip = GroupOfficerFactory(group=old_group, role="chief_whip", user=councillor.user)
    rep = RepresentativeFactory(region=councillor.council.region).user
    new_council = CouncilFactory(region=councillor.council.region)
    change = ProfileChange.objects.create(councillor=councillor, council=new_council, ward="Docks")
    client.force_login(rep)

    client.post(
        reverse("decisions_change", args=[change.pk]), {"decision": "approved", "reason": ""}
    )

    today = timezone.localdate()
    for office in (leader, whip):
        office.refresh_from_db()
        assert office.end_date == today
        latest = office.history.first()
        assert latest.history_change_reason.startswith("Term ended: moved to another council")
        assert latest.history_user == rep
    assert not GroupOfficer.objects.current().filter(user=councillor.user).exists()
    # The old group's page no longer shows them as its leader.
    client.force_login(StaffFactory())
    page = client.get(reverse("regions:group", args=[old_group.pk])).text
    current_officers = page.split("Current officers of")[1].split("</table>")[0]
    assert "Vacant" in current_officers
    assert councillor.user.full_name not in current_officers


def test_approved_ward_change_on_the_same_council_keeps_the_offices(client, councillor):
    office = GroupOfficerFactory(
        group=CouncilGroupFactory(council=councillor.council), user=councillor.user
    )
    rep = RepresentativeFactory(region=councillor.council.region).user
    change = ProfileChange.objects.create(
        councillor=councillor, council=councillor.council, ward="Docks"
    )
    profile_change_decide(change=change, by=rep, approve=True)

    office.refresh_from_db()
    assert office.end_date is None


def test_refused_move_of_council_keeps_the_offices(councillor):
    office = GroupOfficerFactory(
        group=CouncilGroupFactory(council=councillor.council), user=councillor.user
    )
    rep = RepresentativeFactory(region=councillor.council.region).user
    change = ProfileChange.objects.create(
        councillor=councillor, council=CouncilFactory(region=councillor.council.region), ward="X"
    )
    profile_change_decide(change=change, by=rep, approve=False, reason="Not so.")

    office.refresh_from_db()
    assert office.end_date is None


def test_refusal_keeps_old_values_and_councillor_sees_reason(client, councillor):
    rep = RepresentativeFactory(region=councillor.council.region).user
    change = ProfileChange.objects.create(
        councillor=councillor, council=councillor.council, ward="Docks"
    )
    client.force_login(rep)
    client.post(
        reverse("decisions_change", args=[change.pk]),
        {"decision": "refused", "reason": "Docks is not a ward of this council."},
    )
    councillor.refresh_from_db()
    assert councillor.ward == "Castle"
    client.force_login(councillor.user)
    text = client.get(reverse("profile")).text
    assert "Refused:" in text
    assert "Docks is not a ward of this council." in text


def test_a_decided_change_cannot_be_decided_again(client, councillor):
    staff = StaffFactory()
    change = ProfileChange.objects.create(
        councillor=councillor, council=councillor.council, ward="Docks", status="refused"
    )
    client.force_login(staff)
    client.post(reverse("decisions_change", args=[change.pk]), {"decision": "approved"})
    councillor.refresh_from_db()
    assert councillor.ward == "Castle"
    assert ProfileChange.objects.get().status == Decision.REFUSED


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "call me maybe", "digits, spaces and + ( ) - only"),
        ("phone", "12345", "10 to 15 digits"),
        ("phone", "+44 20 7946 0000 0000 00", "10 to 15 digits"),
        ("phone", "020<script>7946</script>0000", "digits, spaces and + ( ) - only"),
        ("full_name", "x" * 151, "at most 150 characters"),
        ("full_name", "<script>alert(1)</script>", NAME_CHARACTERS),
        ("full_name", "Ann {Nan} Smith", NAME_CHARACTERS),
        ("full_name", "Ann\x07Smith", NAME_CHARACTERS),
        ("full_name", "Ann\x7fSmith", NAME_CHARACTERS),
        ("preferred_name", "<b>Al</b>", NAME_CHARACTERS),
        ("preferred_name", "{{ recipient.first_name }}", NAME_CHARACTERS),
        ("preferred_name", "Al\x1b[31m", NAME_CHARACTERS),
        ("preferred_name", "p" * 81, "at most 80 characters"),
        ("ward", "", "Enter the ward (or division) you represent."),
        ("ward", "   ", "Enter the ward (or division) you represent."),
        ("ward", "w" * 151, "at most 150 characters"),
        ("ward", "<script>alert(1)</script>", "Ward names cannot contain &lt;, &gt;"),
        ("ward", "Castle\x1b[31m Hill", "or control characters"),
        ("bio", "b" * 1001, "at most 1000 characters"),
        ("bio", "Hi <script>alert(1)</script>", "Use plain text: remove the HTML tags"),
        ("bio", "<b>Housing</b> campaigner", "Use plain text: remove the HTML tags"),
        ("bio", "Hi <img src=x onerror=alert(1)>", "Use plain text: remove the HTML tags"),
        ("bio", "Before<!-- hidden -->after", "Use plain text: remove the HTML tags"),
        ("bio", "Ring me\x07 any time", "Use plain text: remove the control characters"),
        ("full_name", "", "This field is required"),
        ("first_elected", "not a date", "Enter a date like 7 December 2026 or 07/12/2026."),
        ("term_ends", "2001-01-01", "cannot end before"),
        ("first_elected", "9999-12-31", "Check the year"),
        ("first_elected", "0001-01-01", "between 1 January 1900 and"),
        ("term_ends", "9999-12-31", "Check the year"),
        ("term_ends", "0001-01-01", "between 1 January 1900 and"),
    ],
)
def test_bad_input_gets_a_message_next_to_the_field(client, councillor, field, value, message):
    client.force_login(councillor.user)
    data = _form(councillor, first_elected="2010-05-06")
    data[field] = value
    response = client.post(reverse("profile_edit"), data)
    assert response.status_code == 200
    html = response.text
    error_at = html.index(f'id="id_{field}_error"')
    assert message in html[error_at : error_at + 400]
    # The field's own control (input, select or textarea named after it) points at its error.
    control = re.search(rf'<(?:input|select|textarea)\b[^>]*\bname="{field}"[^>]*>', html)
    assert control, f"no control named {field}"
    assert re.search(rf'\baria-describedby="[^"]*\bid_{field}_error\b', control.group(0))
    councillor.refresh_from_db()
    assert councillor.phone == "" and councillor.bio == "" and councillor.ward == "Castle"
    assert not ProfileChange.objects.exists()
    assert "<script>alert" not in html


def test_plain_text_bio_keeps_its_lines_and_angle_brackets(client, councillor):
    bio = "Housing > profit.\r\nI <3 allotments; 2 < 3.\r\n\tTabs too & ampersands."
    client.force_login(councillor.user)
    assert client.post(reverse("profile_edit"), _form(councillor, bio=bio)).status_code == 302
    councillor.refresh_from_db()
    assert councillor.bio == bio.strip()
    assert "I &lt;3 allotments" in client.get(reverse("profile")).text


def test_markup_in_a_bio_saved_elsewhere_is_always_escaped(client, councillor):
    # Bios written before the form refused markup, or by staff in the admin, are shown as text.
    bio = 'Hi <script>alert("x")</script> & <img src=x onerror=alert(1)>'
    Councillor.objects.filter(pk=councillor.pk).update(bio=bio)
    client.force_login(councillor.user)
    for url in [reverse("profile"), reverse("profile_edit")]:
        text = client.get(url).text
        assert "<script>" not in text
        assert "<img src=x" not in text
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    # The download gives the text back exactly, as data rather than a page.
    download = client.get(reverse("my_data_json"))
    assert download["Content-Type"] == "application/json"
    assert download.json()["councillor"]["bio"] == bio


def test_script_in_ward_is_escaped_on_the_decisions_page(client, councillor):
    # The profile form refuses it; a change recorded some other way is still shown as text.
    ProfileChangeFactory(councillor=councillor, ward="<script>alert(1)</script>")
    client.force_login(StaffFactory())
    text = client.get(reverse("decisions_changes")).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert(1)" not in text


def test_my_region_shows_reps_and_group_officers(client, councillor):
    rep_councillor = CouncillorFactory(
        council=CouncilFactory(region=councillor.council.region), phone="07700 900555"
    )
    RepresentativeFactory(region=councillor.council.region, user=rep_councillor.user)
    group = CouncilGroupFactory(council=councillor.council)
    leader = GroupOfficerFactory(group=group, role="leader").user
    GroupOfficerFactory(group=group, role="chief_whip", end_date="2099-01-01")
    client.force_login(councillor.user)
    text = client.get(reverse("my_region")).text
    assert rep_councillor.user.email in text
    assert "07700 900555" in text
    assert group.name in text
    assert escape(leader.full_name) in text
    assert "Leader" in text


def test_my_region_shows_no_email_of_an_officer_without_a_name(client, councillor):
    group = CouncilGroupFactory(council=councillor.council)
    secretary = GroupOfficerFactory(group=group, role="secretary", user__full_name="").user
    client.force_login(councillor.user)
    text = client.get(reverse("my_region")).text
    assert secretary.email not in text
    assert "(no name)" in text


def test_profile_edit_makes_history(client, councillor):
    client.force_login(councillor.user)
    client.post(reverse("profile_edit"), _form(councillor, phone="020 7946 0999"))
    assert Councillor.history.filter(id=councillor.pk, phone="020 7946 0999").exists()
    assert not Position.objects.exists()


def test_invalid_email_address_gets_a_message_on_the_email_page(client, councillor):
    client.force_login(councillor.user)
    response = client.post(
        reverse("account_email"), {"action_add": "", "email": "not-an-email<script>"}
    )
    assert response.status_code == 200
    assert "Enter a valid email address." in response.text
    assert "not-an-email<script>" not in response.text
    assert councillor.user.emailaddress_set.count() == 1


def test_change_list_makes_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    region = RegionFactory()
    client.force_login(RepresentativeFactory(region=region).user)

    def add_changes(n):
        for _ in range(n):
            council = CouncilFactory(region=region)
            ProfileChangeFactory(councillor=CouncillorFactory(council=council), council=council)

    add_changes(2)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("decisions_changes"))
    add_changes(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("decisions_changes"))


# Dates: a mistyped year is refused next to the field, on the profile and on its positions.


def _days_from_today(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def _error_text(html: str, field_id: str) -> str:
    match = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize(
    ("field", "days"),
    [("first_elected", 1), ("first_elected", 400), ("term_ends", 11 * 366)],
)
def test_implausible_future_dates_are_refused_next_to_the_field(client, councillor, field, days):
    client.force_login(councillor.user)
    response = client.post(
        reverse("profile_edit"), _form(councillor, **{field: _days_from_today(days)})
    )
    assert response.status_code == 200
    assert "Check the year." in _error_text(response.text, f"id_{field}")
    councillor.refresh_from_db()
    assert (councillor.first_elected, councillor.term_ends) == (None, None)


def test_plausible_dates_are_saved(client, councillor):
    client.force_login(councillor.user)
    first, ends = _days_from_today(0), _days_from_today(4 * 365)
    data = _form(councillor, first_elected=first, term_ends=ends)
    data.update(
        {
            "positions-TOTAL_FORMS": "1",
            "positions-0-title": "Group whip",
            "positions-0-start_date": first,
        }
    )
    assert client.post(reverse("profile_edit"), data).status_code == 302
    councillor.refresh_from_db()
    assert (councillor.first_elected.isoformat(), councillor.term_ends.isoformat()) == (first, ends)
    assert councillor.positions.get().start_date.isoformat() == first


def test_dates_are_typed_and_shown_the_british_way_whatever_the_browser(client, councillor):
    Councillor.objects.filter(pk=councillor.pk).update(first_elected=datetime.date(2022, 5, 5))
    client.force_login(councillor.user)
    html = client.get(reverse("profile_edit")).text
    controls = {
        name: re.search(rf'<input\b[^>]*\bname="{name}"[^>]*>', html).group(0)
        for name in ["first_elected", "term_ends", "positions-0-start_date"]
    }
    # Plain text boxes: a browser's date picker would show its own locale's order (12/07/2026).
    assert all('type="text"' in control for control in controls.values())
    assert 'value="5 May 2022"' in controls["first_elected"]
    assert "For example, 7 December 2026 or 07/12/2026." in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("start_date", lambda: "9999-12-31", "Check the year."),
        ("start_date", lambda: "0001-01-01", "between 1 January 1900 and"),
        ("start_date", lambda: _days_from_today(1), "Check the year."),
        ("title", lambda: "Whip {chief}", NAME_CHARACTERS),
        ("title", lambda: "Whip\x00", "Null characters are not allowed."),
        ("title", lambda: "Chief\x07whip", NAME_CHARACTERS),
        ("title", lambda: "<i>Leader</i>", NAME_CHARACTERS),
    ],
)
def test_bad_position_gets_a_message_next_to_the_field(client, councillor, field, value, message):
    client.force_login(councillor.user)
    data = _form(councillor)
    data.update(
        {
            "positions-TOTAL_FORMS": "1",
            "positions-0-title": "Group whip",
            "positions-0-start_date": "2024-05-20",
            f"positions-0-{field}": value(),
        }
    )
    response = client.post(reverse("profile_edit"), data)
    assert response.status_code == 200
    assert message in _error_text(response.text, f"id_positions-0-{field}")
    assert not Position.objects.exists()


def _error_summary(page: str) -> str:
    return page.split('<div class="error-summary')[1].split("</div>")[0]


def test_a_refused_edit_opens_on_a_summary_linking_to_each_field_with_an_error(client, councillor):
    client.force_login(councillor.user)
    data = _form(councillor, full_name="", phone="call me", **{"positions-TOTAL_FORMS": "1"})
    data |= {"positions-0-title": "", "positions-0-start_date": "not a date"}
    response = client.post(reverse("profile_edit"), data)

    assert response.status_code == 200
    summary = _error_summary(response.text)
    assert 'tabindex="-1"' in summary and "data-error-summary" in summary
    assert "Your profile was not saved." in summary
    assert '<a href="#id_full_name">' in summary
    assert '<a href="#id_phone">Phone' in summary
    assert '<a href="#id_positions-0-start_date">Position 1, ' in summary
    assert "#id_ward" not in summary
    # Each link leads to a field that is on the page, with its error beside it.
    for target in re.findall(r'href="#([^"]+)"', summary):
        assert f'id="{target}"' in response.text
        assert f'id="{target}_error"' in response.text
    assert "js/error_summary.js" in response.text
