"""Home pages as lists of what waits: each count is counted as the page it links to lists it,
and what is done says so in a line."""

import datetime
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import resolve, reverse
from django.utils import timezone
from factories import (
    CampaignFactory,
    CouncillorFactory,
    ElectionFactory,
    GroupOfficerFactory,
    LevyWaiverFactory,
    MailingFactory,
    RepresentativeFactory,
    StaffFactory,
    SuppressionFactory,
)

from campaigns.models import Delivery, Mailing
from members.models import Decision, JoinRequest, StaffRole
from members.services.accounts import two_factor_enrol
from members.todo import profile_gaps
from regions.models import Council, Region, RegionalRepresentative

pytestmark = pytest.mark.django_db


@pytest.fixture
def london(gb_councils):
    return Region.objects.get(slug="london")


@pytest.fixture
def camden(gb_councils):
    return Council.objects.get(gss_code="E09000007")


def _home(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response


def _listed(client, url) -> int:
    """How many things the page at `url` lists: the councils of a filtered region page, the
    people yet to sign in, the pending requests, the mailings or the suppressed addresses."""
    response = client.get(url)
    assert response.status_code == 200, url
    name = resolve(urlsplit(url).path).url_name
    context = response.context
    if name == "region":
        table = context["parts"]["councils"].split('<table class="councils">')[1]
        return table.split("</table>")[0].count('<th scope="row">')
    if name == "region_invitations_resend":
        return len(context["waiting"])
    if name in ("mailings", "suppressions"):
        return context["page"].paginator.count
    if name == "campaigns":
        return len(context["campaigns"])
    return len(context["pending"])


def _join_request(council, **fields):
    n = JoinRequest.objects.count()
    return JoinRequest.objects.create(
        full_name=f"Joiner {n}", email=f"joiner{n}@example.org", council=council, ward="W", **fields
    )


# The councillor's list.


def test_a_councillor_is_told_what_their_profile_lacks_until_it_is_filled_in(client, camden):
    councillor = CouncillorFactory(council=camden, ward="Kentish Town South", phone="", bio="")
    page = _home(client, councillor.user).text
    assert 'id="profile-gaps"' in page
    for _field, what in profile_gaps(councillor):
        assert f"Add {what}" in page
    assert "Add a phone number" in page

    councillor.phone = "020 7946 0000"
    councillor.save()
    page = _home(client, councillor.user).text
    assert "Add a phone number" not in page
    assert "Add a short public bio" in page

    councillor.bio = "Councillor for Kentish Town."
    councillor.first_elected = datetime.date(2022, 5, 5)
    councillor.term_ends = datetime.date(2026, 5, 7) + datetime.timedelta(days=365 * 4)
    councillor.save()
    page = _home(client, councillor.user).text
    assert 'id="profile-gaps"' not in page
    assert "every detail filled in" in page


def test_a_councillor_without_two_factor_is_asked_to_turn_it_on(client, camden):
    councillor = CouncillorFactory(council=camden)
    assert 'id="two-factor-prompt"' in _home(client, councillor.user).text
    two_factor_enrol(user=councillor.user, totp_secret="JBSWY3DPEHPK3PXPTESTSECRET234567")
    assert 'id="two-factor-prompt"' not in _home(client, councillor.user).text


def test_a_councillor_sees_their_group_officers_and_the_offices_nobody_holds(client, camden):
    group = camden.labour_group
    GroupOfficerFactory(group=group, role="leader", user__full_name="Georgia Leader")
    councillor = CouncillorFactory(council=camden)
    page = _home(client, councillor.user).text
    assert group.name in page
    assert "leader Georgia Leader" in page
    assert "secretary <em>not recorded</em>" in page


def test_a_councillor_sees_their_councils_next_election_and_their_levy_waiver(client, camden):
    camden.elections.all().delete()
    ElectionFactory(council=camden, date=datetime.date(2030, 5, 2), seats_up=55, labour_seats_up=40)
    councillor = CouncillorFactory(council=camden)
    page = _home(client, councillor.user).text
    assert "next votes on 2 May 2030: 55 seats up, 40 of them Labour" in page
    assert "You have not applied for a levy waiver" in page

    LevyWaiverFactory(councillor=councillor, year=2026)
    assert "levy waiver application for 2026 waits" in _home(client, councillor.user).text


def test_a_councillor_counts_the_campaigns_the_campaign_list_shows(client, camden):
    CampaignFactory.create_batch(3)
    councillor = CouncillorFactory(council=camden)
    [task] = _home(client, councillor.user).context["councillor_tasks"]
    assert task.count == 3 == _listed(client, task.url)


# The representative's lists.


def _region_counts(client, rep):
    [(_region, tasks)] = _home(client, rep.user).context["represented_regions"]
    for task in tasks:
        assert task.count == _listed(client, task.url), task.url
    return {task.heading: task.count for task in tasks}


def test_each_region_count_is_exactly_what_its_link_lists(client, london, camden):
    rep = RepresentativeFactory(region=london)
    before = _region_counts(client, rep)
    assert before["No leader"] > 0 and before["Election within 12 months"] >= 0

    group = camden.labour_group
    had_address = bool(group.contact_email)
    GroupOfficerFactory(group=group, role="leader")
    GroupOfficerFactory(group=group, role="secretary")
    group.contact_email = ""
    group.save()
    invited = CouncillorFactory(council=camden).user
    invited.password = make_password(None)
    invited.save()

    after = _region_counts(client, rep)
    assert after["No leader"] == before["No leader"] - 1
    assert after["No secretary"] == before["No secretary"] - 1
    assert after["No contact address"] == before["No contact address"] + had_address
    assert after["Yet to sign in"] == before["Yet to sign in"] + 1


def test_the_decisions_waiting_say_how_long_the_oldest_has_waited(client, camden):
    rep = RepresentativeFactory(region=camden.region)
    _join_request(camden, requested_at=timezone.now() - datetime.timedelta(days=9))
    _join_request(camden)
    _join_request(camden, status=Decision.REFUSED)
    response = _home(client, rep.user)
    join, changes = response.context["decision_tasks"]
    assert join.count == 2 and "9 days" in join.note
    assert join.url == reverse("join_requests")
    assert changes.count == 0 and "No council or ward changes wait." in response.text
    assert _listed(client, join.url) == 2


def test_a_representative_counts_their_regions_mailings_as_the_list_filters_them(client, london):
    rep = RepresentativeFactory(region=london)
    MailingFactory(owner_region=london, status=Mailing.Status.AWAITING_APPROVAL)
    MailingFactory(owner_region=london, status=Mailing.Status.SCHEDULED)
    MailingFactory(owner_region=Region.objects.get(slug="wales"), status="scheduled")
    tasks = _home(client, rep.user).context["mailing_tasks"]
    assert [t.count for t in tasks] == [1, 1, 0, 0]
    for task in tasks:
        assert task.count == _listed(client, task.url)


# The national office's lists.


def test_staff_see_each_region_without_a_representative_with_an_appoint_action(client, london):
    RepresentativeFactory(region=london)
    response = _home(client, StaffFactory())
    without = response.context["regions_without_representative"]
    assert len(without) == 10 and london not in without
    for region in without:
        assert reverse("representative_appoint", args=[region.slug]) in response.text


def test_staff_appoint_a_representative_by_choosing_a_councillor(client, london, camden):
    serving = CouncillorFactory(council=camden, user__full_name="Sam Serving")
    CouncillorFactory(council=camden, user__full_name="Lee Left", left_on=datetime.date(2024, 5, 2))
    CouncillorFactory(
        council=Council.objects.get(gss_code="W06000015"), user__full_name="Cai Cardiff"
    )
    colleague = CouncillorFactory(council=camden, user__full_name="Sol Staff").user
    StaffRole.objects.create(user=colleague)
    client.force_login(StaffFactory())
    url = reverse("representative_appoint", args=["london"])
    page = client.get(url)
    names = [person.full_name for person in page.context["form"].fields["person"].queryset]
    assert names == ["Sam Serving"]

    response = client.post(url, {"person": serving.user.pk})
    assert response.status_code == 302
    assert RegionalRepresentative.objects.current().filter(user=serving.user, region=london)
    # Appointed, they are no longer offered; nobody else is, and the page says what to do.
    page = client.get(url)
    assert 'id="no-candidates"' in page.text
    assert reverse("import_upload", args=["london"]) in page.text


def test_choosing_nobody_is_refused_with_a_message(client, london, camden):
    CouncillorFactory(council=camden)
    client.force_login(StaffFactory())
    response = client.post(reverse("representative_appoint", args=["london"]), {"person": ""})
    assert response.status_code == 200
    assert "Choose who to appoint." in response.text
    assert not RegionalRepresentative.objects.filter(region=london).exists()


def test_staff_count_mailings_and_bounces_as_their_lists_show_them(client, london):
    staff = StaffFactory()
    for status in ["awaiting_approval", "scheduled", "scheduled", "sending", "paused", "sent"]:
        MailingFactory(owner_region=london, status=status)
    failed = MailingFactory(status=Mailing.Status.SENT)
    Delivery.objects.create(mailing=failed, email="a@example.org", status=Delivery.Status.FAILED)
    SuppressionFactory(reason="bounced")
    SuppressionFactory(reason="bounced", created_at=timezone.now() - datetime.timedelta(days=8))
    SuppressionFactory(reason="unsubscribed")
    tasks = _home(client, staff).context["mailing_tasks"]
    assert [t.count for t in tasks] == [1, 2, 2, 1, 1]
    for task in tasks:
        assert task.count == _listed(client, task.url), task.url


def test_staff_see_every_regions_queues_each_linking_to_its_list(client, london):
    response = _home(client, StaffFactory())
    rows = dict(response.context["region_rows"])
    assert len(rows) == 11
    for tasks in rows.values():
        assert [t.heading for t in tasks][-1] == "Yet to sign in"
    for task in rows[london]:
        assert task.count == _listed(client, task.url), task.url


def test_staff_see_imports_in_progress(client, london):
    from members.models import CouncillorImport

    staff = StaffFactory()
    CouncillorImport.objects.create(
        region=london, uploaded_by=staff, filename="london.csv", status="running", total_rows=9
    )
    CouncillorImport.objects.create(
        region=london, uploaded_by=staff, filename="old.csv", status="done", total_rows=9
    )
    page = _home(client, staff).text
    assert "london.csv" in page and "old.csv" not in page
