"""Who may open and use which events pages, for every role.

Councillor A sits on council A in region X, councillor B on council B in region Y; each region
has a representative; the national office has staff. A former councillor of council A, and a
representative of region X whose appointment has ended, have lost what those roles gave them.
The world holds a national training day with sessions (councillor A booked on one, with access
needs), a region X course without sessions (councillor A offered a place on it), and the annual
conference (councillor A applied for a pass). Nobody in it organises an event, so nobody here
reads access needs: the organiser's view has tests of its own below.

An event outside what a person may see answers 404, one they see but may not use 403, and a
refused write leaves the database as it was.
"""

import datetime

import pytest
from django.urls import resolve, reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncillorFactory,
    EventFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    programme_create,
)

import events.urls
from events.calendar import feed_token
from events.models import Booking, CalendarFeed, Event, PassApplication, Place, Session
from events.services import bookings, calendar_feeds
from members.models import Notice

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "councillor_a",
    "councillor_b",
    "rep_x",
    "rep_y",
    "staff",
    "former_a",
    "ended_rep",
]
COVERED_URL_NAMES = {f"events:{p.name}" for p in events.urls.urlpatterns}


@pytest.fixture
def world():
    x = RegionFactory(name="Region X", slug="region-x")
    y = RegionFactory(name="Region Y", slug="region-y")
    council_a, council_b = CouncilFactory(region=x), CouncilFactory(region=y)
    councillor_a = CouncillorFactory(council=council_a, user__full_name="Ada Oakley")
    councillor_b = CouncillorFactory(council=council_b)
    former_a = CouncillorFactory(council=council_a, left_on=datetime.date(2025, 5, 8))
    holder = CouncillorFactory(council=council_a)
    national = EventFactory(title="National training day", capacity=None)
    national.online_link = "https://meet.example.org/secret-room"
    national.save()
    sessions = programme_create(national, slots=2, tracks=["A", "B"])
    course = EventFactory(title="Regional course", region=x, capacity=1)
    conference = EventFactory(
        title="Annual conference", kind="conference", is_annual_conference=True, capacity=None
    )
    bookings.booking_choose(
        event=national,
        user=councillor_a.user,
        session_ids=[sessions[0].pk],
        access_needs="A hearing loop",
    )
    # The holder gives up the course's one place, and it is offered to councillor A.
    bookings.booking_choose(event=course, user=holder.user)
    bookings.booking_choose(event=course, user=councillor_a.user)
    bookings.booking_cancel(booking=Booking.objects.get(user=holder.user), user=holder.user)
    application = PassApplication.objects.create(event=conference, user=councillor_a.user)
    feed = calendar_feeds.calendar_feed_create(user=councillor_a.user)
    staff = StaffFactory()
    return {
        "x": x,
        "national": national,
        "sessions": sessions,
        "course": course,
        "conference": conference,
        "application": application,
        "offer": Place.objects.get(booking__user=councillor_a.user, event=course),
        "booking_a_course": Booking.objects.get(user=councillor_a.user, event=course),
        "feed_token": feed_token(feed),
        "users": {
            "anonymous": None,
            "councillor_a": councillor_a.user,
            "councillor_b": councillor_b.user,
            "rep_x": RepresentativeFactory(region=x).user,
            "rep_y": RepresentativeFactory(region=y).user,
            "staff": staff,
            "former_a": former_a.user,
            "ended_rep": RepresentativeFactory(
                region=x, start_date=datetime.date(2022, 5, 1), end_date=datetime.date(2025, 5, 1)
            ).user,
        },
    }


def _client_as(client, world, role):
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    return client


def _status(response):
    if response.status_code == 302 and "/accounts/login/" in response.url:
        return "login"
    return response.status_code


def _snapshot():
    """Everything a refused request could have changed."""
    return {
        "events": list(Event.objects.order_by("pk").values()),
        "organisers": list(Event.organisers.through.objects.order_by("pk").values()),
        "sessions": list(Session.objects.order_by("pk").values()),
        "bookings": list(Booking.objects.order_by("pk").values()),
        "places": list(Place.objects.order_by("pk").values()),
        "applications": list(PassApplication.objects.order_by("pk").values()),
        "feeds": list(CalendarFeed.objects.order_by("pk").values()),
        "notices": Notice.objects.count(),
        "history": (Booking.history.count(), Place.history.count(), Event.history.count()),
    }


EVERYONE = ["login", 200, 200, 200, 200, 200, 200, 200]
STAFF_ONLY = ["login", 403, 403, 403, 403, 200, 403, 403]
# A region X event: its councillors see it; its representative and staff manage it.
X_MANAGERS = ["login", 403, 404, 200, 404, 200, 404, 404]

READS = {
    "event list": (lambda w: reverse("events:list"), EVERYONE),
    "new event": (
        lambda w: reverse("events:create"),
        ["login", 403, 403, 200, 200, 200, 403, 403],
    ),
    "national event": (lambda w: reverse("events:detail", args=[w["national"].pk]), EVERYONE),
    "region X event": (
        lambda w: reverse("events:detail", args=[w["course"].pk]),
        ["login", 200, 404, 200, 404, 200, 404, 404],
    ),
    "change national event": (
        lambda w: reverse("events:edit", args=[w["national"].pk]),
        STAFF_ONLY,
    ),
    "change region X event": (lambda w: reverse("events:edit", args=[w["course"].pk]), X_MANAGERS),
    "sessions": (lambda w: reverse("events:sessions", args=[w["national"].pk]), EVERYONE),
    "add a session": (
        lambda w: reverse("events:session_add", args=[w["national"].pk]),
        STAFF_ONLY,
    ),
    "change a session": (
        lambda w: reverse("events:session_edit", args=[w["sessions"][0].pk]),
        STAFF_ONLY,
    ),
    "attendance of a national event": (
        lambda w: reverse("events:attendance", args=[w["national"].pk]),
        STAFF_ONLY,
    ),
    "attendance of a region X event": (
        lambda w: reverse("events:attendance", args=[w["course"].pk]),
        X_MANAGERS,
    ),
    "report of a region X event": (
        lambda w: reverse("events:report", args=[w["course"].pk]),
        X_MANAGERS,
    ),
    "conference passes": (
        lambda w: reverse("events:passes", args=[w["conference"].pk]),
        STAFF_ONLY,
    ),
    "approved passes CSV": (
        lambda w: reverse("events:passes_csv", args=[w["conference"].pk]),
        STAFF_ONLY,
    ),
    "passes of an event that is not the conference": (
        lambda w: reverse("events:passes", args=[w["national"].pk]),
        ["login", 404, 404, 404, 404, 404, 404, 404],
    ),
    "my calendar feed": (lambda w: reverse("events:calendar"), EVERYONE),
    # The signed address is the key: calendar programs do not sign in.
    "a calendar feed": (
        lambda w: reverse("events:calendar_feed", args=[w["feed_token"]]),
        [200] * 8,
    ),
}


@pytest.mark.parametrize("page", READS)
@pytest.mark.parametrize("role", ROLES)
def test_get_permissions(client, world, page, role):
    url, expected = READS[page]
    response = _client_as(client, world, role).get(url(world))
    assert _status(response) == expected[ROLES.index(role)]


def _event_data(world, **changes):
    start = timezone.localtime() + datetime.timedelta(days=30)
    data = {
        "title": "Planning committees explained",
        "kind": "course",
        "description": "",
        "starts_at": start.strftime("%Y-%m-%dT10:00"),
        "ends_at": start.strftime("%Y-%m-%dT16:00"),
        "venue": "Town hall",
        "online_link": "",
        "region": world["x"].pk,
        "capacity": "20",
        "booking_opens_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "booking_closes_at": start.strftime("%Y-%m-%dT09:00"),
        "organisers": "",
    }
    return data | changes


def _session_data(world):
    start = timezone.localtime(world["national"].starts_at)
    return {
        "title": "Extra session",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + datetime.timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M"),
        "track": "C",
        "speaker": "",
        "room": "",
        "capacity": "5",
    }


WRITES = {
    "create an event in region X": (
        lambda w: (reverse("events:create"), _event_data(w)),
        # Region Y's representative may not choose region X: the form says so.
        ["login", 403, 403, 302, 200, 302, 403, 403],
    ),
    "change a region X event": (
        lambda w: (reverse("events:edit", args=[w["course"].pk]), _event_data(w, capacity="5")),
        X_MANAGERS[:3] + [302, 404, 302, 404, 404],
    ),
    "add a session": (
        lambda w: (reverse("events:session_add", args=[w["national"].pk]), _session_data(w)),
        STAFF_ONLY[:5] + [302, 403, 403],
    ),
    "change a session": (
        lambda w: (
            reverse("events:session_edit", args=[w["sessions"][2].pk]),
            _session_data(w) | {"starts_at": "", "ends_at": ""} | {"title": "Renamed"},
        ),
        # Staff send no times: the form is shown again, nothing changed.
        STAFF_ONLY[:5] + [200, 403, 403],
    ),
    "book the national event": (
        lambda w: (
            reverse("events:book", args=[w["national"].pk]),
            {f"slot_{w['sessions'][2].slot_id}": w["sessions"][2].pk},
        ),
        ["login", 302, 302, 403, 403, 403, 403, 403],
    ),
    "book the region X event": (
        lambda w: (reverse("events:book", args=[w["course"].pk]), {}),
        ["login", 302, 404, 403, 404, 403, 404, 404],
    ),
    "cancel a booking": (
        lambda w: (reverse("events:cancel", args=[w["national"].pk]), {}),
        ["login", 302, 404, 404, 404, 404, 404, 404],
    ),
    "accept an offer": (
        lambda w: (reverse("events:place_accept", args=[w["offer"].pk]), {}),
        ["login", 302, 404, 404, 404, 404, 404, 404],
    ),
    "decline an offer": (
        lambda w: (reverse("events:place_decline", args=[w["offer"].pk]), {}),
        ["login", 302, 404, 404, 404, 404, 404, 404],
    ),
    "mark attendance": (
        lambda w: (
            reverse("events:attendance", args=[w["course"].pk]),
            {"booking": w["booking_a_course"].pk, "attended": "yes"},
        ),
        X_MANAGERS[:3] + [302, 404, 302, 404, 404],
    ),
    "apply for a pass": (
        lambda w: (reverse("events:pass_apply", args=[w["conference"].pk]), {}),
        # Councillor A has applied already: told so, nothing changes.
        ["login", 302, 302, 403, 403, 403, 403, 403],
    ),
    "withdraw a pass application": (
        lambda w: (reverse("events:pass_withdraw", args=[w["conference"].pk]), {}),
        ["login", 302, 404, 404, 404, 404, 404, 404],
    ),
    "decide passes": (
        lambda w: (
            reverse("events:passes", args=[w["conference"].pk]),
            {"applications": [w["application"].pk], "decision": "approve"},
        ),
        STAFF_ONLY[:5] + [302, 403, 403],
    ),
    "make a calendar feed": (
        lambda w: (reverse("events:calendar"), {"action": "create"}),
        ["login", 302, 302, 302, 302, 302, 302, 302],
    ),
}
# Allowed, but changing nothing: the form is shown again with what is wrong, or the person
# is told they have done it already.
UNCHANGED = {
    ("create an event in region X", "rep_y"),
    ("change a session", "staff"),
    ("book the region X event", "councillor_a"),
    ("apply for a pass", "councillor_a"),
    ("make a calendar feed", "councillor_a"),
}


@pytest.mark.parametrize("action", WRITES)
@pytest.mark.parametrize("role", ROLES)
def test_post_permissions_and_refusals_change_nothing(client, world, action, role):
    build, expected = WRITES[action]
    url, data = build(world)
    client = _client_as(client, world, role)
    before = _snapshot()
    response = client.post(url, data)
    status = _status(response)
    assert status == expected[ROLES.index(role)]
    if status != 302 or (action, role) in UNCHANGED:
        assert _snapshot() == before
    else:
        assert _snapshot() != before


def test_the_matrix_covers_every_url_of_events(world):
    urls = [url(world) for url, _expected in READS.values()]
    urls += [build(world)[0] for build, _expected in WRITES.values()]
    assert {resolve(url).view_name for url in urls} == COVERED_URL_NAMES


# Pages that only show something answer any other method with 405; every url of events is
# one or the other.

SHOWS_ONLY = {
    "events:list",
    "events:detail",
    "events:sessions",
    "events:report",
    "events:passes_csv",
    "events:calendar_feed",
}
ACCEPTS_POST = COVERED_URL_NAMES - SHOWS_ONLY


def _patterns():
    sample = {"int": 1, "str": "placeholder"}
    found = []
    for pattern in events.urls.urlpatterns:
        kinds = {
            name: type(converter).__name__.removesuffix("Converter").lower()
            for name, converter in pattern.pattern.converters.items()
        }
        kwargs = {name: sample[kind.replace("string", "str")] for name, kind in kinds.items()}
        name = f"events:{pattern.name}"
        found.append((name, reverse(name, kwargs=kwargs)))
    return found


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_pages_that_only_show_refuse_other_methods(client, world, method):
    client.force_login(world["users"]["staff"])
    before = _snapshot()
    answers = {
        name: getattr(client, method)(url).status_code
        for name, url in _patterns()
        if name in SHOWS_ONLY
    }
    assert answers == dict.fromkeys(SHOWS_ONLY, 405)
    assert _snapshot() == before


@pytest.mark.parametrize("method", ["put", "delete"])
def test_pages_that_take_a_post_refuse_other_writes(client, world, method):
    client.force_login(world["users"]["staff"])
    before = _snapshot()
    answers = {name: getattr(client, method)(url).status_code for name, url in _patterns()}
    assert set(answers.values()) == {405}
    assert _snapshot() == before


# The joining link and access needs.


def test_a_councillor_sees_the_joining_link_only_once_booked(client, world):
    national = world["national"]
    url = reverse("events:detail", args=[national.pk])
    client.force_login(world["users"]["councillor_b"])
    assert "secret-room" not in client.get(url).text
    bookings.booking_choose(
        event=national, user=world["users"]["councillor_b"], session_ids=[world["sessions"][1].pk]
    )
    assert "secret-room" in client.get(url).text
    # Waiting for a place is not being booked.
    client.force_login(world["users"]["councillor_a"])
    bookings.booking_cancel(
        booking=Booking.objects.get(user=world["users"]["councillor_a"], event=national),
        user=world["users"]["councillor_a"],
    )
    assert "secret-room" not in client.get(url).text


def test_access_needs_are_shown_to_the_events_organisers_only(client, world):
    national = world["national"]
    organiser = RepresentativeFactory(region=world["x"]).user
    national.organisers.add(organiser)
    url = reverse("events:attendance", args=[national.pk])
    client.force_login(world["users"]["staff"])
    page = client.get(url).text
    assert "Ada Oakley" in page and "A hearing loop" not in page
    client.force_login(organiser)
    page = client.get(url).text
    assert "Ada Oakley" in page and "A hearing loop" in page
    # An organiser of another event sees none.
    other = EventFactory()
    other.organisers.add(world["users"]["rep_y"])
    client.force_login(world["users"]["rep_y"])
    assert client.get(url).status_code == 403


def test_an_organiser_runs_their_event_without_managing_it(client, world):
    organiser = CouncillorFactory(council=CouncilFactory(region=world["x"])).user
    world["national"].organisers.add(organiser)
    client.force_login(organiser)
    national = world["national"].pk
    assert client.get(reverse("events:attendance", args=[national])).status_code == 200
    assert client.get(reverse("events:report", args=[national])).status_code == 200
    assert client.get(reverse("events:edit", args=[national])).status_code == 403


def test_a_representative_cannot_hold_an_event_for_another_region(client, world):
    client.force_login(world["users"]["rep_y"])
    before = _snapshot()
    response = client.post(reverse("events:create"), _event_data(world))
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    response = client.post(reverse("events:create"), _event_data(world, region=""))
    assert response.status_code == 200
    assert _snapshot() == before


def test_a_revoked_calendar_address_answers_404(client, world):
    url = reverse("events:calendar_feed", args=[world["feed_token"]])
    assert client.get(url).status_code == 200
    calendar_feeds.calendar_feed_replace(user=world["users"]["councillor_a"])
    assert client.get(url).status_code == 404
    feed = CalendarFeed.objects.get()
    assert client.get(reverse("events:calendar_feed", args=[feed_token(feed)])).status_code == 200
    calendar_feeds.calendar_feed_revoke(user=world["users"]["councillor_a"])
    assert client.get(reverse("events:calendar_feed", args=[feed_token(feed)])).status_code == 404
    # A token not signed here, or changed by hand, is not found either.
    forged = feed_token(feed).replace(feed.key, "x" * len(feed.key))
    assert client.get(reverse("events:calendar_feed", args=[forged])).status_code == 404
