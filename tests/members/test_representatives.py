"""Staff appoint and remove regional representatives; the history is kept."""

import pytest
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone
from factories import RegionFactory, RepresentativeFactory, UserFactory
from polling import wait_for

from members.models import User
from members.services import representatives
from members.services.notices import notices_send_due
from members.services.representatives import representative_appoint
from regions.models import RegionalRepresentative

pytestmark = pytest.mark.django_db


def _cell(page, region_name):
    """The cells of the region's row in the representatives table: current, then former."""
    row = page.split(f'<th scope="row">{region_name}</th>')[1].split("</tr>")[0]
    return [cell.split("</td>")[0] for cell in row.split("<td>")[1:]]


def test_staff_see_current_and_former_representatives_by_region(staff_client):
    current = RepresentativeFactory(region=RegionFactory(name="Wales"), user__full_name="Rhian Rep")
    old = RepresentativeFactory(
        region=current.region,
        user__full_name="Old Rep",
        start_date="2018-03-01",
        end_date="2020-01-01",
    )
    page = staff_client.get(reverse("representatives")).text
    current_cell, former_cell = _cell(page, "Wales")
    assert "Rhian Rep" in current_cell and "Old Rep" not in current_cell
    assert "Old Rep, 1 Mar 2018 to 1 Jan 2020" in former_cell
    assert "Rhian Rep" not in former_cell
    # Every appointment, ended or not, links to its history, which staff can open.
    for appointment in (current, old):
        url = reverse("regions:history", args=["representative", appointment.pk])
        assert f'href="{url}"' in page
        assert staff_client.get(url).status_code == 200
    # Only a current appointment offers removal.
    assert f'href="{reverse("representative_remove", args=[current.pk])}"' in page
    assert f'href="{reverse("representative_remove", args=[old.pk])}"' not in page


def test_an_appointment_removed_today_is_listed_as_former(staff_client):
    appointment = RepresentativeFactory(
        region=RegionFactory(name="Wales"), user__full_name="Rhian Rep"
    )
    representatives.representative_remove(representative=appointment)
    current_cell, former_cell = _cell(staff_client.get(reverse("representatives")).text, "Wales")
    assert "None appointed." in current_cell
    assert "Rhian Rep" in former_cell


@pytest.mark.parametrize("count", [20, 2000])
def test_representatives_page_makes_a_fixed_number_of_queries(
    staff_client, count, django_assert_max_num_queries
):
    region = RegionFactory(name="Wales")
    users = User.objects.bulk_create(
        User(email=f"rep-{n}@example.org", full_name=f"Rep {n}", password="!") for n in range(count)
    )
    RegionalRepresentative.objects.bulk_create(
        RegionalRepresentative(
            user=user, region=region, start_date="2019-01-01", end_date="2020-01-01"
        )
        for user in users
    )
    with django_assert_max_num_queries(20):
        response = staff_client.get(reverse("representatives"))
    assert response.text.count("history<span") == count


def test_representatives_page_is_for_staff_only(client):
    client.force_login(RepresentativeFactory().user)
    assert client.get(reverse("representatives")).status_code == 403


def test_staff_appoint_an_existing_user_by_email(staff_client):
    region = RegionFactory(name="Wales")
    person = UserFactory(email="rhian@example.org")
    response = staff_client.post(
        reverse("representatives"), {"email": "Rhian@Example.org", "region": region.pk}
    )
    assert response.status_code == 302
    appointment = RegionalRepresentative.objects.current().get(region=region)
    assert appointment.user == person
    assert appointment.history.count() == 1


def test_appointing_an_unknown_email_is_explained(staff_client):
    region = RegionFactory(name="Wales")
    response = staff_client.post(
        reverse("representatives"), {"email": "nobody@example.org", "region": region.pk}
    )
    assert response.status_code == 200
    assert "Nobody with this email address has an account" in response.text
    assert not RegionalRepresentative.objects.exists()


def test_removing_ends_the_appointment_today_and_keeps_history(staff_client):
    appointment = RepresentativeFactory()
    response = staff_client.post(reverse("representative_remove", args=[appointment.pk]))
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.end_date == timezone.localdate()
    assert not RegionalRepresentative.objects.current().filter(pk=appointment.pk).exists()
    assert [h.history_change_reason for h in appointment.history.all()] == [
        "Appointment ended",
        None,
    ]
    # Removing twice (a double click, the back button) changes nothing, and says why.
    response = staff_client.post(
        reverse("representative_remove", args=[appointment.pk]), follow=True
    )
    assert response.redirect_chain == [(reverse("representatives"), 302)]
    assert "has already ended." in response.text
    assert appointment.history.count() == 2


class HistoryDown(Exception):
    pass


@pytest.fixture
def break_saving():
    """Call it to make every later save of an appointment fail just after its row is written."""

    def fail(**kwargs):
        raise HistoryDown

    yield lambda: post_save.connect(fail, sender=RegionalRepresentative, dispatch_uid="broken")
    post_save.disconnect(sender=RegionalRepresentative, dispatch_uid="broken")


def test_a_failed_removal_leaves_the_appointment_as_it_was(break_saving):
    appointment = RepresentativeFactory()
    break_saving()
    with pytest.raises(HistoryDown):
        representatives.representative_remove(representative=appointment)
    appointment.refresh_from_db()
    assert appointment.end_date is None


def test_a_failed_appointment_leaves_nothing_behind(break_saving):
    person, region = UserFactory(), RegionFactory(name="Wales")
    break_saving()
    with pytest.raises(HistoryDown):
        representative_appoint(user=person, region=region)
    assert not RegionalRepresentative.objects.exists()


def test_a_representative_refused_a_councillors_history_is_told_only_staff_see_it(client):
    from factories import CouncilFactory, CouncillorFactory

    appointment = RepresentativeFactory()
    councillor = CouncillorFactory(council=CouncilFactory(region=appointment.region))
    client.force_login(appointment.user)

    response = client.get(reverse("councillor_history", args=[councillor.pk]))

    assert response.status_code == 403
    assert "Only the national office can see a councillor&#x27;s change history" in response.text
    assert "regional representative" not in response.text.split("<main")[1]


def test_remove_asks_staff_to_confirm_naming_the_person_and_region(staff_client):
    appointment = RepresentativeFactory(
        region=RegionFactory(name="Wales"),
        user__full_name="Rhian Rep",
        user__email="rhian@example.org",
    )
    url = reverse("representative_remove", args=[appointment.pk])
    # The list links to the confirmation rather than removing at once.
    assert f'href="{url}"' in staff_client.get(reverse("representatives")).text

    response = staff_client.get(url)

    assert response.status_code == 200
    page = response.text
    assert "<h1>Remove Rhian Rep as representative for Wales?</h1>" in page
    assert "rhian@example.org" in page
    assert "They are emailed to say that they are no longer a representative for Wales" in page
    assert f'<form method="post" action="{url}">' in page
    assert f'href="{reverse("representatives")}"' in page
    appointment.refresh_from_db()
    assert appointment.end_date is None


def test_confirming_an_ended_appointment_goes_back_to_the_list_and_says_why(staff_client):
    appointment = RepresentativeFactory(user__full_name="Old Rep")
    representatives.representative_remove(representative=appointment)
    response = staff_client.get(
        reverse("representative_remove", args=[appointment.pk]), follow=True
    )
    assert response.redirect_chain == [(reverse("representatives"), 302)]
    assert "has already ended." in response.text


def test_a_removed_representative_is_told_by_email_once(
    mailoutbox, django_capture_on_commit_callbacks
):
    appointment = RepresentativeFactory(
        region=RegionFactory(name="Wales"), user__email="rhian@example.org"
    )
    with django_capture_on_commit_callbacks() as callbacks:
        representatives.representative_remove(representative=appointment)
    assert len(callbacks) == 1

    assert (notices_send_due(), notices_send_due()) == (1, 0)

    assert [m.to for m in mailoutbox] == [["rhian@example.org"]]
    assert "no longer a regional representative for Wales" in mailoutbox[0].subject
    assert "regional representative for Wales" in mailoutbox[0].body
    assert "has ended" in mailoutbox[0].body


def test_a_current_appointment_gets_no_removal_notice(mailoutbox):
    RepresentativeFactory()
    assert notices_send_due() == 0
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_staff_removing_a_representative_emails_them_through_the_worker(
    staff_client, celery_worker, worker_smtp
):
    appointment = RepresentativeFactory(
        region=RegionFactory(name="Eastern"), user__email="removed@example.org"
    )

    response = staff_client.post(reverse("representative_remove", args=[appointment.pk]))

    assert response.status_code == 302

    def notice():
        return [m for m in worker_smtp.messages if m.rcpt_tos == ["removed@example.org"]]

    [message] = wait_for(notice, timeout=60)
    assert "no longer a regional representative for Eastern" in message["Subject"]
