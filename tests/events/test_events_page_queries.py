"""The events pages make a fixed number of queries, the same with 20 bookings behind them as with
2,000: each count is pinned, so that a change that adds a query a row (or any query) shows."""

import pytest
from django.urls import reverse
from factories import CouncillorFactory, EventFactory, StaffFactory, programme_create

from events.models import Booking, Place
from members.models import Councillor, User

pytestmark = pytest.mark.django_db

ROWS = [20, 2000]
# For the event's organiser (staff here, who also manage it).
ORGANISER_QUERIES = {"detail": 7, "sessions": 5, "attendance": 7, "report": 8}
# For a councillor about to book.
BOOKING_QUERIES = 9
# A councillor's home page and the list of events.
# The councillor's home: the session and user, their profile, the events part (bookings, offers,
# pass applications, open events), and their list of what waits (group officers, next election,
# levy waiver, campaigns), none of them growing with the number of bookings.
HOME_QUERIES = {"home": 11, "events:list": 4}


@pytest.fixture
def staff():
    return StaffFactory()


def _booked_event(council, rows, organiser):
    """A training day of 8 slots in 4 tracks, `rows` people booked on a session in each of two
    slots, with needs, a tenth marked as attended, and a few waiting."""
    event = EventFactory(capacity=None, organisers=[organiser])
    sessions = programme_create(event, slots=8, tracks=["A", "B", "C", "D"], capacity=rows)
    users = User.objects.bulk_create(
        User(email=f"booked-{n}@example.org", full_name=f"Booked {n}", password="!")
        for n in range(rows)
    )
    Councillor.objects.bulk_create(Councillor(user=u, council=council) for u in users)
    made = Booking.objects.bulk_create(
        Booking(event=event, user=u, access_needs="Hearing loop", attended=n % 10 == 0 or None)
        for n, u in enumerate(users)
    )
    places = []
    for n, booking in enumerate(made):
        for session in (sessions[n % 4], sessions[4 + n % 4]):
            status = Place.Status.WAITING if n % 50 == 1 else Place.Status.BOOKED
            places.append(
                Place(
                    booking=booking, event=event, session=session, slot=session.slot, status=status
                )
            )
    Place.objects.bulk_create(places)
    return event


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("page", ["detail", "sessions", "attendance", "report"])
def test_events_pages_for_their_organiser(
    client, council_x, staff, rows, page, django_assert_num_queries
):
    event = _booked_event(council_x, rows, staff)
    client.force_login(staff)
    with django_assert_num_queries(ORGANISER_QUERIES[page]):
        response = client.get(reverse(f"events:{page}", args=[event.pk]))
    assert response.status_code == 200
    if page == "attendance":
        assert len(response.context["rows"]) == rows - len(range(1, rows, 50))


@pytest.mark.parametrize("rows", ROWS)
def test_event_page_for_a_councillor_booking(
    client, council_x, staff, rows, django_assert_num_queries
):
    event = _booked_event(council_x, rows, staff)
    councillor = CouncillorFactory(council=council_x)
    client.force_login(councillor.user)
    with django_assert_num_queries(BOOKING_QUERIES):
        response = client.get(reverse("events:detail", args=[event.pk]))
    assert "Book these sessions" in response.text


@pytest.mark.parametrize("rows", ROWS)
def test_home_and_event_list_for_a_councillor(
    client, council_x, staff, rows, django_assert_num_queries
):
    _booked_event(council_x, rows, staff)
    for _ in range(3):
        EventFactory(region=council_x.region)
    councillor = Councillor.objects.filter(user__email="booked-0@example.org").get()
    client.force_login(councillor.user)
    for name, queries in HOME_QUERIES.items():
        with django_assert_num_queries(queries):
            assert client.get(reverse(name)).status_code == 200
