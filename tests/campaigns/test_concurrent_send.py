"""Two members of staff press "Send" on the same mailing at the same moment."""

import collections
import threading
import uuid

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    MailingFactory,
    RegionFactory,
    StaffFactory,
)
from polling import wait_for

from campaigns.models import Delivery, Mailing

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_two_staff_pressing_send_at_once_send_each_address_once(celery_worker, worker_smtp):
    region = RegionFactory(name=f"Region {uuid.uuid4().hex[:8]}")
    domain = f"{uuid.uuid4().hex[:8]}.example.org"
    addresses = {f"group{n}@{domain}" for n in range(3)}
    for address in sorted(addresses):
        CouncilGroupFactory(council=CouncilFactory(region=region), contact_email=address)
    mailing = MailingFactory(recipients=["contact"], regions=[region])
    clients = []
    for _ in range(2):
        client = Client()
        client.force_login(StaffFactory())
        clients.append(client)
    url = reverse("campaigns:mailing_send", args=[mailing.pk])
    barrier = threading.Barrier(2)
    statuses, notices = [], []

    def press(client):
        try:
            barrier.wait()
            response = client.post(url)
            statuses.append(response.status_code)
            notices.extend(str(m) for m in get_messages(response.wsgi_request))
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # Both are taken to the sending page; the second press is told it is already
    # being sent.
    assert statuses == [302, 302]
    assert sorted(notices) == sorted(
        ["Sending has started.", "This mailing is already being sent. Nothing has been sent twice."]
    )
    wait_for(lambda: Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT, timeout=60)
    assert Delivery.objects.filter(mailing=mailing).count() == 3
    started = mailing.history.filter(history_change_reason__startswith="Sending started")
    assert started.count() == 1
    received = collections.Counter(
        rcpt.lower()
        for message in list(worker_smtp.messages)
        for rcpt in message.rcpt_tos
        if rcpt.lower().endswith("@" + domain)
    )
    assert received == dict.fromkeys(addresses, 1)
