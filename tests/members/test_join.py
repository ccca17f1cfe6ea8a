"""Joining: the public form, the representative's decision, and the emailed invitation."""

import re
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from factories import (
    PASSWORD,
    CouncilFactory,
    RegionFactory,
    RepresentativeFactory,
    UserFactory,
)
from polling import wait_for
from workers import current_database_url, worker_start, worker_stop

from alc_portal.celery import app as celery_app
from alc_portal.mailcatcher import SmtpCatcher
from members.models import Councillor, Decision, JoinRequest, User
from members.services import councillor_imports, councillors, invitations, join_requests
from members.services.notices import notices_send_due

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-password-77"


@pytest.fixture
def council():
    return CouncilFactory(
        region=RegionFactory(name="Region X", slug="region-x"),
        name="Oakfield Borough Council",
        short_name="Oakfield",
        gss_code="E0600001",
        slug="oakfield",
    )


def join_data(**overrides):
    data = {
        "full_name": "Grace Hopper",
        "council": "Oakfield Borough Council",
        "ward": "Riverside",
        "email": "grace@example.org",
    }
    return {**data, **overrides}


def test_join_form_lists_councils_and_creates_a_pending_request(client, council):
    page = client.get(reverse("join"))
    assert '<option value="Oakfield Borough Council">' in page.text

    response = client.post(reverse("join"), join_data(council="oakfield"))

    assert response.status_code == 302
    assert response.url == reverse("join_thanks")
    request = JoinRequest.objects.get()
    assert (request.full_name, request.email, request.council, request.ward) == (
        "Grace Hopper",
        "grace@example.org",
        council,
        "Riverside",
    )
    assert request.status == Decision.PENDING
    assert "Thank you" in client.get(response.url).text


def test_join_form_accepts_the_gss_code(client, council):
    client.post(reverse("join"), join_data(council="e0600001"))
    assert JoinRequest.objects.get().council == council


def _second_address(user, email, *, verified=True):
    return EmailAddress.objects.create(user=user, email=email, verified=verified, primary=False)


@pytest.mark.django_db(transaction=True)
def test_joining_with_an_address_that_has_an_account_looks_the_same_and_emails_its_owner(
    client, celery_worker, worker_smtp
):
    CouncilFactory(name="Oakfield Borough Council", short_name="Oakfield")
    UserFactory(email="grace@example.org", full_name="Grace Hopper")

    new = client.post(reverse("join"), join_data(email="someone.new@example.org"))
    taken = client.post(reverse("join"), join_data(email="Grace@Example.org"))

    assert (taken.status_code, taken.url) == (new.status_code, new.url)
    assert taken.url == reverse("join_thanks")
    assert taken.content == new.content
    assert list(JoinRequest.objects.values_list("email", flat=True)) == ["someone.new@example.org"]

    def note_arrived():
        return [m for m in worker_smtp.messages if m.rcpt_tos == ["grace@example.org"]]

    [note] = wait_for(note_arrived, timeout=30)
    assert "already have an account" in note["Subject"]
    body = note.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Grace" in body
    assert "http://127.0.0.1:8000" + reverse("account_login") in body
    assert "http://127.0.0.1:8000" + reverse("account_reset_password") in body
    # Nothing typed into the public form goes into the message.
    assert "Oakfield" not in body and "Riverside" not in body


def test_joining_with_another_members_second_address_makes_no_request(
    client, council, django_capture_on_commit_callbacks
):
    member = UserFactory(email="ada@example.org")
    _second_address(member, "grace@example.org")

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("join"), join_data(email="GRACE@example.org"))

    assert response.status_code == 302
    assert response.url == reverse("join_thanks")
    assert not JoinRequest.objects.exists()
    assert len(queued) == 1  # the note to the address's owner


def test_the_note_about_an_existing_account_is_queued_at_most_once_an_hour(
    client, council, django_capture_on_commit_callbacks
):
    UserFactory(email="grace@example.org")
    with django_capture_on_commit_callbacks() as first:
        client.post(reverse("join"), join_data())
    with django_capture_on_commit_callbacks() as second:
        response = client.post(reverse("join"), join_data())
    assert response.url == reverse("join_thanks")
    assert (len(first), len(second)) == (1, 0)
    assert not JoinRequest.objects.exists()


def test_the_note_goes_to_a_verified_second_address_but_not_an_unconfirmed_one(mailoutbox):
    member = UserFactory(email="ada@example.org", full_name="Ada Lovelace")
    _second_address(member, "ada.work@example.org")
    _second_address(member, "ada.unconfirmed@example.org", verified=False)

    assert join_requests.existing_account_notice_queue(email="ada.work@example.org")
    assert not join_requests.existing_account_notice_queue(email="ada.unconfirmed@example.org")
    assert not join_requests.existing_account_notice_queue(email="nobody@example.org")
    notices_send_due()

    [note] = mailoutbox
    assert note.to == ["ada.work@example.org"]
    assert "Dear Ada" in note.body


def test_a_request_for_an_address_that_became_someone_elses_second_address_cannot_be_approved(
    client, council
):
    """The address was free when the person asked; by approval another member has verified it.
    Approving must not create an account whose invitation could never be accepted: the request
    is closed, saying why, and the address's owner is told how to sign in."""
    request = JoinRequest.objects.create(
        full_name="Grace Hopper", email="grace@example.org", council=council, ward="Riverside"
    )
    member = UserFactory(email="ada@example.org")
    _second_address(member, "Grace@Example.org")
    rep = RepresentativeFactory(region=council.region)
    client.force_login(rep.user)

    response = client.post(reverse("join_request_approve", args=[request.pk]), follow=True)

    assert response.status_code == 200
    assert "already has an account" in response.text
    assert not User.objects.filter(email__iexact="grace@example.org").exists()
    request.refresh_from_db()
    assert (request.status, request.reason) == (Decision.REFUSED, join_requests.JOIN_ADDRESS_TAKEN)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "G" * 151, "at most 150 characters"),
        ("full_name", "<script>alert(1)</script>", "cannot contain"),
        ("full_name", "", "This field is required"),
        ("email", "grace@", "Enter a valid email address"),
        ("ward", "W" * 151, "at most 150 characters"),
        ("council", "Atlantis Council", "could not find that council"),
    ],
)
def test_bad_join_input_is_explained_next_to_the_field(client, council, field, value, message):
    response = client.post(reverse("join"), join_data(**{field: value}))
    assert response.status_code == 200
    error_list = re.search(
        rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', response.text, re.S
    )
    assert error_list and message in error_list.group(1)
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error', response.text)
    assert "<script>alert(1)" not in response.text
    assert not JoinRequest.objects.exists()


def test_join_form_needs_the_csrf_token(council):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(reverse("join"), join_data())
    assert response.status_code == 403
    assert not JoinRequest.objects.exists()


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_join_form_answers_only_get_and_post(client, council, method):
    response = getattr(client, method)(reverse("join"), join_data())
    assert response.status_code == 405
    assert sorted(response["Allow"].split(", ")) == ["GET", "POST"]
    assert not JoinRequest.objects.exists()


def test_rep_refuses_a_request_with_a_reason(client, council):
    request = JoinRequest.objects.create(
        full_name="Grace Hopper", email="grace@example.org", council=council, ward="Riverside"
    )
    rep = RepresentativeFactory(region=council.region)
    client.force_login(rep.user)

    response = client.post(
        reverse("join_request_refuse", args=[request.pk]), {"reason": "Not a Labour councillor."}
    )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Decision.REFUSED
    assert request.reason == "Not a Labour councillor."
    assert request.decided_by == rep.user
    assert not User.objects.filter(email="grace@example.org").exists()


def test_approving_creates_an_unverified_account_and_queues_one_invitation(
    client, council, django_capture_on_commit_callbacks
):
    request = JoinRequest.objects.create(
        full_name="Grace Hopper", email="grace@example.org", council=council, ward="Riverside"
    )
    rep = RepresentativeFactory(region=council.region)
    client.force_login(rep.user)

    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("join_request_approve", args=[request.pk]))
    assert len(callbacks) == 1

    user = User.objects.get(email="grace@example.org")
    assert not user.has_usable_password()
    assert EmailAddress.objects.get(user=user).verified is False
    councillor = Councillor.objects.get(user=user)
    assert (councillor.council, councillor.ward) == (council, "Riverside")
    request.refresh_from_db()
    assert request.status == Decision.APPROVED

    # A second approval (a double click) changes nothing, and says why.
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("join_request_approve", args=[request.pk]), follow=True)
    assert response.redirect_chain == [(reverse("join_requests"), 302)]
    assert "This request has already been decided." in response.text
    assert callbacks == []
    assert User.objects.filter(email="grace@example.org").count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_refusing_a_request_decided_already_says_so_instead_of_a_404(client, council, method):
    request = JoinRequest.objects.create(
        full_name="Grace Hopper", email="grace@example.org", council=council, ward="Riverside"
    )
    rep = RepresentativeFactory(region=council.region)
    join_requests.join_request_refuse(join_request=request, by=rep.user, reason="Not Labour.")
    client.force_login(rep.user)

    url = reverse("join_request_refuse", args=[request.pk])
    response = getattr(client, method)(url, {"reason": "Changed my mind."}, follow=True)

    assert response.redirect_chain == [(reverse("join_requests"), 302)]
    assert "This request has already been decided." in response.text
    request.refresh_from_db()
    assert (request.status, request.reason) == (Decision.REFUSED, "Not Labour.")


def test_approving_a_request_refused_already_says_so_and_creates_nobody(client, council):
    request = JoinRequest.objects.create(
        full_name="Grace Hopper", email="grace@example.org", council=council, ward="Riverside"
    )
    rep = RepresentativeFactory(region=council.region)
    join_requests.join_request_refuse(join_request=request, by=rep.user, reason="Not Labour.")
    client.force_login(rep.user)

    response = client.post(reverse("join_request_approve", args=[request.pk]), follow=True)

    assert "This request has already been decided." in response.text
    assert not User.objects.filter(email="grace@example.org").exists()


def test_a_decided_request_of_another_region_is_still_a_404(client, council):
    request = JoinRequest.objects.create(
        full_name="Grace Hopper", email="grace@example.org", council=council, ward="Riverside"
    )
    join_requests.join_request_refuse(join_request=request, by=UserFactory(), reason="No.")
    client.force_login(RepresentativeFactory().user)

    assert client.post(reverse("join_request_approve", args=[request.pk])).status_code == 404
    assert client.get(reverse("join_request_refuse", args=[request.pk])).status_code == 404


def test_a_double_submitted_join_form_makes_one_request(client, council):
    first = client.post(reverse("join"), join_data())
    second = client.post(reverse("join"), join_data(email="Grace@Example.org"))

    assert first.url == second.url == reverse("join_thanks")
    request = JoinRequest.objects.get()
    assert (request.email, request.status) == ("grace@example.org", Decision.PENDING)


def test_a_second_request_after_a_refusal_or_for_another_council_is_recorded(client, council):
    client.post(reverse("join"), join_data())
    other = CouncilFactory(region=council.region, name="Elmbridge District Council")
    client.post(reverse("join"), join_data(council="Elmbridge District Council"))
    assert JoinRequest.objects.filter(email="grace@example.org").count() == 2

    for request in JoinRequest.objects.all():
        join_requests.join_request_refuse(join_request=request, by=UserFactory(), reason="No.")
    client.post(reverse("join"), join_data())
    assert JoinRequest.objects.filter(status=Decision.PENDING).get().council == council
    assert JoinRequest.objects.filter(council=other).count() == 1


def test_invitation_is_sent_only_once(council, settings):
    catcher = SmtpCatcher(host="127.0.0.1", port=0)
    catcher.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = catcher.host, catcher.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        request = JoinRequest.objects.create(
            full_name="Grace Hopper", email="grace@example.org", council=council, ward="Riverside"
        )
        join_requests.join_request_approve(join_request=request, by=UserFactory())
        user = User.objects.get(email="grace@example.org")
        assert not invitations.invitation_queue(join_request=request, user=user)
        assert (notices_send_due(), notices_send_due()) == (1, 0)
        catcher.wait_for(1)
        assert len(catcher.messages) == 1
        request.refresh_from_db()
        assert request.invited_at is not None
    finally:
        catcher.stop()


def test_an_invalid_invitation_link_is_refused(client, council):
    user = UserFactory()
    response = client.get(reverse("invitation_accept", args=["MQ", "not-a-token"]))
    assert response.status_code == 400
    assert "not valid" in response.text
    response = client.post(
        reverse("invitation_accept", args=["MQ", "not-a-token"]),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.fixture
def invitation_worker(monkeypatch, transactional_db):
    """A real SMTP server, and a real worker that sends to it, listening on a queue of its own
    (so no other test worker, which sends elsewhere, can take the task)."""
    catcher = SmtpCatcher(host="127.0.0.1", port=0)
    catcher.start()
    queue = f"invitation-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.delenv("EMAIL_URL", raising=False)
    monkeypatch.setenv("EMAIL_HOST", catcher.host)
    monkeypatch.setenv("EMAIL_PORT", str(catcher.port))
    monkeypatch.setenv("EMAIL_USE_TLS", "0")
    monkeypatch.setenv("CELERY_TASK_DEFAULT_QUEUE", queue)
    proc = worker_start(database_url=current_database_url(), name="invite")
    # Tasks queued from this process go to the same private queue.
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    try:
        yield catcher
    finally:
        worker_stop(proc)
        catcher.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_join_approve_invitation_and_first_login_end_to_end(client, invitation_worker):
    council = CouncilFactory(name="Oakfield Borough Council", short_name="Oakfield")
    client.post(reverse("join"), join_data())
    request = JoinRequest.objects.get(email="grace@example.org")

    rep = RepresentativeFactory(region=council.region)
    client.force_login(rep.user)
    page = client.get(reverse("join_requests"))
    assert "Grace Hopper" in page.text
    client.post(reverse("join_request_approve", args=[request.pk]))
    client.logout()

    # The worker also tells the representative of the request; only Grace's message counts here.
    [message] = wait_for(
        lambda: [m for m in invitation_worker.messages if m.rcpt_tos == ["grace@example.org"]],
        timeout=60,
    )
    assert message.rcpt_tos == ["grace@example.org"]
    assert "invitation" in message["Subject"].lower()
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Oakfield Borough Council" in body
    link = re.search(r"http://127.0.0.1:8000(/invitation/\S+/\S+/)", body).group(1)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert link in html
    # The message is out before the worker's transaction commits.
    wait_for(lambda: JoinRequest.objects.get(pk=request.pk).invited_at is not None)

    response = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    grace = User.objects.get(email="grace@example.org")
    assert EmailAddress.objects.get(user=grace).verified

    # The link works once; then the person logs in with the new password.
    client.logout()
    assert client.get(link).status_code == 400
    response = client.post(
        reverse("account_login"), {"login": "grace@example.org", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(grace.pk)


def test_the_public_join_form_is_rate_limited_per_address(client):
    CouncilFactory(name="Oakfield Borough Council", short_name="Oakfield")
    for n in range(10):
        response = client.post(reverse("join"), join_data(email=f"person{n}@example.org"))
        assert response.status_code == 302
    response = client.post(reverse("join"), join_data(email="one.more@example.org"))
    assert response.status_code == 429
    assert "Too many requests to join" in response.text
    assert JoinRequest.objects.count() == 10


def test_recently_decided_lists_only_people_who_asked_to_join(client, council):
    rep = RepresentativeFactory(region=council.region)
    asked = join_requests.join_request_submit(
        full_name="Grace Hopper", email="grace@example.org", council=council, ward="Riverside"
    )
    join_requests.join_request_approve(join_request=asked, by=rep.user)
    councillors.councillor_add(
        council=council,
        full_name="Added Byhand",
        email="added@example.org",
        ward="North",
        phone="",
        by=rep.user,
    )
    imp = councillor_imports.councillor_import_preview(
        region=council.region,
        uploaded_by=rep.user,
        filename="gooda.csv",
        raw=b"full_name,email,council,ward\nImported Person,imported@example.org,"
        + council.gss_code.encode()
        + b",South\n",
    )
    councillor_imports.councillor_import_confirm(councillor_import=imp)
    assert Councillor.objects.count() == 3
    client.force_login(rep.user)

    page = client.get(reverse("join_requests")).text

    decided = page.split('id="decided-caption"')[1]
    assert "Grace Hopper" in decided
    assert "Added Byhand" not in page and "Added by a representative" not in page
    assert "Imported Person" not in page and "gooda.csv" not in page
    assert "the last 1 decision" in page


def test_a_council_name_matching_several_suggests_them(client, gb_councils):
    response = client.post(reverse("join"), join_data(council="Newcastle"))
    assert response.status_code == 200
    error = re.search(r'id="id_council_error">(.*?)</ul>', response.text, re.S)
    assert error
    assert (
        "Did you mean Newcastle City Council or Newcastle-under-Lyme Borough Council?"
        in error.group(1)
    )
    # A suggestion typed in full is found.
    client.post(reverse("join"), join_data(council="Newcastle-under-Lyme Borough Council"))
    assert JoinRequest.objects.get().council.gss_code == "E07000195"
