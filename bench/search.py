"""Benchmark: "Find anyone" at the association's full size.

    python -m alc_portal.embedded -- python bench/search.py [--count 20000] [--queries 1000]

(`make bench-search` does the same with its own embedded services under var/bench.)

Uses its own database (alc_portal_bench_search, created afresh on the PostgreSQL server in
DATABASE_URL). It loads the real councils of Great Britain, then `count` councillors with
generated Welsh, Scottish, South Asian, Irish and English names (accents, apostrophes, hyphens
and particles included), wards, email addresses and phone numbers, spread over the councils by
their seats, and builds the search index (`entries_reconcile`, timed). Then it runs `queries`
mixed queries (whole names, names in another order or without accents, the first letters of a
name as it is typed, names with a typo, parts of email addresses and phone numbers, councils,
wards) as the representative of the largest region and as national staff, and prints the 50th
and 99th percentiles of:

- the search: `search.results.search_for`, everything a search does (the person's scope, the
  index query, each kind's access function, ranking), with the person's roles read afresh;
- the results page: GET /search/?q=... through Django's test client, middleware, session and
  template included.

It runs with DEBUG off, as in production (static files from the source folders, no
collectstatic needed).
"""

import argparse
import os
import random
import secrets
import statistics
import sys
import time
import unicodedata
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
for _name, _value in {
    "DEBUG": "0",
    "SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
    "ALLOWED_HOSTS": "testserver",
    "PORTAL_URL": "https://alc.example.org",
    "DEFAULT_FROM_EMAIL": "ALC Portal <portal@alc.example.org>",
    "DJANGO_SETTINGS_MODULE": "alc_portal.settings",
    "LOG_LEVEL": "WARNING",
    # No mail is sent; the settings insist on a server when DEBUG is off.
    "EMAIL_HOST": "127.0.0.1",
}.items():
    os.environ.setdefault(_name, _value)
BENCH_DB = "alc_portal_bench_search"

FIRST = {
    "welsh": "Siân Llŷr Rhiannon Dafydd Gwenllian Angharad Iolo Ffion Gareth Cerys Rhodri Eluned "
    "Carys Gruffydd Heledd Owain Nia Bethan Emyr Mererid Aled Lowri Huw Gwion Sioned Tomos",
    "scottish": "Eilidh Mòrag Ruairidh Catrìona Iain Seonaidh Calum Mairi Ewan Isla Fraser "
    "Kirsty Hamish Ailsa Lachlan Fiona Alasdair Morven Euan Shona Struan Elspeth",
    "south_asian": "Priya Mohammed Harpreet Aisha Sanjay Anjali Imran Gurpreet Fatima Rajesh "
    "Nasreen Arjun Sunita Tariq Deepa Hamza Kiran Zainab Vikram Shabana Amrit Nadia Bilal",
    "irish": "Niamh Seán Aoife Pádraig Caoimhe Siobhán Ciarán Orla Eoin Róisín Declan Gráinne "
    "Colm Aisling Donal Méabh Fionnuala Tadhg Sorcha Cathal",
    "english": "John Mary David Sarah James Emma Robert Helen Michael Claire Peter Rachel Paul "
    "Joanne Andrew Karen Mark Lucy Simon Alison Richard Hannah Stephen Ruth Thomas Jane",
}
LAST = {
    "welsh": "ap Gwilym|Williams|Prys|ab Owain|Morgan|Lloyd-Jones|ap Rhys|Pritchard|Griffiths|"
    "Llewelyn|Vaughan|Bowen|Parry|Price|Pugh|Jenkins|Rees|Davies|Hughes|Evans|Powell|Meredith",
    "scottish": "MacLeòid|NicDhòmhnaill|MacAoidh|Mhoireach|MacDonald|Campbell|Stewart|Fraser|"
    "Robertson|McIntyre|MacKenzie|Sinclair|Munro|Buchanan|Drummond|Ferguson|Kerr|Grant",
    "south_asian": "Chakraborty|Iqbal|Kaur Sandhu|Siddiqui|Patel|Sharma|Khan|Hussain|Singh|"
    "Gill|Begum|Ahmed|Chaudhry|Rahman|Mistry|Desai|Bhatti|Malik|Akhtar|Choudhury|Dhillon",
    "irish": "Ó Súilleabháin|Ní Bhriain|O'Brien|O’Connor|Mac Giolla Phádraig|Murphy|Kelly|"
    "O'Neill|Byrne|Ryan|Doyle|McCarthy|Gallagher|Ó Ceallaigh|Nic Aodha|Brennan|Quinn",
    "english": "Smith|Jones|Taylor|Brown|Wilson|Johnson|Wright|Robinson|Thompson|Walker|White|"
    "Hartley-Booth|Harris|Clarke|Cooper|Ward|Turner|Hill|Green|Baker|Wood|Fletcher|Ashworth",
}
WEIGHTS = {"english": 55, "welsh": 10, "scottish": 10, "south_asian": 15, "irish": 10}
WARDS = [
    "Abbey", "Castle", "Central", "Cathays", "Riverside", "Hillside", "Park", "Marsh", "Oakfield",
    "Valley", "Harbour", "Canton", "Heath", "Llandaff", "Moorside", "Kingsway", "Broadway",
    "Greenbank", "Elmwood", "Thornhill", "Ashgrove", "Millbrook", "Fairfield", "Springfield",
    "Westgate", "Eastfield", "Northfield", "Southside", "Bridgend", "Highfield", "Meadow",
]  # fmt: skip


def ascii_fold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).lower()


def bench_database_url() -> str:
    import psycopg2

    url = urlsplit(os.environ["DATABASE_URL"])
    conn = psycopg2.connect(urlunsplit(url._replace(path="/postgres")))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        cursor.execute(f"CREATE DATABASE {BENCH_DB}")
    conn.close()
    return urlunsplit(url._replace(path=f"/{BENCH_DB}"))


# --- data -------------------------------------------------------------------------------------


def person(rng: random.Random, n: int) -> tuple[str, str, str, str]:
    """A generated councillor: full name, email, ward, phone."""
    origin = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    first = rng.choice(FIRST[origin].split())
    last = rng.choice(LAST[origin].split("|"))
    local = ".".join(ascii_fold(part) for part in (first, last.replace(" ", "")))
    email = "".join(c for c in local if c.isalnum() or c == ".") + f"{n}@example.org"
    ward = " ".join(rng.sample(WARDS, rng.choice([1, 1, 2])))
    phone = f"07700 9{n % 100_000:05d}" if rng.random() < 0.6 else ""
    return f"{first} {last}", email, ward, phone


def people_create(count: int, rng: random.Random) -> list[tuple]:
    from django.contrib.auth.hashers import make_password

    from members.models import Councillor, User
    from regions.models import Council

    councils = list(Council.objects.current().only("pk", "total_seats"))
    seats = [council.total_seats for council in councils]
    password = make_password(None)
    made = [person(rng, n) for n in range(count)]
    users = User.objects.bulk_create(
        [User(email=email, full_name=name, password=password) for name, email, _w, _p in made],
        batch_size=2000,
    )
    placed = rng.choices(councils, weights=seats, k=count)
    Councillor.objects.bulk_create(
        [
            Councillor(user=user, council=council, ward=ward, phone=phone,
                       left_on=None if rng.random() > 0.03 else "2025-05-01")
            for user, council, (_n, _e, ward, phone) in zip(users, placed, made, strict=True)
        ],
        batch_size=2000,
    )  # fmt: skip
    return made


def searchers():
    """The representative of the region with the most councillors, and a member of staff,
    each enrolled in two-factor authentication as they must be."""
    from allauth.mfa.totp.internal.auth import TOTP
    from django.db.models import Count

    from members.models import StaffRole, User
    from regions.models import Region, RegionalRepresentative

    region = Region.objects.annotate(n=Count("councils__councillors")).order_by("-n").first()
    rep = User.objects.create_user("rep@bench.example.org", full_name="Bench Representative")
    RegionalRepresentative.objects.create(user=rep, region=region)
    staff = User.objects.create_user("staff@bench.example.org", full_name="Bench Staff")
    StaffRole.objects.create(user=staff)
    for user in (rep, staff):
        TOTP.activate(user, "JBSWY3DPEHPK3PXPBENCHSECRET23456")
    return region, rep, staff


def queries_make(made, rng: random.Random, count: int) -> list[str]:
    """A mix of what people type into the search box."""
    from regions.models import Council

    councils = list(Council.objects.values_list("name", "short_name", "gss_code"))

    def typo(word: str) -> str:
        i = rng.randrange(1, len(word) - 1)
        return rng.choice([word[:i] + word[i + 1 :], word[:i] + word[i] + word[i:],
                           word[:i] + word[i + 1] + word[i] + word[i + 2 :]])  # fmt: skip

    kinds = [
        (20, lambda name, email, ward, phone: name),
        (10, lambda name, email, ward, phone: ascii_fold(name)),
        (8, lambda name, email, ward, phone: " ".join(reversed(name.split()))),
        (20, lambda name, email, ward, phone: name.split()[-1][: rng.randint(3, 5)]),
        (7, lambda name, email, ward, phone: name.split()[0][:3] + " " + name.split()[-1][:2]),
        (12, lambda name, email, ward, phone: typo(max(name.split(), key=len))),
        (7, lambda name, email, ward, phone: email.split("@")[0][: rng.randint(4, 9)]),
        (3, lambda name, email, ward, phone: phone[: rng.randint(6, 9)] or name),
        (5, lambda name, email, ward, phone: ward.split()[0]),
    ]
    out = []
    for _ in range(count):
        if rng.random() < 0.08:
            name, short, gss = rng.choice(councils)
            out.append(rng.choice([name, short, short[: rng.randint(3, 6)], gss]))
            continue
        make = rng.choices([k[1] for k in kinds], weights=[k[0] for k in kinds])[0]
        out.append(make(*rng.choice(made)))
    return out


# --- timing -----------------------------------------------------------------------------------


def client_for(user):
    """A test client signed in as `user`, having passed two-factor authentication."""
    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )
    from django.test import Client

    # As behind the proxy (deploy/nginx), which says the request came over HTTPS.
    client = Client(secure=True, HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    session = client.session
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "mfa", "at": time.time(), "type": "totp"}
    ]
    session.save()
    return client


def percentiles(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * len(ms)) - 1)]
    return f"p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   max {ms[-1]:6.1f} ms"


def run(user, queries: list[str]) -> tuple[list[float], list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from members.models import User
    from search.results import search_for
    from search.views import PAGE_RESULTS

    client = client_for(user)
    counts = set()
    for query in queries[:50]:  # warm up, counting the queries each search makes
        fresh = User.objects.get(pk=user.pk)
        with CaptureQueriesContext(connection) as captured:
            search_for(fresh, query, per_kind=PAGE_RESULTS)
        counts.add(len(captured))
        client.get("/search/", {"q": query})
    print(f"  database queries per search: {', '.join(map(str, sorted(counts)))}")
    searched, paged, found = [], [], 0
    for query in queries:
        fresh = User.objects.get(pk=user.pk)  # roles read afresh, as in a request
        start = time.perf_counter()
        results = search_for(fresh, query, per_kind=PAGE_RESULTS)
        searched.append(time.perf_counter() - start)
        found += bool(results.total)
        start = time.perf_counter()
        response = client.get("/search/", {"q": query})
        paged.append(time.perf_counter() - start)
        assert response.status_code == 200, (query, response.status_code)
    return searched, paged, found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = bench_database_url()
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic here
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    from regions.services import councils_load
    from search.services import entries_reconcile

    call_command("migrate", verbosity=0)
    councils_load()
    rng = random.Random(args.seed)
    start = time.perf_counter()
    made = people_create(args.count, rng)
    created = time.perf_counter() - start
    start = time.perf_counter()
    counts = entries_reconcile()
    built = time.perf_counter() - start
    region, rep, staff = searchers()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE search_searchentry")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('search_searchentry'))")
        size = cursor.fetchone()[0]
    queries = queries_make(made, rng, args.queries)
    print(f"{args.count:,} councillors created in {created:.1f} s; index built in {built:.1f} s")
    print(f"  ({counts}; {size} with its indexes)")
    print(f"{len(queries):,} mixed queries, e.g. {', '.join(repr(q) for q in queries[:8])}")
    # Static files from the source folders: no collectstatic for a benchmark.
    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        for label, user in ((f"representative ({region.name})", rep), ("staff", staff)):
            print(f"{label}:")
            searched, paged, found = run(user, queries)
            print(f"  {found} of {len(queries)} queries found something")
            print(f"  search       {percentiles(searched)}")
            print(f"  results page {percentiles(paged)}")


if __name__ == "__main__":
    main()
