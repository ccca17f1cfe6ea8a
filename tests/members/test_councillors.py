"""The councillors of a council: listing, adding, editing, marking as no longer serving."""

import datetime
import re

import pytest
from accessibility import assert_accessible
from allauth.account.models import EmailAddress
from browsing import log_in
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from factories import (
    PASSWORD,
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    GroupOfficerFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
)
from polling import wait_for

from members.models import Councillor, JoinRequest, User
from members.services import councillors
from members.tokens import invitation_token_generator
from regions.models import CouncilGroup, GroupOfficer

pytestmark = pytest.mark.django_db


@pytest.fixture
def council():
    return CouncilFactory(region=RegionFactory(name="Region X", slug="region-x"), slug="oakfield")


@pytest.fixture
def rep_client(client, council):
    client.force_login(RepresentativeFactory(region=council.region).user)
    return client


def _table(page, caption_id):
    found = re.search(rf'<caption id="{caption_id}">.*?</table>', page, re.S)
    assert found, f"no table {caption_id}"
    return found.group(0)


def test_list_shows_serving_councillors_only(rep_client, council):
    CouncillorFactory(council=council, user__full_name="Ada Lovelace")
    CouncillorFactory(council=council, user__full_name="Gone Person", left_on="2024-05-01")
    response = rep_client.get(reverse("council_councillors", args=["oakfield"]))
    serving = _table(response.text, "councillors-caption")
    assert "Ada Lovelace" in serving
    assert "Gone Person" not in serving
    assert [c.user.full_name for c in response.context["councillors"]] == ["Ada Lovelace"]


def test_rep_adds_a_councillor_who_is_queued_an_invitation(
    rep_client, council, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = rep_client.post(
            reverse("councillor_add", args=["oakfield"]),
            {
                "full_name": "Mary Seacole",
                "email": "Mary@Example.org",
                "ward": "South",
                "phone": "",
            },
        )
    assert response.status_code == 302
    councillor = Councillor.objects.select_related("user").get(user__email="mary@example.org")
    assert (councillor.user.full_name, councillor.council, councillor.ward) == (
        "Mary Seacole",
        council,
        "South",
    )
    assert not councillor.user.has_usable_password()
    assert JoinRequest.objects.get(email="mary@example.org").status == "approved"
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "M" * 151, "at most 150 characters"),
        ("full_name", '<img src=x onerror="alert(1)">', "cannot contain"),
        ("email", "mary at example", "Enter a valid email address"),
        ("phone", "not a phone", "phone number"),
        ("phone", "1" * 31, "at most 30 characters"),
        ("ward", "<b>Ward</b>", "cannot contain"),
    ],
)
def test_bad_input_when_adding_is_explained_next_to_the_field(
    rep_client, council, field, value, message
):
    data = {"full_name": "Mary Seacole", "email": "mary@example.org", "ward": "South", "phone": ""}
    response = rep_client.post(reverse("councillor_add", args=["oakfield"]), {**data, field: value})
    assert response.status_code == 200
    errors = re.search(
        rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', response.text, re.S
    )
    assert errors and message in errors.group(1)
    assert 'onerror="alert(1)"' not in response.text
    assert not User.objects.filter(email="mary@example.org").exists()


def test_adding_an_existing_email_is_refused(rep_client, council):
    CouncillorFactory(user__email="mary@example.org")
    response = rep_client.post(
        reverse("councillor_add", args=["oakfield"]),
        {"full_name": "Mary Seacole", "email": "mary@example.org", "ward": "South", "phone": ""},
    )
    assert "already has an account" in response.text
    assert User.objects.filter(email="mary@example.org").count() == 1


def test_rep_edits_name_ward_and_phone(rep_client, council):
    target = CouncillorFactory(council=council, user__full_name="Ada L", ward="Old")
    response = rep_client.post(
        reverse("councillor_edit", args=["oakfield", target.pk]),
        {"full_name": "Ada Lovelace", "ward": "New Ward", "phone": "+44 20 7946 0000"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    target.user.refresh_from_db()
    assert (target.user.full_name, target.ward, target.phone) == (
        "Ada Lovelace",
        "New Ward",
        "+44 20 7946 0000",
    )
    assert target.history.first().history_change_reason == "Edited by a representative"


def test_marking_as_no_longer_a_councillor_needs_the_confirm_box(rep_client, council):
    target = CouncillorFactory(council=council)
    url = reverse("councillor_leave", args=["oakfield", target.pk])
    response = rep_client.post(url, {"left_on": "2026-05-08"})
    assert "Tick the box to confirm" in response.text
    target.refresh_from_db()
    assert target.left_on is None

    rep_client.post(url, {"left_on": "2026-05-08", "confirm": "on"})
    target.refresh_from_db()
    assert target.left_on.isoformat() == "2026-05-08"
    assert not Councillor.objects.serving().filter(pk=target.pk).exists()


@pytest.mark.parametrize("count", [20, 2000])
def test_list_makes_a_fixed_number_of_queries(
    rep_client, council, count, django_assert_max_num_queries
):
    users = User.objects.bulk_create(
        User(email=f"bulk-{n}@example.org", full_name=f"Person {n}", password="!")
        for n in range(count)
    )
    # Half serving, half former: both tables grow.
    Councillor.objects.bulk_create(
        Councillor(
            user=user,
            council=council,
            ward=f"Ward {n}",
            left_on=datetime.date(2024, 5, 1) if n % 2 else None,
        )
        for n, user in enumerate(users)
    )
    with django_assert_max_num_queries(15):
        response = rep_client.get(reverse("council_councillors", args=["oakfield"]))
    assert response.text.count("/edit/") == count
    assert response.text.count("/reinstate/") == count // 2


def test_adding_another_members_second_address_is_refused(rep_client, council):
    member = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=member, email="mary@example.org", verified=True)
    response = rep_client.post(
        reverse("councillor_add", args=["oakfield"]),
        {"full_name": "Mary Seacole", "email": "Mary@example.org", "ward": "South", "phone": ""},
    )
    assert response.status_code == 200
    errors = re.search(r'<ul class="errorlist" id="id_email_error">(.*?)</ul>', response.text, re.S)
    assert errors and "already has an account" in errors.group(1)
    assert not User.objects.filter(email="mary@example.org").exists()
    assert not JoinRequest.objects.exists()


def test_the_service_refuses_a_confirmed_second_address_too(council):
    member = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=member, email="mary@example.org", verified=True)
    with pytest.raises(ValidationError):
        councillors.councillor_add(
            council=council, full_name="Mary", email="MARY@example.org", ward="S", phone="", by=None
        )
    assert not User.objects.filter(email="mary@example.org").exists()


# Leaving


def test_marking_as_left_ends_their_group_offices_on_that_date(rep_client, council):
    group = CouncilGroupFactory(council=council)
    target = CouncillorFactory(council=council)
    colleague = CouncillorFactory(council=council)
    started = datetime.date(2025, 5, 12)
    leader = GroupOfficerFactory(group=group, role="leader", user=target.user, start_date=started)
    whip = GroupOfficerFactory(group=group, role="chief_whip", user=target.user, start_date=started)
    secretary = GroupOfficerFactory(group=group, role="secretary", user=colleague.user)
    assert not CouncilGroup.objects.without_current(GroupOfficer.Role.LEADER).exists()

    response = rep_client.post(
        reverse("councillor_leave", args=["oakfield", target.pk]),
        {"left_on": "2026-05-08", "confirm": "on"},
    )

    assert response.status_code == 302
    left = datetime.date(2026, 5, 8)
    for office in (leader, whip):
        office.refresh_from_db()
        assert office.end_date == left
        latest = office.history.first()
        assert latest.history_change_reason == "Term ended: no longer a councillor"
        assert str(latest.history_user_id) == rep_client.session["_auth_user_id"]
    secretary.refresh_from_db()
    assert secretary.end_date is None
    assert list(CouncilGroup.objects.without_current(GroupOfficer.Role.LEADER)) == [group]
    assert not GroupOfficer.objects.current().filter(user=target.user).exists()


def test_an_office_that_began_after_the_leaving_date_ends_the_day_it_began(council):
    group = CouncilGroupFactory(council=council)
    target = CouncillorFactory(council=council)
    began = timezone.localdate() - datetime.timedelta(days=3)
    office = GroupOfficerFactory(group=group, user=target.user, start_date=began)

    councillors.councillor_mark_left(councillor=target, left_on=datetime.date(2024, 1, 1))

    office.refresh_from_db()
    assert office.end_date == began
    target.refresh_from_db()
    assert target.left_on == datetime.date(2024, 1, 1)


def test_marking_as_left_refuses_a_future_date_next_to_the_field(rep_client, council):
    group = CouncilGroupFactory(council=council)
    target = CouncillorFactory(council=council)
    office = GroupOfficerFactory(group=group, user=target.user)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = rep_client.post(
        reverse("councillor_leave", args=["oakfield", target.pk]),
        {"left_on": tomorrow.isoformat(), "confirm": "on"},
    )

    assert response.status_code == 200
    errors = re.search(
        r'<ul class="errorlist" id="id_left_on_error">(.*?)</ul>', response.text, re.S
    )
    assert errors and "cannot be in the future" in errors.group(1)
    assert re.search(r'aria-describedby="[^"]*id_left_on_error', response.text)
    target.refresh_from_db()
    office.refresh_from_db()
    assert target.left_on is None
    assert office.end_date is None
    assert Councillor.objects.serving().filter(pk=target.pk).exists()


def test_the_service_refuses_a_future_leaving_date_too(council):
    target = CouncillorFactory(council=council)
    with pytest.raises(ValidationError) as refused:
        councillors.councillor_mark_left(
            councillor=target, left_on=timezone.localdate() + datetime.timedelta(days=30)
        )
    assert "left_on" in refused.value.message_dict
    target.refresh_from_db()
    assert target.left_on is None


def test_today_is_an_allowed_leaving_date(rep_client, council):
    target = CouncillorFactory(council=council)
    rep_client.post(
        reverse("councillor_leave", args=["oakfield", target.pk]),
        {"left_on": timezone.localdate().isoformat(), "confirm": "on"},
    )
    target.refresh_from_db()
    assert target.left_on == timezone.localdate()


# Phone numbers


@pytest.mark.parametrize("phone", ["0207 946", "946 0000", "+44 20 7946 0000 0000 00"])
def test_rep_cannot_give_a_phone_number_with_too_few_or_too_many_digits(rep_client, council, phone):
    target = CouncillorFactory(council=council, phone="")
    for url, data in [
        (
            reverse("councillor_add", args=["oakfield"]),
            {"full_name": "Mary Seacole", "email": "mary@example.org", "ward": "S"},
        ),
        (
            reverse("councillor_edit", args=["oakfield", target.pk]),
            {"full_name": "Ada Lovelace", "ward": "S"},
        ),
    ]:
        response = rep_client.post(url, {**data, "phone": phone})
        assert response.status_code == 200
        errors = re.search(
            r'<ul class="errorlist" id="id_phone_error">(.*?)</ul>', response.text, re.S
        )
        assert errors and "10 to 15 digits" in errors.group(1)
    target.refresh_from_db()
    assert target.phone == ""
    assert not User.objects.filter(email="mary@example.org").exists()


def test_an_old_short_phone_number_does_not_stop_a_rep_saving_other_changes(rep_client, council):
    target = CouncillorFactory(council=council, phone="946 0000", ward="Old")
    url = reverse("councillor_edit", args=["oakfield", target.pk])

    page = rep_client.get(url).text
    help_text = re.search(r'<p class="help" id="id_phone_helptext">(.*?)</p>', page, re.S)
    assert help_text and "does not look complete or valid" in help_text.group(1)
    assert re.search(r'aria-describedby="[^"]*id_phone_helptext', page)

    response = rep_client.post(
        url, {"full_name": target.user.full_name, "ward": "New", "phone": "946 0000"}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.ward, target.phone) == ("New", "946 0000")

    # A changed number must follow the rule.
    response = rep_client.post(
        url, {"full_name": target.user.full_name, "ward": "New", "phone": "946 0001"}
    )
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.phone == "946 0000"


# Former councillors: listed for those who manage them, and reinstated if marked by mistake.


def test_rep_sees_former_councillors_with_edit_and_reinstate_but_no_history(rep_client, council):
    gone = CouncillorFactory(
        council=council, user__full_name="Gone Person", left_on=datetime.date(2024, 5, 1)
    )
    CouncillorFactory(council=council, user__full_name="Still Serving")
    CouncillorFactory(user__full_name="Elsewhere Gone", left_on=datetime.date(2024, 5, 1))

    response = rep_client.get(reverse("council_councillors", args=["oakfield"]))

    former = _table(response.text, "former-caption")
    assert "Gone Person" in former and "1 May 2024" in former
    assert "Still Serving" not in former and "Elsewhere Gone" not in former
    assert reverse("councillor_edit", args=["oakfield", gone.pk]) in former
    assert reverse("councillor_reinstate", args=["oakfield", gone.pk]) in former
    assert reverse("councillor_history", args=[gone.pk]) not in former
    assert [c.pk for c in response.context["former"]] == [gone.pk]


def test_staff_see_the_history_link_of_a_former_councillor(client, council):
    gone = CouncillorFactory(council=council, left_on=datetime.date(2024, 5, 1))
    client.force_login(StaffFactory())
    page = client.get(reverse("council_councillors", args=["oakfield"])).text
    former = _table(page, "former-caption")
    assert reverse("councillor_history", args=[gone.pk]) in former
    assert client.get(reverse("councillor_history", args=[gone.pk])).status_code == 200


def test_councillors_do_not_see_former_colleagues(client, council):
    CouncillorFactory(council=council, user__full_name="Gone Person", left_on="2024-05-01")
    client.force_login(CouncillorFactory(council=council).user)
    response = client.get(reverse("council_councillors", args=["oakfield"]))
    assert response.status_code == 200
    assert "Gone Person" not in response.text
    assert "Former councillors" not in response.text
    assert not response.context["former"]


def test_rep_reinstates_a_councillor_marked_by_mistake(rep_client, council):
    target = CouncillorFactory(council=council, user__full_name="Ada Lovelace")
    leave = reverse("councillor_leave", args=["oakfield", target.pk])
    rep_client.post(leave, {"left_on": "2026-05-08", "confirm": "on"})
    target.refresh_from_db()
    assert target.left_on is not None

    response = rep_client.post(
        reverse("councillor_reinstate", args=["oakfield", target.pk]), follow=True
    )

    assert "Ada Lovelace is listed as serving again" in response.text
    target.refresh_from_db()
    assert target.left_on is None
    latest = target.history.first()
    assert latest.history_change_reason == "Reinstated: a serving councillor again"
    assert str(latest.history_user_id) == rep_client.session["_auth_user_id"]
    assert "Ada Lovelace" in _table(response.text, "councillors-caption")
    assert "Ada Lovelace" not in _table(response.text, "former-caption")


def test_reinstating_a_serving_councillor_changes_nothing(rep_client, council):
    target = CouncillorFactory(council=council)
    before = target.history.count()
    response = rep_client.post(
        reverse("councillor_reinstate", args=["oakfield", target.pk]), follow=True
    )
    assert "already listed as a serving councillor" in response.text
    target.refresh_from_db()
    assert target.left_on is None
    assert target.history.count() == before


def test_reinstating_answers_only_post(rep_client, council):
    target = CouncillorFactory(council=council, left_on=datetime.date(2024, 5, 1))
    response = rep_client.get(reverse("councillor_reinstate", args=["oakfield", target.pk]))
    assert response.status_code == 405
    target.refresh_from_db()
    assert target.left_on == datetime.date(2024, 5, 1)


def test_rep_cannot_reinstate_a_former_councillor_of_another_region(rep_client, council):
    other_council = CouncilFactory(slug="elsewhere")
    other = CouncillorFactory(council=other_council, left_on=datetime.date(2024, 5, 1))
    for slug in ("oakfield", "elsewhere"):
        response = rep_client.post(reverse("councillor_reinstate", args=[slug, other.pk]))
        assert response.status_code == 404
    other.refresh_from_db()
    assert other.left_on == datetime.date(2024, 5, 1)


# Correcting an invitee's email address and sending the invitation again.


def _invitee(council, email="mary@exmaple.org", **kwargs):
    """Someone added by their representative who has not yet taken up the invitation."""
    councillor = CouncillorFactory(
        council=council, user__email=email, user__verified=False, **kwargs
    )
    councillor.user.set_unusable_password()
    councillor.user.save()
    return councillor


def _edit_data(councillor, **overrides):
    return {
        "full_name": councillor.user.full_name,
        "email": councillor.user.email,
        "ward": councillor.ward,
        "phone": "",
    } | overrides


def test_rep_corrects_an_invitees_email_and_a_new_invitation_is_queued(
    rep_client, council, django_capture_on_commit_callbacks
):
    target = _invitee(council)
    old_token = invitation_token_generator.make_token(target.user)
    url = reverse("councillor_edit", args=["oakfield", target.pk])

    with django_capture_on_commit_callbacks() as queued:
        response = rep_client.post(url, _edit_data(target, email="Mary@Example.org"), follow=True)

    assert "A new invitation is on its way to mary@example.org" in response.text
    user = User.objects.get(pk=target.user_id)
    assert user.email == "mary@example.org"
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified")) == [
        ("mary@example.org", False)
    ]
    assert len(queued) == 1
    invitation = JoinRequest.objects.get(email="mary@example.org")
    assert (invitation.status, invitation.council, invitation.invited_at) == (
        "approved",
        council,
        None,
    )
    # The link sent to the mistyped address no longer works.
    assert not invitation_token_generator.check_token(user, old_token)
    assert user.history.first().history_change_reason == (
        "Email address corrected by a representative"
    )


def test_correcting_a_former_invitees_email_sends_no_invitation(
    rep_client, council, django_capture_on_commit_callbacks
):
    target = _invitee(council, left_on=datetime.date(2024, 5, 1))
    with django_capture_on_commit_callbacks() as queued:
        response = rep_client.post(
            reverse("councillor_edit", args=["oakfield", target.pk]),
            _edit_data(target, email="mary@example.org"),
            follow=True,
        )
    assert "details have been saved" in response.text
    assert "invitation" not in response.text.split('class="messages"')[1].split("</div>")[0]
    assert User.objects.get(pk=target.user_id).email == "mary@example.org"
    assert queued == []
    assert not JoinRequest.objects.exists()


def test_an_unchanged_email_queues_no_invitation(
    rep_client, council, django_capture_on_commit_callbacks
):
    target = _invitee(council, email="mary@example.org")
    with django_capture_on_commit_callbacks() as queued:
        response = rep_client.post(
            reverse("councillor_edit", args=["oakfield", target.pk]),
            _edit_data(target, email="MARY@example.org", ward="New Ward"),
        )
    assert response.status_code == 302
    assert queued == []
    target.refresh_from_db()
    assert (target.user.email, target.ward) == ("mary@example.org", "New Ward")
    assert not JoinRequest.objects.exists()


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("ada@example.org", "already has an account"),
        ("ADA.WORK@example.org", "already has an account"),
        ("mary at example", "Enter a valid email address"),
        ("", "required"),
    ],
)
def test_an_invitees_email_cannot_be_corrected_to_a_taken_or_bad_address(
    rep_client, council, email, message
):
    member = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=member, email="ada.work@example.org", verified=True)
    target = _invitee(council)

    response = rep_client.post(
        reverse("councillor_edit", args=["oakfield", target.pk]), _edit_data(target, email=email)
    )

    assert response.status_code == 200
    errors = re.search(r'<ul class="errorlist" id="id_email_error">(.*?)</ul>', response.text, re.S)
    assert errors and message in errors.group(1)
    assert re.search(r'aria-describedby="[^"]*id_email_error', response.text)
    target.user.refresh_from_db()
    assert target.user.email == "mary@exmaple.org"
    assert EmailAddress.objects.get(user=target.user).email == "mary@exmaple.org"
    assert not JoinRequest.objects.exists()


def test_correcting_an_invitees_email_to_a_colleagues_says_whose_it_is(rep_client, council):
    elsewhere = CouncilFactory(region=council.region, name="Elmfield District Council")
    CouncillorFactory(council=elsewhere, user__email="ada@example.org", user__full_name="Ada L")
    other = CouncilFactory(region=RegionFactory(name="Region Y", slug="region-y"), name="Elmbridge")
    CouncillorFactory(council=other, user__email="yan@example.org", user__full_name="Yan Y")
    target = _invitee(council)
    url = reverse("councillor_edit", args=["oakfield", target.pk])

    def errors(email):
        page = rep_client.post(url, _edit_data(target, email=email)).text
        found = re.search(r'<ul class="errorlist" id="id_email_error">(.*?)</ul>', page, re.S)
        assert found, "no error next to the email field"
        return found.group(1)

    colleague_errors = errors("ada@example.org")
    assert "Ada L is already a councillor on Elmfield District Council." in colleague_errors
    elsewhere_errors = errors("yan@example.org")
    assert "a councillor on another council: ask the national office" in elsewhere_errors
    assert "Yan Y" not in elsewhere_errors and "Elmbridge" not in elsewhere_errors
    target.user.refresh_from_db()
    assert target.user.email == "mary@exmaple.org"


def test_email_is_read_only_once_they_have_logged_in(rep_client, council):
    target = CouncillorFactory(council=council, user__email="ada@example.org", ward="Old")
    User.objects.filter(pk=target.user_id).update(last_login=timezone.now())
    url = reverse("councillor_edit", args=["oakfield", target.pk])

    page = rep_client.get(url).text
    field = re.search(r"<input[^>]*name=\"email\"[^>]*>", page).group(0)
    assert "readonly" in field and "disabled" not in field
    assert 'value="ada@example.org"' in field
    assert "theirs to change" in page
    assert "Resend invitation" not in page

    response = rep_client.post(url, _edit_data(target, email="hijack@example.org", ward="New"))

    assert response.status_code == 302
    target.refresh_from_db()
    target.user.refresh_from_db()
    assert (target.user.email, target.ward) == ("ada@example.org", "New")
    assert not JoinRequest.objects.exists()


def test_email_is_read_only_for_someone_with_a_password(rep_client, council):
    target = CouncillorFactory(council=council, user__email="ada@example.org")
    page = rep_client.get(reverse("councillor_edit", args=["oakfield", target.pk])).text
    assert re.search(r'<input[^>]*name="email"[^>]*readonly', page)
    assert "Resend invitation" not in page


def test_the_service_refuses_to_change_the_email_of_someone_who_has_logged_in(council):
    target = _invitee(council)
    User.objects.filter(pk=target.user_id).update(last_login=timezone.now())
    target.user.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        councillors.councillor_email_correct(
            councillor=target, email="mary@example.org", by=UserFactory()
        )
    assert "email" in refused.value.message_dict
    target.user.refresh_from_db()
    assert target.user.email == "mary@exmaple.org"


def test_rep_resends_an_invitation_once_per_click(
    rep_client, council, django_capture_on_commit_callbacks
):
    target = _invitee(council, email="mary@example.org")
    edit = reverse("councillor_edit", args=["oakfield", target.pk])
    page = rep_client.get(edit).text
    resend = reverse("councillor_invitation_resend", args=["oakfield", target.pk])
    assert f'action="{resend}"' in page and "Resend invitation" in page

    with django_capture_on_commit_callbacks() as queued:
        response = rep_client.post(resend, follow=True)
    assert "A new invitation is on its way to mary@example.org" in response.text
    assert len(queued) == 1
    record = JoinRequest.objects.get()
    assert (record.email, record.status, str(record.decided_by_id)) == (
        "mary@example.org",
        "approved",
        rep_client.session["_auth_user_id"],
    )

    # A second click while that one is still on its way sends nothing more.
    with django_capture_on_commit_callbacks() as queued:
        response = rep_client.post(resend, follow=True)
    assert "already on its way" in response.text
    assert queued == []
    assert JoinRequest.objects.count() == 1


def test_no_invitation_is_resent_to_someone_who_has_logged_in(
    rep_client, council, django_capture_on_commit_callbacks
):
    target = CouncillorFactory(council=council)
    with django_capture_on_commit_callbacks() as queued:
        response = rep_client.post(
            reverse("councillor_invitation_resend", args=["oakfield", target.pk]), follow=True
        )
    assert "no longer need an invitation" in response.text
    assert queued == []
    assert not JoinRequest.objects.exists()


def test_no_invitation_is_resent_to_a_former_councillor(rep_client, council):
    target = _invitee(council, left_on=datetime.date(2024, 5, 1))
    response = rep_client.post(
        reverse("councillor_invitation_resend", args=["oakfield", target.pk]), follow=True
    )
    assert "only to serving councillors" in response.text
    assert not JoinRequest.objects.exists()


def test_resending_answers_only_post(rep_client, council):
    target = _invitee(council)
    url = reverse("councillor_invitation_resend", args=["oakfield", target.pk])
    assert rep_client.get(url).status_code == 405
    assert not JoinRequest.objects.exists()


def _invitation_link(message):
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://127.0.0.1:8000(/invitation/\S+/\S+/)", body).group(1)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_mistyped_invitee_is_corrected_invited_again_and_signs_up(
    client, celery_worker, worker_smtp
):
    council = CouncilFactory(name="Oakfield Borough Council", short_name="Oakfield")
    rep = RepresentativeFactory(region=council.region).user
    client.force_login(rep)
    client.post(
        reverse("councillor_add", args=[council.slug]),
        {"full_name": "Mary Seacole", "email": "mary@exmaple.org", "ward": "South", "phone": ""},
    )
    target = Councillor.objects.get(user__email="mary@exmaple.org")

    def to(address):
        return lambda: [m for m in worker_smtp.messages if m.rcpt_tos == [address]]

    [ghost] = wait_for(to("mary@exmaple.org"), timeout=30)

    # While the invitation sent to the mistyped address still works, only the national office
    # may point the account elsewhere: whoever holds that address might be its owner.
    edit = reverse("councillor_edit", args=[council.slug, target.pk])
    corrected_data = {
        "full_name": "Mary Seacole",
        "email": "mary@example.org",
        "ward": "South",
        "phone": "",
    }
    assert "only the national office" in client.get(edit).text
    client.force_login(StaffFactory())
    client.post(edit, corrected_data)
    client.force_login(rep)
    [corrected] = wait_for(to("mary@example.org"), timeout=30)
    assert "Oakfield Borough Council" in corrected.get_body(("plain",)).get_content()
    wait_for(
        lambda: (
            not JoinRequest.objects.filter(
                email="mary@example.org", invited_at__isnull=True
            ).exists()
        )
    )

    response = client.post(
        reverse("councillor_invitation_resend", args=[council.slug, target.pk]), follow=True
    )
    assert "A new invitation is on its way to mary@example.org" in response.text
    wait_for(lambda: len(to("mary@example.org")()) == 2, timeout=30)
    _corrected, resent = to("mary@example.org")()
    assert _invitation_link(resent).startswith("/invitation/")
    client.logout()

    # The link sent to the mistyped address is dead; the resent one sets the password.
    assert client.get(_invitation_link(ghost)).status_code == 400
    password = "a-long-new-password-77"
    response = client.post(
        _invitation_link(resent), {"new_password1": password, "new_password2": password}
    )
    assert response.status_code == 302
    mary = User.objects.get(email="mary@example.org")
    assert mary.check_password(password)
    assert EmailAddress.objects.get(user=mary).verified

    # Now signed in once, the address is hers: no more invitations.
    client.force_login(rep)
    response = client.post(
        reverse("councillor_invitation_resend", args=[council.slug, target.pk]), follow=True
    )
    assert "no longer need an invitation" in response.text
    assert JoinRequest.objects.filter(email="mary@example.org").count() == 2


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 320])
def test_rep_reinstates_and_reinvites_in_a_browser_by_keyboard(page, width):
    council = CouncilFactory(short_name="Oakfield", slug="oakfield")
    rep = RepresentativeFactory(region=council.region).user
    gone = CouncillorFactory(
        council=council, user__full_name="Gone Person", left_on=datetime.date(2024, 5, 1)
    )
    invitee = _invitee(council, email="mary@exmaple.org", user__full_name="Mary Seacole")
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, rep.email, PASSWORD)

    page.goto(reverse("council_councillors", args=["oakfield"]))
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    reinstate = page.get_by_role("button", name="Reinstate Gone Person as a serving councillor")
    reinstate.focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "listed as serving again" in page.locator(".messages").inner_text()
    gone.refresh_from_db()
    assert gone.left_on is None

    page.goto(reverse("councillor_edit", args=["oakfield", invitee.pk]))
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.get_by_label("Email address").fill("mary@example.org")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "new invitation is on its way to mary@example.org" in (
        page.locator(".messages").inner_text()
    )
    assert User.objects.get(pk=invitee.user_id).email == "mary@example.org"

    page.goto(reverse("councillor_edit", args=["oakfield", gone.pk]))
    email = page.get_by_label("Email address")
    assert email.get_attribute("readonly") is not None
    assert_accessible(page)


# Adding someone whose email address already has an account


def _add_errors(client, email, slug="oakfield"):
    response = client.post(
        reverse("councillor_add", args=[slug]),
        {"full_name": "Mary Seacole", "email": email, "ward": "South", "phone": ""},
    )
    assert response.status_code == 200
    errors = re.search(r'<ul class="errorlist" id="id_email_error">(.*?)</ul>', response.text, re.S)
    assert errors, "no error next to the email field"
    return errors.group(1)


def test_adding_a_councillor_of_another_council_in_the_region_names_the_council(
    rep_client, council
):
    elsewhere = CouncilFactory(region=council.region, name="Elmfield District Council")
    CouncillorFactory(council=elsewhere, user__email="mary@example.org", user__full_name="M S")
    errors = _add_errors(rep_client, "Mary@example.org")
    assert "already has an account" in errors
    assert "M S is already a councillor on Elmfield District Council." in errors
    assert Councillor.objects.filter(user__email="mary@example.org").count() == 1


def test_adding_someone_already_on_this_council_says_so(rep_client, council):
    CouncillorFactory(council=council, user__email="mary@example.org", user__full_name="M S")
    assert "M S is already a councillor on this council." in _add_errors(
        rep_client, "mary@example.org"
    )


def test_adding_a_former_councillor_of_the_region_offers_to_reinstate_them(rep_client, council):
    former = CouncillorFactory(
        council=council,
        user__email="mary@example.org",
        user__full_name="Mary <i>Seacole</i>",
        left_on=datetime.date(2024, 5, 2),
    )
    errors = _add_errors(rep_client, "mary@example.org")
    assert "Mary &lt;i&gt;Seacole&lt;/i&gt; was a councillor on this council until 2 May 2024" in (
        errors
    )
    link = reverse("council_councillors", args=["oakfield"]) + "#former-heading"
    assert f'<a href="{link}">Reinstate them' in errors
    # The link leads to the reinstate button for this person.
    listing = rep_client.get(link.split("#")[0]).text
    assert reverse("councillor_reinstate", args=["oakfield", former.pk]) in listing


def test_adding_a_councillor_of_another_region_reveals_only_that_they_serve_elsewhere(
    rep_client, council
):
    other = CouncilFactory(
        region=RegionFactory(name="Region Y", slug="region-y"), name="Elmbridge Council"
    )
    CouncillorFactory(council=other, user__email="mary@example.org", user__full_name="Mary Y")
    CouncillorFactory(
        council=other,
        user__email="gone@example.org",
        user__full_name="Gone Y",
        left_on="2024-05-02",
    )
    for email in ("mary@example.org", "gone@example.org"):
        errors = _add_errors(rep_client, email)
        assert "a councillor on another council: ask the national office to move them" in errors
        for secret in ("Mary Y", "Gone Y", "Elmbridge", "Region Y", "2024", "href"):
            assert secret not in errors


def test_adding_the_address_of_an_account_that_is_not_a_councillors_says_so(rep_client, council):
    StaffFactory(email="office@example.org")
    errors = _add_errors(rep_client, "office@example.org")
    assert "It is not a councillor" in errors and "national office to link it" in errors
    assert not Councillor.objects.filter(user__email="office@example.org").exists()


def test_staff_are_told_where_a_councillor_of_any_region_serves(client, council):
    client.force_login(StaffFactory())
    other = CouncilFactory(region=RegionFactory(slug="region-y"), name="Elmbridge Council")
    CouncillorFactory(council=other, user__email="mary@example.org", user__full_name="Mary Y")
    errors = _add_errors(client, "mary@example.org")
    assert "Mary Y is already a councillor on Elmbridge Council." in errors
