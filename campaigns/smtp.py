"""Sending messages over one reused connection, and telling temporary failures from permanent.

Works with whatever EMAIL_BACKEND is configured: Django's SMTP backend by default, or a
django-anymail ESP backend.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
from dataclasses import dataclass

from django.core.mail import EmailMessage, get_connection

TEMPORARY = "temporary"
PERMANENT = "permanent"


@dataclass
class SendFailure(Exception):
    kind: str  # TEMPORARY or PERMANENT
    reply: str
    # True when no connection could be made at all: every message would fail the same way.
    unreachable: bool = False

    def __str__(self):
        return self.reply


def classify(exc: BaseException) -> SendFailure:
    """What an exception from sending one message means for that message."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
        code, text = replies[0] if replies else (450, b"recipient refused")
        return _reply(code, text)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return SendFailure(TEMPORARY, f"Disconnected: {exc}")
    if isinstance(exc, (ConnectionError, socket.timeout, TimeoutError, OSError)):
        return SendFailure(TEMPORARY, f"Cannot connect: {exc}", unreachable=True)
    try:
        from anymail.exceptions import AnymailInvalidAddress, AnymailRecipientsRefused
    except ImportError:  # pragma: no cover - anymail is a requirement
        pass
    else:
        if isinstance(exc, (AnymailRecipientsRefused, AnymailInvalidAddress)):
            return SendFailure(PERMANENT, str(exc)[:2000])
    return SendFailure(TEMPORARY, f"{type(exc).__name__}: {exc}"[:2000])


def _reply(code: int, text) -> SendFailure:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    kind = PERMANENT if 500 <= code < 600 else TEMPORARY
    return SendFailure(kind, f"{code} {text}"[:2000])


class Outbox:
    """One connection for many messages, reopened after any failure.

    with Outbox() as outbox:
        outbox.send(message)   # raises SendFailure
    """

    def __init__(self):
        self.connection = None

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self.connection is not None:
            # Closing a connection the server already dropped may fail in any way.
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None

    def send(self, message: EmailMessage) -> None:
        try:
            if self.connection is None:
                connection = get_connection(fail_silently=False)
                connection.open()
                self.connection = connection
            message.connection = self.connection
            sent = self.connection.send_messages([message])
        except Exception as exc:
            failure = classify(exc)
            if self.connection is not None and failure.unreachable:
                # The connection was open: the server went away mid-conversation.
                failure.unreachable = False
            self.close()
            raise failure from exc
        if not sent:
            self.close()
            raise SendFailure(TEMPORARY, "The mail server did not accept the message.")
