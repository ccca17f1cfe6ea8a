import pytest
from factories import CouncillorFactory, ErasureRequestFactory, MailingFactory, StaffFactory

from campaigns import selectors
from campaigns.models import Delivery, Mailing
from campaigns.services import claims, lifecycle, sending
from members.services.erasure import erasure_carry_out

pytestmark = pytest.mark.django_db


def test_erasing_a_member_anonymises_their_deliveries_but_keeps_the_statistics():
    councillor = CouncillorFactory(user__email="Erin.Example@example.org")
    mailing = MailingFactory()
    Delivery.objects.create(
        mailing=mailing,
        email="erin.example@example.org",
        context={"recipient": {"first_name": "Erin", "full_name": "Erin Example"}},
        status=Delivery.Status.SENT,
    )
    kept = Delivery.objects.create(mailing=mailing, email="someone.else@example.org")

    erasure_carry_out(request=ErasureRequestFactory(user=councillor.user), by=StaffFactory())

    assert Delivery.objects.filter(mailing=mailing).count() == 2
    erased = Delivery.objects.exclude(pk=kept.pk).get()
    assert erased.email == f"erased-{erased.pk}@invalid"
    assert erased.context == {}
    assert erased.status == Delivery.Status.SENT
    kept.refresh_from_db()
    assert kept.email == "someone.else@example.org"


def test_erasing_a_member_cancels_the_messages_not_yet_sent_to_them(smtp):
    councillor = CouncillorFactory(user__email="erin.example@example.org")
    mailing = MailingFactory(status=Mailing.Status.SENDING)
    waiting = Delivery.objects.create(mailing=mailing, email="Erin.Example@example.org")
    someone = Delivery.objects.create(mailing=mailing, email="someone.else@example.org")
    other_mailing = MailingFactory(status=Mailing.Status.SENDING)
    claimed = Delivery.objects.create(mailing=other_mailing, email="erin.example@example.org")
    assert [d.pk for d in claims.deliveries_claim_batch(
        mailing_id=other_mailing.pk, worker="w0", size=10
    )] == [claimed.pk]  # fmt: skip
    sent = Delivery.objects.create(
        mailing=MailingFactory(status=Mailing.Status.SENT),
        email="erin.example@example.org",
        status=Delivery.Status.SENT,
    )
    totals = {m: selectors.mailing_progress(m)["total"] for m in (mailing, other_mailing)}

    erasure_carry_out(request=ErasureRequestFactory(user=councillor.user), by=StaffFactory())

    for delivery, status in [
        (waiting, Delivery.Status.CANCELLED),
        (claimed, Delivery.Status.CANCELLED),
        (sent, Delivery.Status.SENT),
        (someone, Delivery.Status.PENDING),
    ]:
        delivery.refresh_from_db()
        assert delivery.status == status
    assert {waiting.email, claimed.email, sent.email} == {
        f"erased-{d.pk}@invalid" for d in (waiting, claimed, sent)
    }
    assert {m: selectors.mailing_progress(m)["total"] for m in totals} == totals

    # Neither the worker holding the claim nor any other sends to the erased address.
    for worker, each in (("w0", other_mailing), ("w1", mailing), ("w1", other_mailing)):
        sending.mailing_send_some(mailing_id=each.pk, worker=worker, seconds=10)
    smtp.wait_for(1)
    assert [rcpt for m in smtp.messages for rcpt in m.rcpt_tos] == ["someone.else@example.org"]
    assert selectors.mailing_progress(mailing)["cancelled"] == 1


def test_trying_failed_addresses_again_leaves_out_erased_people():
    councillor = CouncillorFactory(user__email="gone@example.org")
    mailing = MailingFactory(status=Mailing.Status.SENT)
    for email in ("gone@example.org", "bounced@example.org"):
        Delivery.objects.create(mailing=mailing, email=email, status=Delivery.Status.FAILED)
    erasure_carry_out(request=ErasureRequestFactory(user=councillor.user), by=StaffFactory())

    assert lifecycle.mailing_resend_failed(mailing_id=mailing.pk) == 1

    statuses = dict(Delivery.objects.values_list("email", "status"))
    assert statuses["bounced@example.org"] == Delivery.Status.PENDING
    [erased] = [status for email, status in statuses.items() if email.endswith("@invalid")]
    assert erased == Delivery.Status.FAILED
