"""The demo events: what `make run` shows people trying the portal."""

import datetime

from django.core.management import call_command

from events.models import Event, PassApplication, Place
from events.selectors import sessions_with_counts


def test_demo_events_are_made_once_with_everything_to_try(gb_councils):
    call_command("demo_data", verbosity=0)
    call_command("demo_events", verbosity=0)
    counts = (Event.objects.count(), Place.objects.count(), PassApplication.objects.count())
    call_command("demo_events", verbosity=0)
    assert (Event.objects.count(), Place.objects.count(), PassApplication.objects.count()) == counts

    day = Event.objects.get(title="Project Victory campaign training day")
    assert (day.starts_at.year, day.starts_at.month) == (2027, 2)
    sessions = sessions_with_counts(day)
    assert len(sessions) == 32
    assert len({s.track for s in sessions}) == 4
    assert len({s.slot_id for s in sessions}) == 8
    assert any(s.left == 1 for s in sessions), "some sessions are nearly full"
    assert any(s.left == 0 and s.waiting for s in sessions)

    conference = Event.objects.get(is_annual_conference=True)
    states = set(conference.pass_applications.values_list("status", flat=True))
    assert states == set(PassApplication.Status.values)

    course = Event.objects.get(title="Mental Health First Aid")
    assert course.region.name == "London"
    assert course.places.filter(status=Place.Status.WAITING).count() == 3
    assert course.starts_at.date() == datetime.date(2027, 3, 12)
