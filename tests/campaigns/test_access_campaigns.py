"""Who may use each campaigns page: every URL that shows or changes a campaign, a mailing, its
sending or the suppression list, by every role. Refused changes leave the database as it was.

Roles as in the other permission matrices: anonymous, councillor A (region X), councillor B
(region Y), the representatives of X and of Y, and staff; and two roles that have ended: a
councillor of A's council who has left (former_a) and a representative of X whose appointment is
over (ended_rep). Campaigns are for staff, current representatives and serving councillors, and
mailings for staff and current representatives, so both ended roles are refused as an account with
no role is: 404 for the campaign and the mailing they may not know of, 403 for pages that exist
for everyone but are not theirs to use. The mailing belongs to region X.

Each case is (name, method, url, data, expected statuses in ROLES order[, prepare]); `prepare`
puts the mailing in the state the action needs (sending, paused, scheduled...), so that an
allowed request really acts and a refused one really had something to refuse."""

import datetime

import pytest
from django.urls import resolve, reverse
from django.utils import timezone
from factories import (
    CampaignFactory,
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    MailingFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    SuppressionFactory,
    UserFactory,
)

from campaigns.models import (
    Adoption,
    Campaign,
    CampaignResource,
    Delivery,
    LetterPrint,
    Mailing,
    Suppression,
)
from regions.models import CouncilGroup

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous", "councillor_a", "councillor_b", "rep_x", "rep_y", "former_a", "ended_rep",
    "staff",
]  # fmt: skip
# Roles that have ended: they keep their account but lose what the role gave.
ENDED_ROLES = ["former_a", "ended_rep"]


@pytest.fixture
def world():
    x = RegionFactory(name="Region X")
    y = RegionFactory(name="Region Y")
    council_x = CouncilFactory(region=x)
    CouncilGroupFactory(council=council_x)
    campaign = CampaignFactory(slug="food")
    resource = CampaignResource.objects.create(
        campaign=campaign, title="Guide", url="https://example.org/guide"
    )
    adoption = Adoption.objects.create(
        campaign=campaign, council=council_x, adopted_on=datetime.date(2025, 1, 1)
    )
    mailing = MailingFactory(owner_region=x, regions=[x], subject="Region X news")
    suppression = SuppressionFactory(email="left@example.org")
    users = {
        "anonymous": None,
        "councillor_a": CouncillorFactory(council=council_x).user,
        "councillor_b": CouncillorFactory(council=CouncilFactory(region=y)).user,
        "rep_x": RepresentativeFactory(region=x).user,
        "rep_y": RepresentativeFactory(region=y).user,
        "former_a": CouncillorFactory(council=council_x, left_on=datetime.date(2025, 5, 8)).user,
        "ended_rep": RepresentativeFactory(
            region=x, start_date=datetime.date(2022, 5, 1), end_date=datetime.date(2025, 5, 1)
        ).user,
        "staff": StaffFactory(),
    }
    return {
        "x": x,
        "y": y,
        "council": council_x,
        "campaign": campaign,
        "resource": resource,
        "adoption": adoption,
        "mailing": mailing,
        "suppression": suppression,
        "users": users,
    }


def state():
    """Everything a refused request must leave alone."""
    mailings = list(
        Mailing.objects.order_by("pk").values_list(
            "pk", "subject", "status", "approved_by", "owner_region", "scheduled_for"
        )
    )
    regions = list(
        Mailing.regions.through.objects.order_by("pk").values_list("mailing_id", "region_id")
    )
    campaigns = list(Campaign.objects.order_by("pk").values_list("pk", "title", "summary"))
    return (
        mailings,
        regions,
        campaigns,
        CampaignResource.objects.count(),
        Adoption.objects.count(),
        list(Delivery.objects.order_by("pk").values_list("pk", "status", "attempts")),
        list(Suppression.objects.order_by("pk").values_list("pk", "email", "reason")),
        LetterPrint.objects.count(),
    )


def login(client, world, role):
    user = world["users"][role]
    if user:
        client.force_login(user)


def mailing_post(world, region):
    return {
        "subject": "Changed",
        "from_name": "ALC",
        "body": "Hello {{ group.name }}",
        "regions": [region.pk],
        "recipients": ["contact"],
    }


def with_letter(world):
    """The world's mailing sent, with one letter to print to region X's group."""
    mailing_in(Mailing.Status.SENT)(world)
    group = CouncilGroup.objects.get(council=world["council"])
    Delivery.objects.create(
        mailing=world["mailing"],
        channel=Delivery.Channel.POST,
        group=group,
        status=Delivery.Status.TO_PRINT,
        context={"group": {"name": group.name}, "postal_address": "Town Hall\nX1 1XX"},
    )


def mailing_in(status, *, failed=0, pending=0):
    """Put the world's mailing in `status`, with that many failed and pending deliveries."""

    def prepare(world):
        mailing = world["mailing"]
        started = status in (Mailing.Status.SENDING, Mailing.Status.PAUSED, Mailing.Status.SENT)
        Mailing.objects.filter(pk=mailing.pk).update(
            status=status,
            approved_by=world["users"]["staff"],
            started_at=timezone.now() if started else None,
            scheduled_for=(
                datetime.datetime(2040, 1, 1, tzinfo=datetime.UTC)
                if status == Mailing.Status.SCHEDULED
                else None
            ),
        )
        Delivery.objects.bulk_create(
            [
                Delivery(mailing=mailing, email=f"failed{n}@example.org", status="failed",
                         attempts=5, last_error="550 No such user")
                for n in range(failed)
            ]
            + [Delivery(mailing=mailing, email=f"waiting{n}@example.org") for n in range(pending)]
        )  # fmt: skip

    return prepare


# (name, method, url, data) -> expected status per role, in ROLES order.
def campaign_cases(w):
    slug = w["campaign"].slug
    council = CouncilFactory(region=w["x"])
    return [
        ("list", "get", reverse("campaigns:campaigns"), None,
         [302, 200, 200, 200, 200, 200, 200, 200]),
        ("detail", "get", reverse("campaigns:campaign", args=[slug]), None,
         [302, 200, 200, 200, 200, 404, 404, 200]),
        ("create form", "get", reverse("campaigns:campaign_create"), None,
         [302, 403, 403, 403, 403, 403, 403, 200]),
        ("create", "post", reverse("campaigns:campaign_create"),
         {"title": "New", "summary": "s", "body": ""}, [302, 403, 403, 403, 403, 403, 403, 302]),
        ("edit form", "get", reverse("campaigns:campaign_edit", args=[slug]), None,
         [302, 403, 403, 403, 403, 404, 404, 200]),
        ("edit", "post", reverse("campaigns:campaign_edit", args=[slug]),
         {"title": "Edited", "summary": "s", "body": ""}, [302, 403, 403, 403, 403, 404, 404, 302]),
        ("resource form", "get", reverse("campaigns:resource_add", args=[slug]), None,
         [302, 403, 403, 403, 403, 404, 404, 200]),
        ("resource add", "post", reverse("campaigns:resource_add", args=[slug]),
         {"title": "More", "url": "https://example.org/more"},
         [302, 403, 403, 403, 403, 404, 404, 302]),
        ("resource remove", "post",
         reverse("campaigns:resource_remove", args=[slug, w["resource"].pk]), {},
         [302, 403, 403, 403, 403, 404, 404, 302]),
        ("adoption form", "get", reverse("campaigns:adoption_add", args=[slug]), None,
         [302, 403, 403, 403, 403, 404, 404, 200]),
        ("adoption add", "post", reverse("campaigns:adoption_add", args=[slug]),
         {"council": council.pk, "adopted_on": "2025-02-02"},
         [302, 403, 403, 403, 403, 404, 404, 302]),
        ("adoption remove", "post",
         reverse("campaigns:adoption_remove", args=[slug, w["adoption"].pk]), {},
         [302, 403, 403, 403, 403, 404, 404, 302]),
        ("unknown campaign", "get", reverse("campaigns:campaign", args=["nope"]), None,
         [302, 404, 404, 404, 404, 404, 404, 404]),
    ]  # fmt: skip


def mailing_cases(w):
    pk = w["mailing"].pk
    when = {"when": "2040-01-01T09:00"}
    return [
        ("list", "get", reverse("campaigns:mailings"), None,
         [302, 403, 403, 200, 200, 403, 403, 200]),
        ("new form", "get", reverse("campaigns:mailing_create"), None,
         [302, 403, 403, 200, 200, 403, 403, 200]),
        # Addressed to region X: only X's representative (and staff) may write to it; Y's
        # representative gets the form back with the region refused.
        ("create", "post", reverse("campaigns:mailing_create"), mailing_post(w, w["x"]),
         [302, 403, 403, 302, 200, 403, 403, 302]),
        ("count", "get", reverse("campaigns:audience_count") + "?recipients=contact&all_regions=1",
         None,
         [302, 403, 403, 200, 200, 403, 403, 200]),
        ("detail", "get", reverse("campaigns:mailing", args=[pk]), None,
         [302, 404, 404, 200, 404, 404, 404, 200]),
        ("edit form", "get", reverse("campaigns:mailing_edit", args=[pk]), None,
         [302, 404, 404, 200, 404, 404, 404, 200]),
        ("edit", "post", reverse("campaigns:mailing_edit", args=[pk]),
         mailing_post(w, w["x"]), [302, 404, 404, 302, 404, 404, 404, 302]),
        ("preview", "get", reverse("campaigns:mailing_preview", args=[pk]), None,
         [302, 404, 404, 200, 404, 404, 404, 200]),
        ("preview html", "get", reverse("campaigns:mailing_preview_html", args=[pk]), None,
         [302, 404, 404, 200, 404, 404, 404, 200]),
        ("submit", "post", reverse("campaigns:mailing_submit", args=[pk]), {},
         [302, 404, 404, 302, 404, 404, 404, 302]),
        ("approve", "post", reverse("campaigns:mailing_approve", args=[pk]), {},
         [302, 404, 404, 403, 404, 404, 404, 302]),
        ("schedule", "post", reverse("campaigns:mailing_schedule", args=[pk]), when,
         [302, 404, 404, 403, 404, 404, 404, 302]),
        ("send", "post", reverse("campaigns:mailing_send", args=[pk]), {},
         [302, 404, 404, 403, 404, 404, 404, 302]),
        ("unschedule", "post", reverse("campaigns:mailing_unschedule", args=[pk]), {},
         [302, 404, 404, 403, 404, 404, 404, 302], mailing_in(Mailing.Status.SCHEDULED)),
        ("test send", "post", reverse("campaigns:mailing_test_send", args=[pk]), {},
         # Allowed sends are checked by test_a_test_copy_goes_to_the_sender_only.
         [302, 404, 404, None, 404, 404, 404, None]),
    ]  # fmt: skip


def sending_cases(w):
    pk = w["mailing"].pk
    sending = mailing_in(Mailing.Status.SENDING, failed=1, pending=1)
    return [
        ("sending page", "get", reverse("campaigns:mailing_sending", args=[pk]), None,
         [302, 404, 404, 200, 404, 404, 404, 200], sending),
        ("progress", "get", reverse("campaigns:mailing_progress", args=[pk]), None,
         [302, 404, 404, 200, 404, 404, 404, 200], sending),
        ("pause", "post", reverse("campaigns:mailing_pause", args=[pk]), {},
         [302, 404, 404, 403, 404, 404, 404, 302], mailing_in(Mailing.Status.SENDING, pending=2)),
        ("resume", "post", reverse("campaigns:mailing_resume", args=[pk]), {},
         [302, 404, 404, 403, 404, 404, 404, 302], mailing_in(Mailing.Status.PAUSED, pending=2)),
        ("cancel", "post", reverse("campaigns:mailing_cancel", args=[pk]), {},
         [302, 404, 404, 403, 404, 404, 404, 302], mailing_in(Mailing.Status.SENDING, pending=2)),
        ("resend failed", "post", reverse("campaigns:mailing_resend_failed", args=[pk]), {},
         [302, 404, 404, 403, 404, 404, 404, 302], mailing_in(Mailing.Status.SENDING, failed=2)),
        ("report csv", "get", reverse("campaigns:mailing_report_csv", args=[pk]), None,
         [302, 404, 404, 200, 404, 404, 404, 200], mailing_in(Mailing.Status.SENT, failed=1)),
        ("letters", "post", reverse("campaigns:mailing_letters", args=[pk]), {},
         [302, 404, 404, 403, 404, 404, 404, 200], with_letter),
        ("labels", "get", reverse("campaigns:mailing_labels", args=[pk]), None,
         [302, 404, 404, 403, 404, 404, 404, 200], with_letter),
        ("suppression list", "get", reverse("campaigns:suppressions"), None,
         [302, 403, 403, 403, 403, 403, 403, 200]),
        ("suppression add", "post", reverse("campaigns:suppressions"),
         {"email": "stop@example.org", "note": "Asked by phone"},
         [302, 403, 403, 403, 403, 403, 403, 302]),
        ("suppression remove", "post",
         reverse("campaigns:suppression_delete", args=[w["suppression"].pk]), {},
         [302, 403, 403, 403, 403, 403, 403, 302]),
        # Someone else's unsubscription (here nobody in the world's): not anyone's to lift here,
        # staff included, who use the suppression list instead.
        ("own resume", "post", reverse("campaigns:own_mailings_resume"),
         {"suppression": w["suppression"].pk}, [302, 404, 404, 404, 404, 404, 404, 404]),
        ("unknown mailing", "get", reverse("campaigns:mailing_sending", args=[pk + 1000]), None,
         [302, 404, 404, 404, 404, 404, 404, 404]),
    ]  # fmt: skip


# Buttons that answer with a file rather than a redirect when they act.
ANSWERED_WITH_A_FILE = {"letters"}


def run(client, world, role, cases_for, name):
    login(client, world, role)
    _, method, url, data, expected, *prepare = next(c for c in cases_for(world) if c[0] == name)
    for step in prepare:
        step(world)
    want = expected[ROLES.index(role)]
    before = state()
    response = client.get(url) if method == "get" else client.post(url, data)
    if want is None:
        return
    assert response.status_code == want, (name, role, response.status_code)
    if want == 302 and role == "anonymous":
        assert "/accounts/login/" in response.url
    if method == "get":
        assert state() == before, f"{role} GET {name} changed the database"
    elif role != "anonymous" and (want == 302 or (want == 200 and name in ANSWERED_WITH_A_FILE)):
        assert state() != before, f"{role} POST {name} was allowed but changed nothing"
    else:
        assert state() == before, f"{role} POST {name} was refused but changed the database"


CAMPAIGN_NAMES = [
    "list", "detail", "create form", "create", "edit form", "edit", "resource form",
    "resource add", "resource remove", "adoption form", "adoption add", "adoption remove",
    "unknown campaign",
]  # fmt: skip
SENDING_NAMES = [
    "sending page", "progress", "pause", "resume", "cancel", "resend failed", "report csv",
    "letters", "labels", "suppression list",
    "suppression add", "suppression remove", "own resume", "unknown mailing",
]  # fmt: skip
MAILING_NAMES = [
    "list", "new form", "create", "count", "detail", "edit form", "edit", "preview", "preview html",
    "submit", "approve", "schedule", "send", "unschedule", "test send",
]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", CAMPAIGN_NAMES)
def test_campaign_pages_by_role(client, world, role, name):
    run(client, world, role, campaign_cases, name)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", MAILING_NAMES)
def test_mailing_pages_by_role(client, world, role, name):
    run(client, world, role, mailing_cases, name)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", SENDING_NAMES)
def test_sending_pages_by_role(client, world, role, name):
    run(client, world, role, sending_cases, name)


def test_staff_changes_go_through(client, world):
    """The allowed rows of the matrix do change something: the refusals are not vacuous."""
    client.force_login(world["users"]["staff"])
    client.post(reverse("campaigns:suppressions"), {"email": "stop@example.org", "note": ""})
    client.post(reverse("campaigns:suppression_delete", args=[world["suppression"].pk]))
    assert list(Suppression.objects.values_list("email", flat=True)) == ["stop@example.org"]
    mailing = world["mailing"]
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.SENDING)
    client.post(reverse("campaigns:mailing_pause", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.PAUSED


@pytest.mark.parametrize("role", ROLES[:-1])
@pytest.mark.parametrize("action", ["mailing_pause", "mailing_cancel"])
def test_only_staff_pause_or_cancel_a_mailing_being_sent(client, world, role, action):
    mailing = world["mailing"]
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.SENDING)
    login(client, world, role)
    response = client.post(reverse(f"campaigns:{action}", args=[mailing.pk]))
    assert response.status_code == {"anonymous": 302, "rep_x": 403}.get(role, 404)
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SENDING


@pytest.mark.parametrize("role", ROLES[:-1])
def test_only_staff_unschedule_a_scheduled_mailing(client, world, role):
    mailing = world["mailing"]
    Mailing.objects.filter(pk=mailing.pk).update(
        status=Mailing.Status.SCHEDULED,
        scheduled_for=datetime.datetime(2040, 1, 1, tzinfo=datetime.UTC),
    )
    login(client, world, role)
    before = state()
    response = client.post(reverse("campaigns:mailing_unschedule", args=[mailing.pk]))
    assert response.status_code == {"anonymous": 302, "rep_x": 403}.get(role, 404)
    assert state() == before
    client.force_login(world["users"]["staff"])
    client.post(reverse("campaigns:mailing_unschedule", args=[mailing.pk]))
    mailing.refresh_from_db()
    assert (mailing.status, mailing.scheduled_for) == (Mailing.Status.DRAFT, None)


@pytest.mark.parametrize("role", ROLES)
def test_a_test_copy_goes_to_the_sender_only(client, world, smtp, role):
    login(client, world, role)
    before = state()
    response = client.post(reverse("campaigns:mailing_test_send", args=[world["mailing"].pk]))
    expected = {"rep_x": 302, "staff": 302, "anonymous": 302}.get(role, 404)
    assert response.status_code == expected
    assert state() == before
    if role in ("rep_x", "staff"):
        assert [m["To"] for m in smtp.messages] == [world["users"][role].email]
    else:
        assert smtp.messages == []


# The methods each campaigns page answers; any other gets 405. Pages that only show something
# take GET, buttons that change something take POST, forms take both.
METHODS = {
    "mailings": {"get"},
    "mailing_create": {"get", "post"},
    "audience_count": {"get"},
    "mailing": {"get"},
    "mailing_edit": {"get", "post"},
    "mailing_preview": {"get"},
    "mailing_preview_html": {"get"},
    "mailing_test_send": {"post"},
    "mailing_submit": {"post"},
    "mailing_approve": {"post"},
    "mailing_send": {"post"},
    "mailing_schedule": {"post"},
    "mailing_unschedule": {"post"},
    "mailing_sending": {"get"},
    "mailing_progress": {"get"},
    "mailing_report_csv": {"get"},
    "mailing_letters": {"post"},
    "mailing_labels": {"get"},
    "mailing_pause": {"post"},
    "mailing_resume": {"post"},
    "mailing_cancel": {"post"},
    "mailing_resend_failed": {"post"},
    "suppressions": {"get", "post"},
    "suppression_delete": {"post"},
    "own_mailings_resume": {"post"},
    "campaigns": {"get"},
    "campaign_create": {"get", "post"},
    "campaign": {"get"},
    "campaign_edit": {"get", "post"},
    "resource_add": {"get", "post"},
    "resource_remove": {"post"},
    "resource_file": {"get"},
    "adoption_add": {"get", "post"},
    "adoption_remove": {"post"},
}


def test_the_matrix_covers_every_campaigns_url_and_method(world):
    import campaigns.urls

    cases = campaign_cases(world) + mailing_cases(world) + sending_cases(world)
    covered = {(resolve(url.split("?")[0]).url_name, method) for _n, method, url, *_rest in cases}
    # The resource file has its own test below.
    covered.add(("resource_file", "get"))
    names = {p.name for p in campaigns.urls.urlpatterns}
    assert names == set(METHODS), "say which methods these pages take in METHODS"
    defined = {(name, method) for name, methods in METHODS.items() for method in methods}
    assert defined - covered == set(), "add these pages and methods to the permission matrix"


def url_for(world, pattern):
    """The pattern's URL for the world's objects."""
    kwargs = {}
    if "slug" in pattern.pattern.converters:
        kwargs["slug"] = world["campaign"].slug
    if "pk" in pattern.pattern.converters:
        owner = pattern.name.split("_")[0]
        objects = {"resource": "resource", "adoption": "adoption", "suppression": "suppression"}
        kwargs["pk"] = world[objects.get(owner, "mailing")].pk
    return reverse(f"campaigns:{pattern.name}", kwargs=kwargs)


def test_every_campaigns_page_refuses_the_methods_it_does_not_take(client, world):
    """A POST to a page that only shows something answers 405 rather than the page, and a GET
    to a button's URL answers 405 rather than acting, even for staff."""
    import campaigns.urls

    client.force_login(world["users"]["staff"])
    checked = []
    for pattern in campaigns.urls.urlpatterns:
        url = url_for(world, pattern)
        for method in {"get", "post"} - METHODS[pattern.name]:
            before = state()
            response = getattr(client, method)(url)
            assert response.status_code == 405, (pattern.name, method, response.status_code)
            assert state() == before
            checked.append((pattern.name, method))
    assert ("campaigns", "post") in checked
    assert ("mailing_pause", "get") in checked


def test_resource_file_needs_login_and_an_existing_file(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "guide.pdf").write_bytes(b"%PDF-1.4")
    stored = CampaignResource.objects.create(
        campaign=world["campaign"], title="PDF", file="guide.pdf"
    )
    url = reverse("campaigns:resource_file", args=["food", stored.pk])
    assert client.get(url).status_code == 302
    for role in ROLES[1:]:
        client.force_login(world["users"][role])
        response = client.get(url)
        assert response.status_code == (404 if role in ENDED_ROLES else 200), role
    link_only = reverse("campaigns:resource_file", args=["food", world["resource"].pk])
    assert client.get(link_only).status_code == 404


def test_rep_posting_another_regions_id_changes_nothing(client, world):
    client.force_login(world["users"]["rep_x"])
    before = state()
    url = reverse("campaigns:mailing_edit", args=[world["mailing"].pk])
    response = client.post(url, mailing_post(world, world["y"]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert state() == before
    created = client.post(reverse("campaigns:mailing_create"), mailing_post(world, world["y"]))
    assert created.status_code == 200
    assert state() == before


def test_rep_cannot_read_another_regions_audience_count(client, world):
    client.force_login(world["users"]["rep_y"])
    response = client.get(
        reverse("campaigns:audience_count"),
        {"regions": world["x"].pk, "recipients": "contact"},
    )
    assert response.status_code == 400
    assert "count" not in response.json()


def test_rep_sees_only_their_regions_mailings_in_the_list(client, world):
    MailingFactory(owner_region=world["y"], subject="Region Y news")
    MailingFactory(subject="National news")
    client.force_login(world["users"]["rep_x"])
    page = client.get(reverse("campaigns:mailings")).content.decode()
    assert "Region X news" in page
    assert "Region Y news" not in page
    assert "National news" not in page


def test_rep_cannot_edit_their_mailing_once_it_is_sending(client, world):
    mailing = world["mailing"]
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.SENDING)
    client.force_login(world["users"]["rep_x"])
    before = state()
    url = reverse("campaigns:mailing_edit", args=[mailing.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, mailing_post(world, world["x"])).status_code == 403
    assert state() == before


def test_staff_cannot_remove_another_campaigns_resource_or_adoption_through_this_one(client, world):
    other = CampaignFactory(slug="housing")
    client.force_login(world["users"]["staff"])
    before = state()
    resource = reverse("campaigns:resource_remove", args=["housing", world["resource"].pk])
    adoption = reverse("campaigns:adoption_remove", args=["housing", world["adoption"].pk])
    download = reverse("campaigns:resource_file", args=[other.slug, world["resource"].pk])
    assert client.post(resource).status_code == 404
    assert client.post(adoption).status_code == 404
    assert client.get(download).status_code == 404
    assert state() == before


def test_councillor_who_has_left_finds_no_campaign_resource_or_adoption(client, world):
    councillor = CouncillorFactory(council=world["council"], left_on=datetime.date(2025, 5, 2))
    client.force_login(councillor.user)
    slug = world["campaign"].slug
    assert client.get(reverse("campaigns:campaign", args=[slug])).status_code == 404
    link = reverse("campaigns:resource_file", args=[slug, world["resource"].pk])
    assert client.get(link).status_code == 404


def test_account_without_a_role_sees_no_campaigns(client, world):
    client.force_login(UserFactory())
    page = client.get(reverse("campaigns:campaigns"))
    assert page.status_code == 200
    assert world["campaign"].title not in page.content.decode()


@pytest.mark.parametrize("role", ENDED_ROLES)
def test_ended_roles_see_no_campaign_in_the_list(client, world, role):
    client.force_login(world["users"][role])
    page = client.get(reverse("campaigns:campaigns"))
    assert page.status_code == 200
    assert world["campaign"].title not in page.content.decode()
    client.force_login(world["users"]["councillor_a"])
    assert world["campaign"].title in client.get(reverse("campaigns:campaigns")).content.decode()


@pytest.mark.parametrize("role", ENDED_ROLES)
def test_ended_roles_are_not_offered_the_mailings(client, world, role):
    mailings = reverse("campaigns:mailings")
    client.force_login(world["users"]["rep_x"])
    assert mailings in client.get(reverse("home")).content.decode()
    client.force_login(world["users"][role])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert mailings not in response.content.decode()


def test_staff_removing_an_unknown_suppression_gets_404(client, world):
    client.force_login(world["users"]["staff"])
    before = state()
    url = reverse("campaigns:suppression_delete", args=[world["suppression"].pk + 1000])
    assert client.post(url).status_code == 404
    assert state() == before


def test_sending_page_lists_only_this_mailings_failed_addresses(client, world):
    mailing_in(Mailing.Status.SENDING, failed=1)(world)
    other = MailingFactory(owner_region=world["x"], status=Mailing.Status.SENT)
    Delivery.objects.create(mailing=other, email="elsewhere@example.org", status="failed")
    client.force_login(world["users"]["rep_x"])
    page = client.get(reverse("campaigns:mailing_sending", args=[world["mailing"].pk])).text
    assert "failed0@example.org" in page
    assert "elsewhere@example.org" not in page
