"""The sending loop run in this process against a real SMTP server: claiming, recording,
retrying, suppression at send time, and the message's headers."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from factories import CouncilGroupFactory, MailingFactory, StaffFactory, SuppressionFactory

from campaigns import exceptions, selectors
from campaigns.models import Delivery, Mailing, Suppression
from campaigns.services import claims, lifecycle, messages, sending
from campaigns.unsubscribe import unsubscribe_token_read

pytestmark = pytest.mark.django_db


def _sending_mailing(**kwargs):
    return MailingFactory(
        status=Mailing.Status.SENDING,
        subject="News for {{ group.name }}",
        body="Dear {{ recipient.first_name }},\n\nNews for **{{ group.name }}**.",
        reply_to="office@alc.example.org",
        **kwargs,
    )


def test_it_sends_every_pending_delivery_once_and_finishes(smtp, deliveries_create, settings):
    settings.MAILING_BATCH_SIZE = 7
    mailing = _sending_mailing()
    deliveries_create(mailing, 20)
    assert sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30) is None
    smtp.wait_for(20)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == sorted(
        f"person{n}@example.org" for n in range(20)
    )
    assert Delivery.objects.filter(status="sent").count() == 20
    assert all(d.message_id and d.sent_at for d in Delivery.objects.all())
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SENT
    assert mailing.finished_at is not None


def test_message_has_merge_fields_headers_and_both_parts(smtp, deliveries_create, settings):
    settings.MAILING_UNSUBSCRIBE_MAILTO = "unsubscribe@alc.example.org"
    mailing = _sending_mailing(from_name="ALC National Office")
    deliveries_create(mailing, 1)
    sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30)
    message = smtp.wait_for(1)[0]
    assert message["Subject"] == "News for Group 0"
    assert message["From"] == "ALC National Office <portal@alc.example.org>"
    assert message["Reply-To"] == "office@alc.example.org"
    assert message["Date"]
    delivery = Delivery.objects.get()
    assert message["Message-ID"] == delivery.message_id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].split(",")[0].strip("<> ")
    assert "<mailto:unsubscribe@alc.example.org?subject=unsubscribe>" in message["List-Unsubscribe"]
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert unsubscribe_token_read(token) == ("person0@example.org", mailing.pk)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Dear Person0" in text and link in text
    assert "<strong" in html and "Group 0</strong>" in html and 'style="' in html


def test_suppressed_addresses_are_skipped_at_send_time(smtp, deliveries_create):
    mailing = _sending_mailing()
    deliveries_create(mailing, 3)
    SuppressionFactory(email="Person1@Example.org")
    sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30)
    smtp.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [
        "person0@example.org",
        "person2@example.org",
    ]
    assert Delivery.objects.get(email="person1@example.org").status == "suppressed"


def test_permanent_refusal_is_recorded_with_the_server_reply(smtp, deliveries_create):
    mailing = _sending_mailing()
    deliveries_create(mailing, 2)
    smtp.reply_error = "550 5.1.1 No such mailbox"
    sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30)
    failed = Delivery.objects.filter(status="failed")
    assert failed.count() == 2
    assert failed.first().last_error == "550 5.1.1 No such mailbox"
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SENT  # nothing left to try


def test_temporary_refusal_backs_off_then_retries(smtp, deliveries_create, settings):
    settings.MAILING_RETRY_BASE_SECONDS = 60
    mailing = _sending_mailing()
    deliveries_create(mailing, 1)
    smtp.reply_error = "451 4.3.0 Try again later"
    wait = sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30)
    delivery = Delivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.attempts == 1
    assert delivery.last_error.startswith("451")
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=30)
    assert wait > 30
    # Due again: the server now accepts it.
    Delivery.objects.update(next_attempt_at=timezone.now())
    smtp.reply_error = None
    assert sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(smtp.messages) == 1


def test_it_gives_up_after_the_last_attempt(smtp, deliveries_create, settings):
    settings.MAILING_MAX_ATTEMPTS = 3
    mailing = _sending_mailing()
    deliveries_create(mailing, 1)
    Delivery.objects.update(attempts=2)
    smtp.reply_error = "421 4.7.0 Too busy"
    sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 3)


def test_unreachable_server_charges_only_the_probe_and_hands_the_rest_back(smtp, deliveries_create):
    mailing = _sending_mailing()
    deliveries_create(mailing, 5)
    smtp.stop()
    wait = sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30)
    assert wait > 0
    assert Delivery.objects.filter(status="pending").count() == 5
    # The one message that found the server gone counts an attempt; the other four do not.
    assert sorted(Delivery.objects.values_list("attempts", flat=True)) == [0, 0, 0, 0, 1]
    assert Delivery.objects.get(attempts=1).last_error.startswith("Cannot connect")


def test_an_outage_longer_than_all_attempts_does_not_fail_the_mailing(smtp, deliveries_create):
    """Each probe costs one message one attempt, so MAILING_MAX_ATTEMPTS probes of a dead
    server fail at most that many messages' worth of attempts, not the whole mailing."""
    mailing = _sending_mailing()
    deliveries_create(mailing, 5)
    smtp.stop()
    for _ in range(3):
        Delivery.objects.update(next_attempt_at=timezone.now())
        sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30)
    assert sum(Delivery.objects.values_list("attempts", flat=True)) == 3
    assert not Delivery.objects.filter(status="failed").exists()


def test_claims_never_overlap_between_workers(deliveries_create):
    mailing = _sending_mailing()
    deliveries_create(mailing, 50)
    first = claims.deliveries_claim_batch(mailing_id=mailing.pk, worker="a", size=30)
    second = claims.deliveries_claim_batch(mailing_id=mailing.pk, worker="b", size=30)
    assert len(first) == 30 and len(second) == 20
    assert not {d.pk for d in first} & {d.pk for d in second}
    assert Delivery.objects.filter(status="claimed", claimed_by="a").count() == 30
    assert first[0].context["recipient"]["first_name"].startswith("Person")


@pytest.mark.django_db(transaction=True)
def test_claims_skip_rows_locked_by_another_transaction(deliveries_create):
    """SKIP LOCKED: a claim in progress elsewhere neither blocks nor shares rows."""
    mailing = _sending_mailing()
    deliveries_create(mailing, 10)
    from django.db import connections

    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM campaigns_delivery WHERE mailing_id = %s ORDER BY id LIMIT 4"
                " FOR UPDATE",
                [mailing.pk],
            )
            locked = {row[0] for row in cursor.fetchall()}
        claimed = claims.deliveries_claim_batch(mailing_id=mailing.pk, worker="a", size=10)
        assert len(claimed) == 6
        assert not locked & {d.pk for d in claimed}
    finally:
        other.rollback()
        other.close()


def test_stale_claims_return_to_pending(deliveries_create):
    mailing = _sending_mailing()
    deliveries_create(mailing, 3)
    claims.deliveries_claim_batch(mailing_id=mailing.pk, worker="dead", size=3)
    Delivery.objects.filter(email="person0@example.org").update(
        claimed_at=timezone.now() - timedelta(seconds=120)
    )
    assert claims.deliveries_sweep_stale(older_than=60) == 1
    assert Delivery.objects.get(email="person0@example.org").status == "pending"
    assert Delivery.objects.filter(status="claimed").count() == 2


def test_pause_stops_claiming_and_resume_carries_on(
    smtp, deliveries_create, django_capture_on_commit_callbacks
):
    mailing = _sending_mailing()
    deliveries_create(mailing, 4)
    assert lifecycle.mailing_pause(mailing_id=mailing.pk)
    assert sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=5) is None
    assert Delivery.objects.filter(status="pending").count() == 4
    with django_capture_on_commit_callbacks() as callbacks:
        assert lifecycle.mailing_resume(mailing_id=mailing.pk)
    assert len(callbacks) == 1  # the send tasks are queued once the change is committed
    assert sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=5) is None
    assert Delivery.objects.filter(status="sent").count() == 4


def test_cancel_stops_what_has_not_been_sent(deliveries_create):
    mailing = _sending_mailing()
    deliveries_create(mailing, 4)
    Delivery.objects.filter(email="person0@example.org").update(status="sent")
    assert lifecycle.mailing_cancel(mailing_id=mailing.pk)
    assert (
        dict(Delivery.objects.values_list("status").annotate().values_list("email", "status"))[
            "person0@example.org"
        ]
        == "sent"
    )
    assert Delivery.objects.filter(status="cancelled").count() == 3
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.CANCELLED
    assert not lifecycle.mailing_cancel(mailing_id=mailing.pk)


def test_resend_failed_tries_failed_addresses_again(smtp, deliveries_create):
    mailing = _sending_mailing()
    deliveries_create(mailing, 3)
    Delivery.objects.filter(email="person1@example.org").update(
        status="failed", attempts=8, last_error="550 no"
    )
    Delivery.objects.exclude(email="person1@example.org").update(status="sent")
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.SENT)
    assert lifecycle.mailing_resend_failed(mailing_id=mailing.pk, kind="all").retried == 1
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SENDING
    sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=5)
    assert [m.rcpt_tos for m in smtp.wait_for(1)] == [["person1@example.org"]]
    delivery = Delivery.objects.get(email="person1@example.org")
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")


def _failed_mailing(deliveries_create, errors: dict[int, str]):
    """A sent mailing whose person<n> deliveries failed with the given replies."""
    mailing = _sending_mailing()
    deliveries_create(mailing, max(errors) + 1)
    Delivery.objects.update(status="sent")
    for n, error in errors.items():
        Delivery.objects.filter(email=f"person{n}@example.org").update(
            status="failed", attempts=8, last_error=error
        )
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.SENT)
    return mailing


def test_resend_skips_addresses_suppressed_since_and_says_how_many(deliveries_create):
    mailing = _failed_mailing(deliveries_create, {0: "451 busy", 1: "451 busy"})
    SuppressionFactory(email="PERSON1@example.org")
    result = lifecycle.mailing_resend_failed(mailing_id=mailing.pk, kind="all")
    assert (result.retried, result.skipped) == (1, 1)
    assert Delivery.objects.get(email="person0@example.org").status == "pending"
    assert Delivery.objects.get(email="person1@example.org").status == "suppressed"


def test_resend_keeps_the_earlier_error_until_the_new_result_and_notes_it_in_history(
    deliveries_create,
):
    mailing = _failed_mailing(deliveries_create, {0: "451 mailbox busy"})
    lifecycle.mailing_resend_failed(mailing_id=mailing.pk, user=StaffFactory(), kind="all")
    delivery = Delivery.objects.get(email="person0@example.org")
    assert (delivery.status, delivery.last_error, delivery.attempts) == (
        "pending",
        "451 mailbox busy",
        0,
    )
    reason = mailing.history.order_by("-history_id").first().history_change_reason
    assert reason == "Re-sending to 1 failed addresses"


def test_resend_of_temporary_failures_leaves_refused_addresses_failed(deliveries_create):
    mailing = _failed_mailing(
        deliveries_create, {0: "451 try later", 1: "550 no such user", 2: "Cannot connect: x"}
    )
    result = lifecycle.mailing_resend_failed(mailing_id=mailing.pk, kind="temporary")
    assert result.retried == 2
    statuses = dict(Delivery.objects.values_list("email", "status"))
    assert statuses["person0@example.org"] == statuses["person2@example.org"] == "pending"
    assert statuses["person1@example.org"] == "failed"
    assert lifecycle.mailing_resend_failed(mailing_id=mailing.pk, kind="all").retried == 1


def test_resend_page_says_how_many_were_skipped(client, deliveries_create):
    mailing = _failed_mailing(deliveries_create, {0: "451 busy", 1: "451 busy"})
    SuppressionFactory(email="person1@example.org")
    client.force_login(StaffFactory())
    response = client.post(
        reverse("campaigns:mailing_resend_failed", args=[mailing.pk]),
        {"kind": "temporary"},
        follow=True,
    )
    assert "Trying the 1 temporarily failed addresses again." in response.text
    assert "1 address now on the suppression list skipped." in response.text


def test_progress_counts_every_state(deliveries_create):
    mailing = _sending_mailing()
    deliveries_create(mailing, 6)
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids[:2]).update(status="sent", sent_at=timezone.now())
    Delivery.objects.filter(pk=ids[2]).update(status="failed")
    Delivery.objects.filter(pk=ids[3]).update(status="suppressed")
    progress = selectors.mailing_progress(mailing)
    assert progress["sent"] == 2
    assert progress["failed"] == 1
    assert progress["suppressed"] == 1
    assert progress["pending"] == 2
    assert progress["total"] == 6
    assert progress["status"] == "sending"
    assert progress["rate_per_second"] == 0.2


def test_test_send_delivers_one_marked_copy(smtp):
    mailing = _sending_mailing()
    messages.mailing_test_send(
        mailing=mailing,
        to_email="me@alc.example.org",
        context={"recipient": {"first_name": "Me"}, "group": {"name": "Test Group"}},
    )
    message = smtp.wait_for(1)[0]
    assert message["Subject"] == "[Test] News for Test Group"
    assert message.rcpt_tos == ["me@alc.example.org"]


def test_start_refuses_a_mailing_whose_from_name_cannot_go_in_a_header():
    CouncilGroupFactory()
    mailing = MailingFactory(from_name="ALC\r\nBcc: all@example.org")
    with pytest.raises(exceptions.MailingError, match="sender's name"):
        lifecycle.mailing_start(mailing_id=mailing.pk)
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.DRAFT
    assert not mailing.deliveries.exists()


def test_start_refuses_an_audience_with_nobody_to_write_to():
    CouncilGroupFactory(contact_email="gone@example.org")
    SuppressionFactory(email="gone@example.org")
    mailing = MailingFactory()
    with pytest.raises(exceptions.MailingError, match="Nobody to send to"):
        lifecycle.mailing_start(mailing_id=mailing.pk)
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.DRAFT
    assert not Delivery.objects.exists()


def test_a_due_mailing_that_cannot_start_goes_back_to_draft_with_the_reason():
    mailing = MailingFactory(
        status=Mailing.Status.SCHEDULED, scheduled_for=timezone.now() - timedelta(minutes=1)
    )
    assert lifecycle.mailings_start_due() == []
    mailing.refresh_from_db()
    assert (mailing.status, mailing.scheduled_for) == (Mailing.Status.DRAFT, None)
    reason = mailing.history.order_by("-history_id").first().history_change_reason
    assert reason.startswith("Not started at its time: Nobody to send to")
    # Not tried again at the next look.
    assert lifecycle.mailings_start_due() == []


def test_unschedule_keeps_the_approval_and_only_applies_to_scheduled_mailings():
    approver = StaffFactory()
    mailing = MailingFactory(
        status=Mailing.Status.SCHEDULED,
        scheduled_for=timezone.now() + timedelta(days=1),
        approved_by=approver,
    )
    assert lifecycle.mailing_unschedule(mailing_id=mailing.pk, user=approver)
    mailing.refresh_from_db()
    assert (mailing.status, mailing.scheduled_for, mailing.approved_by) == (
        Mailing.Status.DRAFT,
        None,
        approver,
    )
    assert not lifecycle.mailing_unschedule(mailing_id=mailing.pk, user=approver)


def test_a_mailing_already_sending_with_an_unusable_from_name_is_paused_not_retried(
    smtp, deliveries_create
):
    mailing = _sending_mailing(from_name="ALC\r\nBcc: all@example.org")
    deliveries_create(mailing, 2)
    assert sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=5) is None
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.PAUSED
    reason = mailing.history.order_by("-history_id").first().history_change_reason
    assert reason.startswith("Paused: The sender's name")
    assert smtp.messages == []
    assert set(mailing.deliveries.values_list("status", flat=True)) == {"pending"}


def test_a_batch_goes_over_one_smtp_connection(smtp, deliveries_create, settings):
    settings.MAILING_BATCH_SIZE = 10
    mailing = _sending_mailing()
    deliveries_create(mailing, 6)
    assert smtp.connections == 0
    assert sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30) is None
    smtp.wait_for(6)
    assert Delivery.objects.filter(status="sent").count() == 6
    assert smtp.connections == 1


def test_the_database_refuses_a_second_delivery_to_the_same_address():
    mailing = MailingFactory()
    Delivery.objects.create(mailing=mailing, email="someone@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(mailing=mailing, email="someone@example.org")
    assert Delivery.objects.filter(mailing=mailing).count() == 1
    # Another mailing may write to the same address.
    Delivery.objects.create(mailing=MailingFactory(), email="someone@example.org")


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.1.1 <person0@example.org>: Recipient address rejected: User unknown",
        "550 5.1.10 Recipient address has null MX",
        "550 5.1.0 Address rejected",
        "553 5.1.3 Bad recipient address syntax",
        "550 User unknown",
        "550 No such user here",
    ],
)
def test_unknown_mailbox_is_suppressed_as_a_hard_bounce(smtp, deliveries_create, reply):
    mailing = _sending_mailing()
    deliveries_create(mailing, 1)
    other = MailingFactory()
    Delivery.objects.create(mailing=other, email="person0@example.org")
    smtp.reply_error = reply
    sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30)
    delivery = Delivery.objects.get(mailing=mailing)
    assert (delivery.status, delivery.last_error) == ("failed", reply)
    suppression = Suppression.objects.get()
    assert suppression.email == "person0@example.org"
    assert suppression.reason == Suppression.Reason.HARD_BOUNCE
    assert suppression.mailing_id == mailing.pk
    assert reply in suppression.note
    # The address's message in another mailing waiting to go is not sent either.
    assert Delivery.objects.get(mailing=other).status == "suppressed"


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.7.1 Message rejected by policy",
        "552 5.3.4 Message size exceeds fixed limit",
        "554 Transaction failed",
        "550 5.1.8 Sender address domain does not exist",
        "550 Rejected as spam",
    ],
)
def test_other_permanent_refusals_are_recorded_but_not_suppressed(smtp, deliveries_create, reply):
    mailing = _sending_mailing()
    deliveries_create(mailing, 2)
    smtp.reply_error = reply
    sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30)
    assert list(Delivery.objects.values_list("status", "last_error").distinct()) == [
        ("failed", reply)
    ]
    assert not Suppression.objects.exists()
