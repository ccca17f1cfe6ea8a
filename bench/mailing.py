"""Benchmark: the real mailing pipeline against a one-process baseline, to the same SMTP sink.

    python -m alc_portal.embedded -- python bench/mailing.py [--count 10000] [--workers 2]

Uses its own database (alc_portal_bench, created afresh on the PostgreSQL server in
DATABASE_URL) and its own Celery queue, so it never touches the portal's data.

- baseline: one process renders each message with Django's template engine, Markdown, nh3 and
  css_inline, and sends it with EmailMultiAlternatives over one SMTP connection; no database.
- pipeline: N Delivery rows sent by two `celery worker` processes (mailing_send tasks), from
  pressing "send" until the mailing is marked sent.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alc_portal.settings")
BENCH_DB = "alc_portal_bench"
QUEUE = "mailing-bench"

SUBJECT = "Elections at {{ council.name }} on {{ election.date }}"
BODY = """# Dear {{ recipient.first_name|default:"colleague" }}

Elections to **{{ council.name }}** are on {{ election.date }}: {{ election.seats_up }} seats,
{{ election.labour_seats_up }} of them held by Labour.

The national office has a campaign pack for **{{ group.name }}** in {{ region.name }}:

- leaflet templates and a social media kit;
- a briefing on the cost-of-living campaign;
- contacts for your regional representative.

[Download the pack](https://alc.example.org/campaigns/pack/)

> Every seat counts. Thank you for all you do.
"""


def context_for(n: int) -> dict:
    return {
        "recipient": {"first_name": f"Alex{n}", "full_name": f"Alex{n} Example"},
        "group": {"name": f"Example {n % 300} Labour Group"},
        "council": {"name": f"Example {n % 300} Borough Council"},
        "region": {"name": "Wales"},
        "election": {"date": "6 May 2027", "seats_up": 40 + n % 20, "labour_seats_up": 12},
    }


def bench_database_url() -> str:
    url = urlsplit(os.environ["DATABASE_URL"])
    admin = urlunsplit(url._replace(path="/postgres"))
    import psycopg2

    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        cursor.execute(f"CREATE DATABASE {BENCH_DB}")
    conn.close()
    return urlunsplit(url._replace(path=f"/{BENCH_DB}"))


def baseline_lean(count: int) -> float:
    """The fastest fair single process: templates compiled once, and Markdown, nh3, the wrapper
    and CSS inlining done once with the merge fields left in; each message is three Django
    template renders and a send over one connection."""
    import css_inline
    import markdown
    import nh3
    from django.core.mail import EmailMultiAlternatives, get_connection
    from django.template import Context, Engine
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    from campaigns.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, MARKDOWN_EXTENSIONS
    from campaigns.unsubscribe import unsubscribe_url

    engine = Engine(autoescape=True)
    content = nh3.clean(
        markdown.markdown(BODY, extensions=MARKDOWN_EXTENSIONS),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
    )
    page = render_to_string(
        "campaigns/email/message.html",
        {"subject": "{{ subject }}", "content": mark_safe(content), "unsubscribe_url": "{{ url }}"},  # noqa: S308
    )
    subject_template = Engine(autoescape=False).from_string(SUBJECT)
    text_template = Engine(autoescape=False).from_string(BODY)
    html_template = engine.from_string(css_inline.inline(page))
    start = time.perf_counter()
    connection = get_connection()
    connection.open()
    for n in range(count):
        email = f"lean{n}@example.org"
        url = unsubscribe_url(email=email, mailing_id=1)
        context = Context({**context_for(n), "url": url})
        subject = subject_template.render(context)
        context["subject"] = subject
        message = EmailMultiAlternatives(
            subject, text_template.render(context), to=[email],
            headers={"List-Unsubscribe": f"<{url}>"},
        )  # fmt: skip
        message.attach_alternative(html_template.render(context), "text/html")
        connection.send_messages([message])
    connection.close()
    return count / (time.perf_counter() - start)


def sink_start():
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py")],
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(proc.stdout.readline().split()[1])
    return proc, port


def sink_stop(proc) -> int:
    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    return int(out.split()[-1])


def baseline(count: int) -> float:
    import css_inline
    import markdown
    import nh3
    from django.core.mail import EmailMultiAlternatives, get_connection
    from django.template import Context, Engine
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    from campaigns.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, MARKDOWN_EXTENSIONS
    from campaigns.unsubscribe import unsubscribe_url

    engine = Engine(autoescape=False)
    start = time.perf_counter()
    connection = get_connection()
    connection.open()
    for n in range(count):
        context = Context(context_for(n))
        email = f"baseline{n}@example.org"
        url = unsubscribe_url(email=email, mailing_id=1)
        subject = engine.from_string(SUBJECT).render(context)
        text = engine.from_string(BODY).render(context)
        content = nh3.clean(
            markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS),
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
        )
        page = render_to_string(
            "campaigns/email/message.html",
            {"subject": subject, "content": mark_safe(content), "unsubscribe_url": url},  # noqa: S308
        )
        message = EmailMultiAlternatives(
            subject, text, to=[email], headers={"List-Unsubscribe": f"<{url}>"}
        )
        message.attach_alternative(css_inline.inline(page), "text/html")
        connection.send_messages([message])
    connection.close()
    return count / (time.perf_counter() - start)


def pipeline(count: int, workers: int, database_url: str) -> float:
    from django.utils import timezone
    from workers import worker_start, worker_stop

    from alc_portal.celery import app
    from campaigns.models import Delivery, Mailing
    from campaigns.services.sending import _queue_senders

    mailing = Mailing.objects.create(subject=SUBJECT, body=BODY, recipients=["contact"])
    Delivery.objects.bulk_create(
        [
            Delivery(mailing=mailing, email=f"pipeline{n}@example.org", context=context_for(n))
            for n in range(count)
        ],
        batch_size=5000,
    )
    procs = [worker_start(database_url=database_url, name=f"bench{i}") for i in range(workers)]
    try:
        app.conf.task_default_queue = QUEUE
        start = time.perf_counter()
        Mailing.objects.filter(pk=mailing.pk).update(
            status=Mailing.Status.SENDING, started_at=timezone.now()
        )
        _queue_senders(mailing.pk)
        while Mailing.objects.get(pk=mailing.pk).status != Mailing.Status.SENT:
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
    finally:
        for proc in procs:
            worker_stop(proc)
    sent = Delivery.objects.filter(mailing=mailing, status="sent").count()
    assert sent == count, f"only {sent} of {count} sent"
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    database_url = bench_database_url()
    sink, port = sink_start()
    os.environ.update(
        DATABASE_URL=database_url,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        CELERY_TASK_DEFAULT_QUEUE=QUEUE,
        MAILING_PARALLEL_TASKS=str(args.workers),
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        base = baseline(args.count)
        print(f"baseline: {base:8.0f} messages/s (one process, each message rendered in full)")
        lean = baseline_lean(args.count)
        print(f"lean:     {lean:8.0f} messages/s (one process, Markdown and CSS done once)")
        pipe = pipeline(args.count, args.workers, database_url)
        print(f"pipeline: {pipe:8.0f} messages/s ({args.workers} workers, Postgres ledger)")
        print(f"ratio:    {pipe / base:8.2f} x the baseline, {pipe / lean:.2f} x the lean one")
    finally:
        print(f"sink accepted {sink_stop(sink)} messages")


if __name__ == "__main__":
    main()
