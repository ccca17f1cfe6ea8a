"""Invented events for trying the portal, run by `make run` after demo_data: a national
training day with 32 sessions (some nearly full, one with a waiting list), the annual
conference with pass applications in every state, a regional Mental Health First Aid course
with a waiting list, an online course already held, and a regional online briefing. Everyone
booked is invented. Running it again changes nothing."""

import datetime
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from events.models import Booking, Event, PassApplication, Place, Session, TimeSlot
from members import services
from members.models import User
from regions.models import Council, Region

LONDON_TIME = ZoneInfo("Europe/London")
DEMO_DOMAIN = "demo.alc.example.org"
STAFF = f"staff@{DEMO_DOMAIN}"
REP_LONDON = f"rep.london@{DEMO_DOMAIN}"
REP_WALES = f"rep.wales@{DEMO_DOMAIN}"
COUNCILLOR = f"councillor@{DEMO_DOMAIN}"

FIRST_NAMES = [
    "Aled", "Bethan", "Caspian", "Delyth", "Eamon", "Farah", "Gwilym", "Hester", "Idris",
    "Jocasta", "Kieran", "Lowri", "Magnus", "Nerys", "Orla", "Peregrine", "Rhiannon", "Sacha",
    "Tamsin", "Ulric", "Verity", "Wynn", "Yasmin", "Zeb",
]  # fmt: skip
LAST_NAMES = [
    "Ashcombe", "Brackley", "Carrow", "Dunmore", "Elsworth", "Fenwold", "Garside", "Hollins",
    "Inchley", "Jessop", "Kestell", "Lathom", "Marwick", "Nettlefold", "Oakridge", "Pellow",
]  # fmt: skip
ATTENDEES = 40
REFUSAL = "Passes are for councillors of the association's member councils."

TRACKS = ["Campaigning", "Digital", "Policy", "Organising"]
SLOT_STARTS = ["09:30", "10:30", "11:30", "12:30", "14:00", "15:00", "16:00", "17:00"]
SESSIONS = [
    ("Winning the doorstep conversation", "Building a street team", "Housing pledges that land",
     "Recruiting volunteers who stay"),
    ("Leaflets people read", "Social media on a shoestring", "The cost of living brief",
     "Running a campaign office"),
    ("Target seats: choosing where to work", "Data you can trust", "Fair funding for councils",
     "Working with trade unions"),
    ("Telling the local story", "Video from your phone", "Climate action that saves money",
     "Training new canvassers"),
    ("Postal votes that count", "Email that gets opened", "Safer streets",
     "Holding a community meeting"),
    ("Rebuttal without rancour", "Targeting with care and consent", "Children's services",
     "Fundraising for the local party"),
    ("Polling day, hour by hour", "Websites that answer questions", "Adult social care",
     "Welcoming new members"),
    ("After the count: keeping going", "Measuring what works", "Councils and the NHS",
     "Looking after yourself and your team"),
]  # fmt: skip
SPEAKERS = [
    "Marian Feltham", "Osian Prydderch", "Leona Stanbridge", "Callum Drury", "Iona Westlake",
    "Tobias Renwick", "Sunita Halloran", "Dafydd Carrick",
]  # fmt: skip
# (slot, track) of sessions made nearly full or full, with places and how many booked (and
# waiting).
BUSY = {(0, 0): (12, 12, 2), (1, 1): (15, 14, 0), (3, 2): (20, 19, 0), (6, 0): (12, 11, 0)}


def _at(day: datetime.date, hhmm: str) -> datetime.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime.datetime.combine(day, datetime.time(hour, minute), LONDON_TIME)


class Command(BaseCommand):
    help = "Create the demo events, sessions, bookings and conference passes (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        if not User.objects.filter(email=COUNCILLOR).exists():
            raise CommandError("Load the demo accounts first: python manage.py demo_data")
        people = self.attendees()
        made = [
            title
            for title, maker in [
                ("Project Victory campaign training day", self.training_day),
                ("ALC Annual Conference 2027", self.conference),
                ("Mental Health First Aid", self.first_aid),
                ("Chairing meetings well", self.chairing),
                ("Council budget scrutiny in Wales", self.budget_briefing),
            ]
            if not Event.objects.filter(title=title).exists() and maker(title, people) is not None
        ]
        self.stdout.write(f"Demo events ready ({len(made)} new).")

    def attendees(self) -> dict:
        """Invented councillors to fill places (no password: nobody signs in as them)."""
        london = list(Council.objects.current().filter(region__name="London").order_by("name"))
        wales = list(Council.objects.current().filter(region__name="Wales").order_by("name"))
        people = {"london": [], "wales": []}
        for n in range(ATTENDEES):
            name = f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[n % len(LAST_NAMES)]}"
            where, councils = ("london", london) if n % 4 else ("wales", wales)
            user, _new = services.accounts.user_ensure(
                email=f"attendee{n + 1}@{DEMO_DOMAIN}", full_name=name
            )
            services.councillors.councillor_ensure(
                user=user, council=councils[n % len(councils)], ward="Central"
            )
            people[where].append(user)
        people["all"] = people["london"] + people["wales"]
        return people

    def training_day(self, title, people):
        day = datetime.date(2027, 2, 13)
        event = _event(
            title,
            Event.Kind.TRAINING_DAY,
            organiser=_user(STAFF),
            description="A day of practical sessions for the May elections: choose one "
            "session in each of the eight slots, in four tracks.",
            runs=("2027-02-13 09:30", "2027-02-13 17:45"),
            booking=("2026-11-02 09:00", "2027-02-11 18:00"),
            venue="Congress Centre, 28 Great Russell Street, London",
        )
        everyone = people["all"]
        for number, start in enumerate(SLOT_STARTS):
            starts = _at(day, start)
            slot = TimeSlot.objects.create(
                event=event, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=45)
            )
            # Different people in each session of a slot: one session a slot each.
            offset = number * 7
            for track_number, track in enumerate(TRACKS):
                capacity, booked, waiting = BUSY.get((number, track_number), (40, 6, 0))
                session = Session.objects.create(
                    event=event,
                    slot=slot,
                    track=track,
                    title=SESSIONS[number][track_number],
                    speaker=SPEAKERS[(number + track_number) % len(SPEAKERS)],
                    room=f"Room {track_number + 1}",
                    capacity=capacity,
                )
                chosen = [everyone[(offset + n) % len(everyone)] for n in range(booked + waiting)]
                offset += booked + waiting
                for position, user in enumerate(chosen):
                    status = Place.Status.BOOKED if position < booked else Place.Status.WAITING
                    _place(event, user, session, status)
        return event

    def conference(self, title, people):
        event = _event(
            title,
            Event.Kind.CONFERENCE,
            organiser=_user(STAFF),
            description="The association's annual conference: debates, workshops and the "
            "annual general meeting. Serving councillors may apply for a free ex-officio pass.",
            runs=("2027-07-10 10:00", "2027-07-11 16:00"),
            booking=("2026-11-02 09:00", "2027-06-30 18:00"),
            venue="The Brighton Centre, Kings Road, Brighton",
            is_annual_conference=True,
            pass_capacity=8,
        )
        staff = _user(STAFF)
        decided = timezone.now() - datetime.timedelta(days=3)
        Status = PassApplication.Status
        states = [Status.APPROVED] * 8 + [Status.WAITING, Status.REFUSED, Status.WITHDRAWN]
        states += [Status.PENDING] * 6
        applicants = [_user(f"cllr.okafor@{DEMO_DOMAIN}"), _user(f"cllr.tregaron@{DEMO_DOMAIN}")]
        applicants += people["all"][: len(states) - 2]
        for user, status in zip(applicants, states, strict=True):
            PassApplication.objects.create(
                event=event,
                user=user,
                status=status,
                decided_by=None if status in (Status.PENDING, Status.WITHDRAWN) else staff,
                decided_at=None if status in (Status.PENDING, Status.WITHDRAWN) else decided,
                reason=REFUSAL if status == Status.REFUSED else "",
            )
        return event

    def first_aid(self, title, people):
        rep = _user(REP_LONDON)
        event = _event(
            title,
            Event.Kind.COURSE,
            organiser=rep,
            description="A one-day course certified by MHFA England: spotting the signs of "
            "mental ill health and giving first support, in the council chamber and out.",
            runs=("2027-03-12 09:30", "2027-03-12 16:30"),
            booking=("2026-11-16 09:00", "2027-03-10 17:00"),
            venue="Camden Centre, Judd Street, London",
            region=Region.objects.get(name="London"),
            capacity=12,
        )
        for position, user in enumerate(people["london"][:15]):
            status = Place.Status.BOOKED if position < 12 else Place.Status.WAITING
            booking = _place(event, user, None, status)
            if position == 2:
                booking.access_needs = "Step-free access, please: I use a wheelchair."
                booking.dietary_requirements = "Vegetarian."
                booking.save()
        return event

    def chairing(self, title, people):
        event = _event(
            title,
            Event.Kind.ONLINE,
            organiser=_user(STAFF),
            description="Chairing a committee or a group meeting so that everyone is heard.",
            runs=("2026-10-14 18:00", "2026-10-14 19:30"),
            booking=("2026-09-01 09:00", "2026-10-14 12:00"),
            online_link="https://meet.example.org/alc-chairing-meetings",
            capacity=60,
        )
        for user in [_user(COUNCILLOR), *people["all"][:9]]:
            booking = _place(event, user, None, Place.Status.BOOKED)
            booking.attended = True
            booking.attendance_marked_at = event.ends_at
            booking.save()
        return event

    def budget_briefing(self, title, people):
        rep = _user(REP_WALES)
        event = _event(
            title,
            Event.Kind.ONLINE,
            organiser=rep,
            description="An evening briefing on scrutinising next year's budget.",
            runs=("2027-01-20 18:30", "2027-01-20 20:00"),
            booking=("2026-11-16 09:00", "2027-01-20 12:00"),
            online_link="https://meet.example.org/alc-wales-budget",
            region=Region.objects.get(name="Wales"),
            capacity=30,
        )
        for user in people["wales"][:4]:
            _place(event, user, None, Place.Status.BOOKED)
        return event


def _event(title, kind, *, organiser, runs, booking, **fields) -> Event:
    """An event run by `organiser`: `runs` and `booking` are its start and end, and when booking
    opens and closes, each "YYYY-MM-DD HH:MM" in London time."""
    starts_at, ends_at, opens_at, closes_at = (
        datetime.datetime.fromisoformat(moment).replace(tzinfo=LONDON_TIME)
        for moment in [*runs, *booking]
    )
    event = Event.objects.create(
        title=title,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        booking_opens_at=opens_at,
        booking_closes_at=closes_at,
        created_by=organiser,
        **fields,
    )
    event.organisers.set([organiser])
    return event


def _user(email: str) -> User:
    return User.objects.get(email=email)


def _place(event, user, session, status) -> Booking:
    booking, _ = Booking.objects.get_or_create(event=event, user=user)
    booked = status == Place.Status.BOOKED
    Place.objects.create(
        booking=booking,
        event=event,
        session=session,
        slot=session.slot if session else None,
        status=status,
        booked_at=booking.created_at if booked else None,
    )
    return booking
