"""Benchmark: the real mailing pipeline against a one-process baseline, to the same SMTP sink.

    python -m alc_portal.embedded -- python bench/mailing.py [--count 10000] [--workers 2]
        [--sink auto|postfix|python] [--profile DIR]

(`make bench` does the same with its own embedded services under var/bench.)

Uses its own database (alc_portal_bench, created afresh on the PostgreSQL server in
DATABASE_URL) and its own Celery queue, so it never touches the portal's data. It creates
`count` councils with a Labour group each (a contact address) and elections on 6 May 2027, and
one mailing to them, then:

- baseline: one process, no database. The mailing's templates are compiled once as any Django
  process would cache them (Markdown, nh3 and CSS inlining done once, as the pipeline does);
  each message is rendered with Django's template engine and sent with EmailMultiAlternatives
  over one SMTP connection. Before timing, its first message is checked to have the same
  subject, text and HTML as the pipeline's.
- raw: the baseline's messages rendered beforehand, then written over one SMTP connection
  with PIPELINING (one round trip per message): the most the sink can take, the limit.
- pipeline: `mailing_start` (the audience snapshot) and two `celery worker` processes sending
  from the Delivery ledger, timed from calling mailing_start until the last delivery is
  recorded as sent.

It prints the figures, then checks that the sink accepted every message, and stops the sink
(SIGTERM, then SIGKILL) and the workers whatever happens.

The sink is Postfix's smtp-sink when installed (Debian's postfix package), otherwise
bench/smtp_sink.py. `--profile DIR` samples the worker processes with py-spy while the pipeline
runs and prints where their time went (that run's figures include the profiler's cost).
"""

import argparse
import collections
import datetime
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench.support import (  # noqa: E402 - found through the paths above
    bench_database_url,
    free_port,
    production_environment,
    profile_summary,
    profiler_start,
)

production_environment()
BENCH_DB = "alc_portal_bench"
QUEUE = "mailing-bench"
POSTFIX_SINK = "/usr/sbin/smtp-sink"
ELECTION_DAY = datetime.date(2027, 5, 6)

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


class Sink:
    """A discard-everything SMTP server in its own process: Postfix's smtp-sink (C) when
    installed, else bench/smtp_sink.py."""

    def __init__(self, kind: str):
        if kind == "auto":
            kind = "postfix" if os.access(POSTFIX_SINK, os.X_OK) else "python"
        self.kind = kind
        self.accepted = None
        self.output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by stop()
        if kind == "postfix":
            self.port = free_port()
            command = [POSTFIX_SINK, "-c"]
            if os.geteuid() == 0:
                command += ["-u", "nobody"]  # smtp-sink refuses to run as root
            self.proc = subprocess.Popen(
                [*command, f"127.0.0.1:{self.port}", "256"], stdout=self.output
            )
            self._wait_listening()
        else:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "smtp_sink.py")],
                stdout=subprocess.PIPE,
                text=True,
            )
            self.port = int(self.proc.stdout.readline().split()[1])

    @property
    def name(self) -> str:
        return "Postfix smtp-sink" if self.kind == "postfix" else "bench/smtp_sink.py (asyncio)"

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("smtp-sink did not start")

    def _postfix_count(self) -> int | None:
        """smtp-sink -c keeps running counters on its output ("sess=1 quit=1 mesg=3\r")."""
        self.output.seek(0)
        counts = re.findall(r"mesg=(\d+)", self.output.read())
        return int(counts[-1]) if counts else None

    def count(self, expected: int) -> int:
        """How many messages the sink has accepted, waiting a little for `expected`. Postfix's
        sink is asked while it runs; the Python sink tells only as it stops."""
        if self.kind != "postfix":
            return self.stop()
        deadline = time.monotonic() + 10
        while (self._postfix_count() or 0) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        return self._postfix_count() or 0

    def stop(self) -> int | None:
        """Stop the sink (SIGTERM, then SIGKILL after five seconds) and return how many
        messages it accepted, when it said. Safe to call more than once."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.accepted is None:
            if self.kind == "postfix":
                self.accepted = self._postfix_count()
                self.output.close()
            else:
                out = self.proc.stdout.read().split()
                self.accepted = int(out[-1]) if out else None
        return self.accepted


def cpu_seconds(workers, sink: Sink) -> dict[tuple[str, int], tuple[float, float]]:
    """CPU time (user + system) used so far by each process of the run, keyed by (group, pid).
    Database connections that close during the run take their time with them: a lower bound."""
    import psutil

    out = {}
    for name, group in process_groups(workers, sink).items():
        for pid in group:
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            out[name, pid] = (times.user, times.system)
    return out


def cpu_used(before: dict, after: dict) -> dict[str, tuple[float, float]]:
    """(user, system) seconds each group of processes used between two readings."""
    user, system = collections.Counter(), collections.Counter()
    for (name, pid), (u, s) in after.items():
        u0, s0 = before.get((name, pid), (0.0, 0.0))
        user[name] += u - u0
        system[name] += s - s0
    return {name: (user[name], system[name]) for name in user}


def process_groups(workers, sink: Sink) -> dict[str, list[int]]:
    import psutil

    groups = {
        "workers": [proc.pid for proc in workers],
        "bench process": [os.getpid()],
        "sink": [sink.proc.pid],
        "postgres": [],
        "redis": [],
    }
    for proc in psutil.process_iter(["name"]):
        name = proc.info["name"] or ""
        if name.startswith("postgres"):
            groups["postgres"].append(proc.pid)
        elif name.startswith("redis"):
            groups["redis"].append(proc.pid)
    return groups


# --- data -------------------------------------------------------------------------------------


def audience_create(count: int) -> int:
    """`count` councils, each with a Labour group and elections on 6 May 2027; one mailing to
    the groups' contact addresses. Returns the mailing's id."""
    from campaigns.models import Mailing
    from regions.models import Council, CouncilGroup, Election, Region

    region = Region.objects.create(name="Bench Region", slug="bench-region")
    councils = Council.objects.bulk_create(
        [
            Council(
                gss_code=f"B{n:08d}",
                name=f"Example {n} Borough Council",
                short_name=f"Example {n:05d}",
                slug=f"example-{n}",
                kind=Council.Kind.NON_METROPOLITAN_DISTRICT,
                region=region,
                total_seats=60,
                labour_seats=30,
                control="LAB",
                election_pattern=Council.ElectionPattern.ALL_OUT,
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    Election.objects.bulk_create(
        [
            Election(council=c, date=ELECTION_DAY, seats_up=40 + n % 20, labour_seats_up=12)
            for n, c in enumerate(councils)
        ],
        batch_size=2000,
    )
    CouncilGroup.objects.bulk_create(
        [
            CouncilGroup(
                council=c, name=f"Example {n} Labour Group", contact_email=f"group{n}@example.org"
            )
            for n, c in enumerate(councils)
        ],
        batch_size=2000,
    )
    mailing = Mailing.objects.create(
        subject=SUBJECT,
        body=BODY,
        from_name="ALC National Office",
        reply_to="office@alc.example.org",
        election_date=ELECTION_DAY,
        recipients=[Mailing.Recipients.CONTACT],
    )
    mailing.regions.set([region])
    return mailing.pk


# --- baseline ---------------------------------------------------------------------------------


class Baseline:
    """A plain Django sender: the mailing's templates compiled once, each message rendered with
    Django's template engine and sent with EmailMultiAlternatives."""

    def __init__(self, mailing):
        import css_inline
        from django.conf import settings
        from django.template import Engine
        from django.template.loader import render_to_string
        from django.utils.safestring import mark_safe

        from campaigns.rendering import (
            DATE_DISPLAY_FORMAT,
            WRAPPER_TEMPLATE,
            footer_reason,
            markdown_to_html,
            text_footer,
        )
        from campaigns.services.messages import Envelope

        # The election date is ISO text in the recipients' values and shows as "6 May 2027":
        # in plain Django that is a date object and the |date filter.
        def django_tags(source: str) -> str:
            return re.sub(
                r"\{\{\s*election\.date\s*\}\}",
                f'{{{{ election.date|date:"{DATE_DISPLAY_FORMAT}" }}}}',
                source,
            )

        body = django_tags(mailing.body)
        # Markdown, nh3 and CSS inlining run once with placeholders where the merge fields go,
        # exactly as the pipeline does; the placeholders then become Django variables again.
        tags = re.findall(r"\{\{.*?\}\}", body)
        marked = body
        for index, tag in enumerate(tags):
            marked = marked.replace(tag, f"BENCHFIELD{index}X", 1)
        page = render_to_string(
            WRAPPER_TEMPLATE,
            {
                "subject": "BENCHSUBJECTX",
                "content": mark_safe(markdown_to_html(marked)),  # noqa: S308 - sanitised by nh3
                "unsubscribe_url": "BENCHURLX",
                "reason": "BENCHREASONX",
            },
        )
        page = css_inline.inline(page)
        for index, tag in enumerate(tags):
            page = page.replace(f"BENCHFIELD{index}X", tag)
        page = (
            page.replace("BENCHSUBJECTX", "{{ subject }}")
            .replace("BENCHURLX", "{{ unsubscribe_url }}")
            .replace("BENCHREASONX", "{{ reason }}")
        )
        text = (
            body.strip()
            + "\n"
            + text_footer(unsubscribe_url="{{ unsubscribe_url }}", reason="{{ reason }}")
        )
        plain = Engine(autoescape=False)
        self.subject = plain.from_string(django_tags(mailing.subject))
        self.text = plain.from_string(text)
        self.html = Engine(autoescape=True).from_string(page)
        envelope = Envelope.for_mailing(mailing)
        self.mailing_id = mailing.pk
        self.reason = footer_reason
        self.links = envelope.links
        self.from_email = envelope.from_email
        self.reply_to = envelope.reply_to
        self.msgid_domain = settings.MAILING_MESSAGE_ID_DOMAIN
        self.signed = 0

    def render(self, email: str, values: dict):
        from django.template import Context

        # The pipeline signs each message's delivery id; the baseline signs one of its own.
        self.signed += 1
        url = self.links.url(delivery_id=self.signed, mailing_id=self.mailing_id)
        election = values.get("election")
        if election and election.get("date"):
            day = datetime.date.fromisoformat(election["date"])
            values = {**values, "election": {**election, "date": day}}
        context = Context({**values, "unsubscribe_url": url, "reason": self.reason(values)})
        subject = " ".join(self.subject.render(context).split())
        context["subject"] = subject
        return url, subject, self.text.render(context), self.html.render(context)

    def message(self, email: str, values: dict):
        from email.utils import make_msgid

        from django.core.mail import EmailMultiAlternatives

        url, subject, text, html = self.render(email, values)
        message = EmailMultiAlternatives(
            subject,
            text,
            self.from_email,
            [email],
            reply_to=self.reply_to,
            headers={"Message-ID": make_msgid(domain=self.msgid_domain), **self.links.headers(url)},
        )
        message.attach_alternative(html, "text/html")
        return message

    def check_same_as_pipeline(self, mailing, recipient) -> None:
        from campaigns.rendering import render_message

        url, subject, text, html = self.render(recipient.email, recipient.context)
        ours = render_message(
            subject=mailing.subject,
            body=mailing.body,
            context={**recipient.context, "unsubscribe_url": url},
        )
        assert (subject, text, html) == (ours.subject, ours.text, ours.html), (
            "the baseline renders different messages from the pipeline"
        )

    def breakdown(self, recipients) -> tuple[float, float]:
        """Milliseconds per message spent rendering, and building and serialising the message
        (what EmailMultiAlternatives does before the bytes go to the server)."""
        start = time.perf_counter()
        for recipient in recipients:
            self.render(recipient.email, recipient.context)
        render = time.perf_counter() - start
        start = time.perf_counter()
        for recipient in recipients:
            self.message(recipient.email, recipient.context).message().as_bytes()
        build = time.perf_counter() - start - render
        return render * 1000 / len(recipients), build * 1000 / len(recipients)

    def run(self, recipients) -> float:
        from django.core.mail import get_connection

        start = time.perf_counter()
        connection = get_connection()
        connection.open()
        for recipient in recipients:
            connection.send_messages([self.message(recipient.email, recipient.context)])
        connection.close()
        return len(recipients) / (time.perf_counter() - start)


# --- the raw transfer limit -------------------------------------------------------------------


def smtp_payloads(baseline: Baseline, recipients) -> list[tuple[bytes, bytes, bytes]]:
    """Each recipient's message as the baseline builds it, ready for the wire: (MAIL FROM
    address, RCPT TO address, data with CRLF line ends and leading dots doubled)."""
    from email.utils import parseaddr

    sender = parseaddr(baseline.from_email)[1].encode()
    payloads = []
    for recipient in recipients:
        data = baseline.message(recipient.email, recipient.context).message()
        data = re.sub(rb"(?m)^\.", b"..", data.as_bytes(linesep="\r\n"))
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        payloads.append((sender, recipient.email.encode(), data))
    return payloads


def raw_transfer(port: int, payloads) -> float:
    """Messages/s sending already rendered messages over one SMTP connection with PIPELINING
    (RFC 2920): each message's end of data travels with the next one's MAIL, RCPT and DATA, so
    one round trip per message. Nothing is rendered or stored: the most the sink can take."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    replies = sock.makefile("rb")

    def read(count: int) -> None:
        for _ in range(count):
            line = replies.readline()
            while line[3:4] == b"-":
                line = replies.readline()
            if line[:1] not in (b"2", b"3"):
                raise RuntimeError(f"the sink answered {line!r}")

    start = time.perf_counter()
    read(1)
    sock.sendall(b"EHLO bench.example.org\r\n")
    read(1)
    pending = b""
    for sender, recipient, data in payloads:
        sock.sendall(pending + b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (sender, recipient))
        read(4 if pending else 3)
        pending = data + b".\r\n"
    sock.sendall(pending + b"QUIT\r\n")
    read(2)
    elapsed = time.perf_counter() - start
    replies.close()
    sock.close()
    return len(payloads) / elapsed


# --- pipeline ---------------------------------------------------------------------------------


def pipeline(mailing_id: int, workers: int, database_url: str, sink: Sink, profile_dir):
    from django.db.models import Max
    from django.utils import timezone
    from workers import worker_start, worker_stop

    from campaigns.models import Delivery, Mailing
    from campaigns.services.lifecycle import mailing_start

    procs = [worker_start(database_url=database_url, name=f"bench{i}") for i in range(workers)]
    profilers, paths = [], []
    if profile_dir:
        profile_dir.mkdir(parents=True, exist_ok=True)
        for proc in procs:
            paths.append(profile_dir / f"worker-{proc.pid}.txt")
            profilers.append(profiler_start(proc.pid, paths[-1]))
        time.sleep(1)
    try:
        cpu_before = cpu_seconds(procs, sink)
        started = timezone.now()
        start = time.perf_counter()
        assert mailing_start(mailing_id=mailing_id)
        snapshot = time.perf_counter() - start
        while Mailing.objects.get(pk=mailing_id).status != Mailing.Status.SENT:
            time.sleep(0.05)
        cpu = cpu_used(cpu_before, cpu_seconds(procs, sink))
    finally:
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)
            try:
                profiler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                profiler.kill()
                profiler.wait()
        for proc in procs:
            worker_stop(proc)
    sent = Delivery.objects.filter(mailing_id=mailing_id, status="sent")
    count = sent.count()
    last = sent.aggregate(last=Max("sent_at"))["last"]
    elapsed = (last - started).total_seconds()
    return count, count / elapsed, elapsed, snapshot, cpu, paths


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sink", choices=["auto", "postfix", "python"], default="auto")
    parser.add_argument("--profile", type=Path, help="py-spy the workers; summaries go here")
    args = parser.parse_args()

    database_url = bench_database_url(BENCH_DB)
    sink = Sink(args.sink)
    os.environ.update(
        DATABASE_URL=database_url,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(sink.port),
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        CELERY_TASK_DEFAULT_QUEUE=QUEUE,
        MAILING_PARALLEL_TASKS=str(args.workers),
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    from campaigns.audience import audience_resolve
    from campaigns.models import Mailing

    call_command("migrate", verbosity=0)
    try:
        mailing_id = audience_create(args.count)
        mailing = Mailing.objects.get(pk=mailing_id)
        start = time.perf_counter()
        recipients = audience_resolve(mailing).recipients
        resolve = time.perf_counter() - start
        assert len(recipients) == args.count
        baseline = Baseline(mailing)
        baseline.check_same_as_pipeline(mailing, recipients[0])
        base = baseline.run(recipients)
        render_ms, build_ms = baseline.breakdown(recipients[:1000])
        payloads = smtp_payloads(baseline, recipients)
        size = len(payloads[0][2])
        raw = raw_transfer(sink.port, payloads)
        del payloads
        sent, pipe, elapsed, snapshot, cpu, paths = pipeline(
            mailing_id, args.workers, database_url, sink, args.profile
        )
        assert sent == args.count, f"only {sent} of {args.count} sent"
        if paths:
            summary = profile_summary(paths)
            (args.profile / "summary.txt").write_text(summary + "\n")
            print(summary)
        print(f"sink:     {sink.name}; each message about {size:,} bytes")
        print(f"baseline: {base:8.0f} messages/s (one process, Django templates compiled once,")
        print("                               EmailMultiAlternatives, one connection, no database)")
        print(
            f"          per message: {1000 / base:.2f} ms, of which rendering {render_ms:.2f} ms,"
            f" building and serialising the message {build_ms:.2f} ms, the rest SMTP"
        )
        print(
            f"pipeline: {pipe:8.0f} messages/s ({args.workers} celery workers, {elapsed:.2f} s"
            f" from mailing_start to the last delivery recorded; snapshot {snapshot:.2f} s)"
        )
        print(
            f"raw:      {raw:8.0f} messages/s (the same messages already rendered, one pipelined"
            " SMTP connection: the limit)"
        )
        print(f"ratio:    {pipe / base:8.2f} x the baseline")
        print(f"share:    {100 * pipe / raw:7.0f} % of the raw transfer limit")
        print(f"(resolving the audience alone, before the baseline: {resolve:.2f} s)")
        print(
            "CPU during the pipeline (user + system): "
            + ", ".join(f"{name} {u:.1f} + {s:.1f} s" for name, (u, s) in cpu.items())
        )
        sys.stdout.flush()
        expected = 3 * args.count
        accepted = sink.count(expected)
        print(f"sink accepted {accepted} messages (baseline, raw transfer and pipeline)")
        assert accepted == expected, f"the sink accepted {accepted}, not {expected}"
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
