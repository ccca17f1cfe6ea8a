"""Shared fixtures. Tests talk to the real PostgreSQL and Redis that `make test` provides."""

import os
import time
import uuid
from pathlib import Path

import pytest
from factories import StaffFactory
from workers import current_database_url, worker_start, worker_stop

from alc_portal.mailcatcher import SmtpCatcher

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def gb_councils(db):
    """The real councils of Great Britain, loaded from the project's derived data file."""
    from regions.models import Council
    from regions.services import councils_load

    if not Council.objects.exists():
        councils_load()


@pytest.fixture(scope="session")
def worker_smtp():
    """The SMTP server the session's Celery worker sends its mail to (invitations, say)."""
    catcher = SmtpCatcher(host="127.0.0.1", port=0).start()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, worker_smtp):
    """A real Celery worker process using the test database, the test Redis and worker_smtp."""
    saved = {name: os.environ.get(name) for name in ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_URL")}
    os.environ.pop("EMAIL_URL", None)
    os.environ["EMAIL_HOST"], os.environ["EMAIL_PORT"] = worker_smtp.host, str(worker_smtp.port)
    try:
        proc = worker_start(database_url=current_database_url())
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    yield proc
    worker_stop(proc)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own database calls
    # are still plain synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    # Anything the Content-Security-Policy blocks is a bug: the page relies on something it
    # may not load or run.
    blocked = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert not blocked, f"the Content-Security-Policy blocked: {blocked}"


def pytest_collection_modifyitems(config, items):
    # Browser and worker tests run last: they are the slowest and need committed data.
    items.sort(key=lambda item: "browser" in item.keywords)


@pytest.fixture(autouse=True)
def _empty_cache(settings):
    """Rate-limit counters and other cached state live in Redis; start every test clean.

    Only the cache's own keys go: cache.clear() would flush the whole database, Celery's queues
    and bindings included, from under a running worker.
    """
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(autouse=True)
def _tasks_stay_with_their_test(request, monkeypatch, settings):
    """Tasks queued by a test that does not use the session's worker go to a queue of their own
    that nobody consumes, dropped afterwards. Otherwise that worker would run them later,
    against whatever the database holds by then, or while the database is being emptied
    between tests (whose TRUNCATE then deadlocks with the task's row locks). Tests with workers
    of their own choose their own queue on top of this one."""
    if "celery_worker" in request.fixturenames:
        yield
        return
    from alc_portal.celery import app as celery_app

    queue = f"unconsumed-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    # The broker's URL now: a test may point REDIS_URL at a server it stops before teardown.
    broker = settings.REDIS_URL
    yield
    import redis

    client = redis.Redis.from_url(broker)
    client.delete(queue, f"_kombu.binding.{queue}")
    client.close()


@pytest.fixture(autouse=True)
def _force_login_completes_two_factor(monkeypatch):
    """`client.force_login(user)` stands for a whole sign-in: for someone enrolled in two-factor
    authentication, the session is marked as having passed the second factor, as allauth marks
    it after the code is typed. Tests of sessions that have not (tests/security) sign in through
    the real forms, or use `force_login_without_two_factor`."""
    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )
    from allauth.mfa.utils import is_mfa_enabled
    from django.test import Client

    plain = Client.force_login

    def force_login(self, user, backend=None):
        plain(self, user, backend)
        if is_mfa_enabled(user):
            session = self.session
            session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
            session[AUTHENTICATION_METHODS_SESSION_KEY] = [
                {"method": "mfa", "at": time.time(), "type": "totp"}
            ]
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)
    monkeypatch.setattr(Client, "force_login_without_two_factor", plain, raising=False)


@pytest.fixture
def staff_client(client):
    """A client logged in as a member of the national staff."""
    client.force_login(StaffFactory())
    return client


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded files go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is slow on purpose; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Figures some tests measure (duplicates after worker kills, a measured send rate), shown in the
# run's summary so that every CI log reports them.
_FIGURES: list[str] = []


@pytest.fixture
def report_figure():
    """Call with a line of text to have it printed in the test run's summary."""
    return _FIGURES.append


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("measured figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture
def demo_with_requests(gb_councils):
    """The demo data, with something in each list (a council change, a levy waiver, a campaign's
    mailing), so that a crawl reaches the pages of single requests and mailings too."""
    from django.core.management import call_command
    from factories import CampaignFactory, LevyWaiverFactory, MailingFactory, ProfileChangeFactory

    from members.models import Councillor, User

    call_command("demo_data", verbosity=0)
    staff = User.objects.get(email="staff@demo.alc.example.org")
    councillor = Councillor.objects.get(user__email="councillor@demo.alc.example.org")
    ProfileChangeFactory(councillor=councillor, ward="Kentish Town North")
    LevyWaiverFactory(councillor=councillor)
    MailingFactory(campaign=CampaignFactory(title="Safer high streets"), created_by=staff)
