"""Sending over SMTP with PIPELINING (RFC 2920), as every common mail server offers it. The
end-to-end tests use a server without it, so both ways of talking are covered."""

import email
import email.policy

import pytest
from aiosmtpd.controller import Controller
from workers import free_port

from campaigns.models import Mailing
from campaigns.services.messages import Envelope
from campaigns.smtp import PERMANENT, Outbox, SendFailure

BODY = """Dear {{ recipient.first_name }},

.a line that starts with a dot
.
and more.
"""


class PipeliningServer:
    """Announces PIPELINING; keeps every message; refuses the addresses in `refused`."""

    def __init__(self):
        self.messages = []
        self.refused = set()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def pipelining_server(settings):
    handler = PipeliningServer()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    yield handler
    controller.stop()


def envelope():
    mailing = Mailing(pk=3, subject="Hello {{ recipient.first_name }}", body=BODY)
    return Envelope.for_mailing(mailing)


def context(name):
    return {"recipient": {"first_name": name}}


def test_pipelined_messages_arrive_whole_on_one_connection(pipelining_server):
    sent = envelope()
    with Outbox() as outbox:
        for name in ("Ana", "Bryn", "Cai"):
            message, _ = sent.message(email=f"{name.lower()}@example.org", context=context(name))
            outbox.send(message)
    assert [m[1] for m in pipelining_server.messages] == [
        ["ana@example.org"],
        ["bryn@example.org"],
        ["cai@example.org"],
    ]
    sender, _, message = pipelining_server.messages[1]
    assert sender == "portal@alc.example.org"
    assert message["Subject"] == "Hello Bryn"
    text = message.get_body(("plain",)).get_content()
    assert "\n.a line that starts with a dot\n.\nand more.\n" in text.replace("\r\n", "\n")


def test_pipelined_refusal_is_permanent_and_the_next_message_still_goes(pipelining_server):
    pipelining_server.refused.add("gone@example.org")
    sent = envelope()
    with Outbox() as outbox:
        message, _ = sent.message(email="gone@example.org", context=context("Gone"))
        with pytest.raises(SendFailure) as failure:
            outbox.send(message)
        assert failure.value.kind == PERMANENT
        assert "550" in failure.value.reply
        message, _ = sent.message(email="here@example.org", context=context("Here"))
        outbox.send(message)
    assert [m[1] for m in pipelining_server.messages] == [["here@example.org"]]
