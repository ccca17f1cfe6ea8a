"""A mailing's messages: what every message of a mailing shares (its Envelope), each message
as sent to one address, and the test copy the composer sends to whoever is checking it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from ..exceptions import MailingError
from ..models import Mailing
from ..rendering import render_message
from ..smtp import MimeBuilder, Outbox
from ..unsubscribe import PreviewLinks, UnsubscribeLinks

# Heads a test copy, so that whoever checks it knows its unsubscribe link is inert.
TEST_COPY_NOTE = (
    "This is a test copy. Its unsubscribe link does nothing: following it unsubscribes nobody."
)


def envelope_for(mailing: Mailing) -> Envelope:
    """The mailing's envelope, or MailingError when its sender or reply-to cannot go into an
    email header (a line break in the name, say). Every start builds it once, so such a
    mailing is refused with a message rather than left sending with workers that cannot."""
    try:
        return Envelope.for_mailing(mailing)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise MailingError(f"The sender's name or reply-to address can't be used: {exc}") from exc


def mailing_test_send(*, mailing: Mailing, to_email: str, context: dict) -> None:
    """Send one copy now, for the composer's "send a test to myself". Raises SendFailure, or
    MailingError when the mailing cannot make a message (see envelope_for)."""
    envelope = envelope_for(mailing)
    # The copy's unsubscribe link and headers must not unsubscribe the person testing.
    envelope.links = PreviewLinks()
    message, _ = envelope.message(
        email=to_email, context=context, subject_prefix="[Test] ", note=TEST_COPY_NOTE
    )
    with Outbox() as outbox:
        outbox.send(message)


class _Message(EmailMultiAlternatives):
    """A mailing's message. Over SMTP, Outbox sends smtp_envelope()'s bytes (MimeBuilder,
    a fraction of the cost of Python's email package); other backends use the usual path.

    Sets its own MIME boundary: left to itself, Python's email generator compiles a fresh
    regular expression per message to check a random boundary against the text. A 128-bit
    random boundary cannot clash in practice."""

    mime: MimeBuilder | None = None

    def smtp_bytes(self) -> bytes | None:
        if self.mime is None or len(self.to) != 1 or self.cc or self.bcc or self.attachments:
            return None
        return self.mime.build(
            to=self.to[0],
            subject=self.subject,
            text=self.body,
            html=self.alternatives[0][0],
            headers=self.extra_headers,
        )

    def smtp_envelope(self) -> tuple[str, str, bytes] | None:
        """(sender, recipient, message bytes) for Outbox, or None to send the usual way."""
        if self.mime is None or self.mime.sender is None:
            return None
        data = self.smtp_bytes()
        if data is None:
            return None
        return self.mime.sender, self.to[0], data

    def _create_alternatives(self, msg):
        msg = super()._create_alternatives(msg)
        if msg.is_multipart():
            msg.set_boundary(f"=_alc_{secrets.token_hex(16)}")
        return msg


@dataclass
class Envelope:
    """What every message of one mailing shares, worked out once per batch of work."""

    mailing_id: int
    subject: str
    body: str
    from_email: str
    reply_to: list[str]
    links: UnsubscribeLinks
    msgid_domain: str
    mime: MimeBuilder | None = None

    @classmethod
    def for_mailing(cls, mailing: Mailing) -> Envelope:
        _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        from_email = formataddr((mailing.from_name, address)) if mailing.from_name else address
        reply_to = [mailing.reply_to] if mailing.reply_to else []
        return cls(
            mailing_id=mailing.pk,
            subject=mailing.subject,
            body=mailing.body,
            from_email=from_email,
            reply_to=reply_to,
            links=UnsubscribeLinks(),
            msgid_domain=settings.MAILING_MESSAGE_ID_DOMAIN,
            mime=MimeBuilder(from_email=from_email, reply_to=reply_to),
        )

    def message(
        self,
        *,
        email: str,
        context: dict,
        delivery_id: int | None = None,
        subject_prefix: str = "",
        note: str = "",
    ):
        url = self.links.url(delivery_id=delivery_id, mailing_id=self.mailing_id)
        rendered = render_message(
            subject=self.subject,
            body=self.body,
            context={**context, "unsubscribe_url": url},
            note=note,
        )
        message_id = make_msgid(domain=self.msgid_domain)
        headers = {"Message-ID": message_id, **self.links.headers(url)}
        message = _Message(
            subject=subject_prefix + rendered.subject,
            body=rendered.text,
            from_email=self.from_email,
            to=[email],
            reply_to=self.reply_to,
            headers=headers,
        )
        message.attach_alternative(rendered.html, "text/html")
        message.mime = self.mime
        return message, message_id
