import threading

import pytest
from django.db import connection
from factories import MailingFactory

from campaigns.models import Delivery, Mailing
from campaigns.services import sending
from regions.models import CouncilGroup, Region


@pytest.mark.django_db(transaction=True)
def test_two_staff_pressing_send_at_once_start_it_once(gb_councils, senders):
    wales = Region.objects.get(name="Wales")
    groups = list(CouncilGroup.objects.filter(council__region=wales).order_by("pk")[:3])
    for n, group in enumerate(groups):
        CouncilGroup.objects.filter(pk=group.pk).update(contact_email=f"group{n}@example.org")
    mailing = MailingFactory(recipients=["contact"], regions=[wales])
    barrier = threading.Barrier(2)
    results = []

    def press():
        try:
            barrier.wait()
            results.append(sending.mailing_start(mailing_id=mailing.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    assert Delivery.objects.filter(mailing=mailing).count() == 3
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENDING
