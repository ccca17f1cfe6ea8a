"""Two requests doing the same thing at the same moment: a double click, two tabs, two people.

These run on the real database with real transactions, one thread (and connection) a request.
"""

import threading

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from factories import CouncilFactory, RegionFactory, RepresentativeFactory
from polling import wait_for

from members.models import Councillor, CouncillorImport, Decision, JoinRequest, User
from members.services import councillors, join_requests

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EMAIL = "grace@example.org"
IN_USE = "This email address already has an account."


def _at_once(*calls):
    """Run the calls in threads released together. Returns what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(at, call):
        try:
            barrier.wait()
            results[at] = call()
        except Exception as exc:  # noqa: BLE001 - the test asserts there was none
            results[at] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def _in_background(call):
    """Start the call in a thread; the returned function waits for it and gives its result."""
    result = {}

    def run():
        try:
            result["value"] = call()
        except Exception as exc:  # noqa: BLE001
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
        # A wait for another transaction's row shows as an ungranted lock on its transaction id,
        # which names no database; every test database has a server of its own.
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def _rep_client(region):
    client = Client()
    client.force_login(RepresentativeFactory(region=region).user)
    return client


def _notices(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def council():
    return CouncilFactory(
        region=RegionFactory(name="Region R", slug="region-r"), gss_code="E0600077"
    )


def _add(client, council):
    data = {"full_name": "Grace Hopper", "email": EMAIL, "ward": "Riverside", "phone": ""}
    return lambda: client.post(reverse("councillor_add", args=[council.slug]), data)


def test_a_double_clicked_add_creates_one_councillor_and_explains_the_second(council):
    client = _rep_client(council.region)

    first, second = _at_once(_add(client, council), _add(client, council))

    assert sorted(r.status_code for r in (first, second)) == [200, 302]
    refused = first if first.status_code == 200 else second
    assert IN_USE in refused.text
    assert User.objects.filter(email=EMAIL).count() == 1
    assert Councillor.objects.filter(user__email=EMAIL).count() == 1
    assert JoinRequest.objects.filter(email=EMAIL).count() == 1


def test_a_second_add_while_the_first_is_still_saving_waits_and_explains(council):
    rep = RepresentativeFactory(region=council.region).user
    client = Client()
    client.force_login(rep)
    with transaction.atomic():
        # The first click has created the account but not yet committed.
        councillors.councillor_add(
            council=council, full_name="Grace Hopper", email=EMAIL, ward="W", phone="", by=rep
        )
        finish = _in_background(_add(client, council))
        wait_for(_someone_is_waiting_for_a_lock)

    response = finish()
    assert response.status_code == 200
    assert IN_USE in response.text
    assert User.objects.filter(email=EMAIL).count() == 1
    assert JoinRequest.objects.filter(email=EMAIL).count() == 1


def test_an_account_made_elsewhere_during_an_add_gets_the_usual_message(council):
    client = _rep_client(council.region)
    with transaction.atomic():
        # Another way into the portal (here, straight into the database) takes the address
        # and has not committed yet when the representative presses "Add".
        User.objects.create_user(email=EMAIL, full_name="Someone Else")
        finish = _in_background(_add(client, council))
        wait_for(_someone_is_waiting_for_a_lock)

    response = finish()
    assert response.status_code == 200
    assert IN_USE in response.text
    assert User.objects.get(email=EMAIL).full_name == "Someone Else"
    assert not Councillor.objects.filter(user__email=EMAIL).exists()
    assert not JoinRequest.objects.exists()


def test_approving_two_requests_for_one_address_at_once_creates_one_account(council):
    requests = [
        JoinRequest.objects.create(full_name="Grace Hopper", email=EMAIL, council=c, ward="W")
        for c in (council, CouncilFactory(region=council.region))
    ]
    clients = [_rep_client(council.region) for _ in requests]

    def approve(client, request):
        return lambda: client.post(reverse("join_request_approve", args=[request.pk]))

    responses = _at_once(*(approve(c, r) for c, r in zip(clients, requests, strict=True)))

    assert [r.status_code for r in responses] == [302, 302]
    notices = sorted(n for r in responses for n in _notices(r))
    assert notices == sorted(
        [
            f"Grace Hopper: {join_requests.JOIN_ADDRESS_TAKEN}",
            "Grace Hopper has been added and an invitation is on its way.",
        ]
    )
    assert User.objects.filter(email=EMAIL).count() == 1
    statuses = sorted(JoinRequest.objects.values_list("status", flat=True))
    assert statuses == sorted([Decision.APPROVED, Decision.REFUSED])


def test_approving_a_request_while_another_for_the_address_is_being_approved_explains(council):
    first, second = [
        JoinRequest.objects.create(full_name="Grace Hopper", email=EMAIL, council=c, ward="W")
        for c in (council, CouncilFactory(region=council.region))
    ]
    rep = RepresentativeFactory(region=council.region).user
    client = Client()
    client.force_login(rep)
    url = reverse("join_request_approve", args=[second.pk])
    with transaction.atomic():
        join_requests.join_request_approve(join_request=first, by=rep)
        finish = _in_background(lambda: client.post(url))
        wait_for(_someone_is_waiting_for_a_lock)

    response = finish()
    assert response.status_code == 302
    assert _notices(response) == [f"Grace Hopper: {join_requests.JOIN_ADDRESS_TAKEN}"]
    assert User.objects.filter(email=EMAIL).count() == 1
    second.refresh_from_db()
    assert (second.status, second.reason) == (Decision.REFUSED, join_requests.JOIN_ADDRESS_TAKEN)


def test_a_double_submitted_join_form_makes_one_request(council):
    data = {"full_name": "Grace Hopper", "council": council.gss_code, "ward": "W", "email": EMAIL}

    def submit():
        return Client().post(reverse("join"), data)

    responses = _at_once(submit, submit)

    assert [r.status_code for r in responses] == [302, 302]
    assert JoinRequest.objects.filter(email=EMAIL, status=Decision.PENDING).count() == 1


def _preview(client, region, text):
    client.post(
        reverse("import_upload", args=[region.slug]),
        {"file": SimpleUploadedFile("councillors.csv", text.encode(), content_type="text/csv")},
    )
    return CouncillorImport.objects.latest("uploaded_at")


IMPORT_FILE = "full_name,email,council,ward,phone\nGrace Hopper,{email},{gss},Riverside,\n"


def test_two_imports_naming_the_same_new_address_confirmed_at_once_create_one_account(council):
    clients = [_rep_client(council.region) for _ in range(2)]
    text = IMPORT_FILE.format(email=EMAIL, gss=council.gss_code)
    imports = [_preview(client, council.region, text) for client in clients]

    def confirm(client, councillor_import):
        return lambda: client.post(reverse("import_confirm", args=[councillor_import.pk]))

    responses = _at_once(*(confirm(c, i) for c, i in zip(clients, imports, strict=True)))

    assert [r.status_code for r in responses] == [302, 302]
    assert User.objects.filter(email=EMAIL).count() == 1
    # The one applied second found the councillor there already: nothing left to write.
    for councillor_import in imports:
        councillor_import.refresh_from_db()
        assert councillor_import.status == CouncillorImport.Status.DONE
    actions = sorted(i.report["counts"]["create"] for i in imports)
    assert actions == [0, 1]
    assert JoinRequest.objects.filter(email=EMAIL).count() == 1


def test_an_account_made_elsewhere_during_an_import_is_reported_and_nothing_written(council):
    client = _rep_client(council.region)
    text = IMPORT_FILE.format(email=EMAIL, gss=council.gss_code)
    text += f"Ada Lovelace,ada@example.org,{council.gss_code},Castle,\n"
    councillor_import = _preview(client, council.region, text)
    url = reverse("import_confirm", args=[councillor_import.pk])
    with transaction.atomic():
        User.objects.create_user(email=EMAIL, full_name="Someone Else")
        finish = _in_background(lambda: client.post(url))
        wait_for(_someone_is_waiting_for_a_lock)

    response = finish()
    assert response.status_code == 302
    assert any("now has errors" in notice for notice in _notices(response))
    councillor_import.refresh_from_db()
    assert councillor_import.status == CouncillorImport.Status.PREVIEWED
    assert councillor_import.report["counts"]["error"] == 1
    assert not Councillor.objects.exists()
    assert not User.objects.filter(email="ada@example.org").exists()
