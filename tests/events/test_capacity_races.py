"""Two people asking for the last place at the same moment, each in a process of their own with
its own database connection, on the real database: one gets it, the other waits for it, never
both. The same for two approvals of the last conference pass."""

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from django.db import connection, transaction
from factories import CouncillorFactory, EventFactory, StaffFactory, programme_create
from polling import wait_for
from workers import current_database_url

from alc_portal.celery import app as celery_app
from events.models import PassApplication, Place
from events.services import bookings

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PROJECT_DIR = Path(__file__).resolve().parents[2]
ROUNDS = 4
# Between counting the places (or passes) left and writing its own, each request pauses this
# long, so that the two requests surely overlap there: only the lock keeps them apart.
PAUSE = 0.3
# The advisory lock (this key, the round's number) that holds both processes at the start line
# until the test lets them go together.
GATE = 5150

# What each process runs: its turns come as JSON on the command line; in each round it waits at
# the start line, makes its request, and prints what became of it.
REQUESTER = (
    textwrap.dedent(
        """
    import json, sys, time
    import django

    django.setup()
    from django.db import connection
    from events.models import Event, Place
    from events.services import bookings, passes, places
    from members.models import User

    def slowed(count):
        def counted(*args, **kwargs):
            result = count(*args, **kwargs)
            time.sleep(PAUSE)
            return result
        return counted

    places.free_places = slowed(places.free_places)
    passes.passes_free = slowed(passes.passes_free)

    def book(user_id, event_id, session_id):
        # Keep the sessions held, and ask for this one too.
        user, event = User.objects.get(pk=user_id), Event.objects.get(pk=event_id)
        held = Place.objects.active().filter(booking__user=user, event=event)
        wanted = [*held.values_list("session", flat=True), session_id]
        change = bookings.booking_choose(event=event, user=user, session_ids=wanted)
        return "booked" if change.booked else "waiting"

    def approve(user_id, event_id, application_id):
        user, event = User.objects.get(pk=user_id), Event.objects.get(pk=event_id)
        counts = passes.passes_decide(
            event=event, application_ids=[application_id], by=user, approve=True
        )
        return [status for status, n in counts.items() if n]

    for number, (action, *args) in enumerate(json.loads(sys.argv[1])):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock_shared(%s, %s)", [GATE, number])
            cursor.execute("SELECT pg_advisory_unlock_shared(%s, %s)", [GATE, number])
        print(json.dumps(globals()[action](*args)), flush=True)
    """
    )
    .replace("PAUSE", repr(PAUSE))
    .replace("GATE", repr(GATE))
)


class Requester:
    """A process making one request a round; what it prints is collected in `answers`."""

    def __init__(self, turns):
        env = {
            **os.environ,
            "DATABASE_URL": current_database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "DJANGO_SETTINGS_MODULE": "alc_portal.settings",
            # The notices it queues go where this test's own do: to a queue nobody consumes.
            "CELERY_TASK_DEFAULT_QUEUE": celery_app.conf.task_default_queue,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-c", REQUESTER, json.dumps(turns)],
            cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.answers = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.answers.append(json.loads(line))

    def has_answered(self, count) -> bool:
        if len(self.answers) < count and self.proc.poll() not in (None, 0):
            pytest.fail(f"a requesting process failed:\n{self.proc.stderr.read()}")
        return len(self.answers) >= count

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join(5)


def _at_the_start_line(number) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND classid = %s AND objid = %s",
            [GATE, number],
        )
        return cursor.fetchone()[0]


def _race(turns, check):
    """Run two processes' turns (`turns`: a list for each), letting each round's two requests
    go together, and `check(number)` what the database holds after each round. Returns the
    two lists of answers."""
    rounds = len(turns[0])
    with connection.cursor() as cursor:
        for number in range(rounds):
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [GATE, number])
    requesters = [Requester(own) for own in turns]
    try:
        for number in range(rounds):
            wait_for(lambda n=number: _at_the_start_line(n) == 2, timeout=60)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [GATE, number])
            for requester in requesters:
                wait_for(lambda r=requester, n=number: r.has_answered(n + 1), timeout=60)
            check(number)
        for requester in requesters:
            assert requester.proc.wait(timeout=30) == 0, requester.proc.stderr.read()
    finally:
        for requester in requesters:
            requester.stop()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
    return [requester.answers for requester in requesters]


def test_two_councillors_in_two_processes_book_the_last_place_of_a_session(council_x):
    event = EventFactory(capacity=None)
    sessions = programme_create(event, slots=ROUNDS, tracks=["Only"], capacity=3)
    holders = [CouncillorFactory(council=council_x).user for _ in range(2)]
    first, second = [CouncillorFactory(council=council_x).user for _ in range(2)]
    for holder in holders:
        # Two of each session's three places go; the last is left for the race.
        bookings.booking_choose(event=event, user=holder, session_ids=[s.pk for s in sessions])

    def check(number):
        statuses = Place.objects.filter(session=sessions[number]).values_list("status", flat=True)
        assert sorted(statuses) == ["booked", "booked", "booked", "waiting"], number

    one, other = _race(
        [[["book", user.pk, event.pk, s.pk] for s in sessions] for user in (first, second)], check
    )
    rounds = [sorted(pair) for pair in zip(one, other, strict=True)]
    assert rounds == [["booked", "waiting"]] * ROUNDS
    # Each asked in every round, and kept what they had.
    for user in (first, second):
        assert Place.objects.filter(booking__user=user).count() == ROUNDS


def test_two_approvals_in_two_processes_of_the_last_conference_pass(council_x):
    deciders = [StaffFactory(), StaffFactory()]
    conferences, turns = [], [[], []]
    for _ in range(ROUNDS):
        conference = EventFactory(
            kind="conference", is_annual_conference=True, pass_capacity=2, capacity=None
        )
        # One pass of two is taken; the last is left for the race.
        PassApplication.objects.create(
            event=conference,
            user=CouncillorFactory(council=council_x).user,
            status=PassApplication.Status.APPROVED,
        )
        for side, decider in enumerate(deciders):
            application = PassApplication.objects.create(
                event=conference, user=CouncillorFactory(council=council_x).user
            )
            turns[side].append(["approve", decider.pk, conference.pk, application.pk])
        conferences.append(conference)

    def check(number):
        statuses = conferences[number].pass_applications.values_list("status", flat=True)
        assert sorted(statuses) == ["approved", "approved", "waiting"], number

    one, other = _race(turns, check)
    assert [sorted(a + b) for a, b in zip(one, other, strict=True)] == [
        ["approved", "waiting"]
    ] * ROUNDS


def _in_background(call):
    result = {}

    def run():
        try:
            result["value"] = call()
        except Exception as exc:  # noqa: BLE001 - the test asserts there was none
            result["value"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()

    def finish():
        thread.join(30)
        return result["value"]

    return finish


def _someone_is_waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def test_a_booking_waits_for_the_one_taking_the_last_place_then_waitlists(council_x):
    event = EventFactory(capacity=1)
    first, second = [CouncillorFactory(council=council_x).user for _ in range(2)]
    with transaction.atomic():
        bookings.booking_choose(event=event, user=first)  # holds the event's lock
        finish = _in_background(lambda: bookings.booking_choose(event=event, user=second))
        wait_for(_someone_is_waiting_for_a_lock)
    change = finish()
    assert [p.status for p in change.waiting] == ["waiting"]
    assert Place.objects.get(booking__user=first).is_booked
    assert Place.objects.get(booking__user=second).is_waiting
