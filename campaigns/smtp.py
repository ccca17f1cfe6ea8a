"""Sending messages over one reused connection, and telling temporary failures from permanent.

Works with whatever EMAIL_BACKEND is configured: Django's SMTP backend by default, or a
django-anymail ESP backend.

Speed: with Django's SMTP backend, a message that can give its own bytes (`smtp_bytes()`, see
MimeBuilder) is handed straight to smtplib on the backend's open connection. Python's `email`
package takes about a millisecond to fold the headers and serialise a multipart message, far
more than rendering it; MimeBuilder writes the same structure directly.
"""

from __future__ import annotations

import base64
import contextlib
import email.quoprimime
import re
import secrets
import smtplib
import socket
from dataclasses import dataclass
from email.utils import formatdate, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address

TEMPORARY = "temporary"
PERMANENT = "permanent"


@dataclass
class SendFailure(Exception):
    kind: str  # TEMPORARY or PERMANENT
    reply: str
    # True when no connection could be made at all: every message would fail the same way.
    unreachable: bool = False
    # True when the server refused the message because the recipient's mailbox does not exist:
    # writing to the address again is pointless, and harms the sender's reputation.
    hard_bounce: bool = False

    def __str__(self):
        return self.reply


def classify(exc: BaseException) -> SendFailure:
    """What an exception from sending one message means for that message."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
        code, text = replies[0] if replies else (450, b"recipient refused")
        return _reply(code, text, about_recipient=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        # A refused MAIL FROM is about our sender, never about the recipient's mailbox.
        about_recipient = not isinstance(exc, smtplib.SMTPSenderRefused)
        return _reply(exc.smtp_code, exc.smtp_error, about_recipient=about_recipient)
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


# RFC 3463 enhanced status codes at the start of a reply's text, e.g. "5.1.1".
_ENHANCED_CODE = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
# X.1.7 and X.1.8 are about the sender's address, the other X.1.y about the recipient's.
_SENDER_ADDRESS_DETAILS = {"7", "8"}
# What servers that give no enhanced code say when a mailbox does not exist.
_UNKNOWN_MAILBOX = re.compile(
    r"(user|mailbox|recipient|address|account)\s+(is\s+)?"
    r"(unknown|not\s+found|does\s*n[o']t\s+exist|not\s+exist)"
    r"|no\s+such\s+(user|mailbox|recipient|address|account)"
    r"|unknown\s+(user|mailbox|recipient)",
    re.IGNORECASE,
)


def is_hard_bounce(code: int, text: str) -> bool:
    """Whether a permanent refusal says the recipient's mailbox does not exist: an enhanced
    status 5.1.x about the recipient (5.1.1 bad mailbox, 5.1.0, 5.1.10 null MX...), or, with
    no enhanced status, a 550 reply in the words servers use for an unknown user. Other
    refusals (5.7.1 policy, 552 message too big...) say nothing about the address itself."""
    if not 500 <= code < 600:
        return False
    enhanced = _ENHANCED_CODE.match(text)
    if enhanced:
        klass, subject, detail = enhanced.groups()
        return klass == "5" and subject == "1" and detail not in _SENDER_ADDRESS_DETAILS
    return code == 550 and bool(_UNKNOWN_MAILBOX.search(text))


def _reply(code: int, text, *, about_recipient: bool = False) -> SendFailure:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    kind = PERMANENT if 500 <= code < 600 else TEMPORARY
    return SendFailure(
        kind,
        f"{code} {text}"[:2000],
        hard_bounce=about_recipient and is_hard_bounce(code, text),
    )


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

    def open(self) -> None:
        """Connect, unless connected already. Raises SendFailure."""
        if self.connection is not None:
            return
        try:
            connection = get_connection(fail_silently=False)
            connection.open()
        except Exception as exc:
            raise classify(exc) from exc
        self.connection = connection

    def send(self, message: EmailMessage) -> None:
        self.open()
        try:
            message.connection = self.connection
            sent = self._send_direct(message) or self.connection.send_messages([message])
        except Exception as exc:
            failure = classify(exc)
            # The connection was open: the server went away mid-conversation.
            failure.unreachable = False
            self.close()
            raise failure from exc
        if not sent:
            self.close()
            raise SendFailure(TEMPORARY, "The mail server did not accept the message.")

    def _send_direct(self, message) -> bool:
        """Send through smtplib on the SMTP backend's connection when the message can give its
        own envelope and bytes; False when it cannot (the backend's usual path is then used)."""
        smtp = getattr(self.connection, "connection", None)
        if not isinstance(self.connection, SmtpBackend) or smtp is None:
            return False
        build = getattr(message, "smtp_envelope", None)
        envelope = build() if build is not None else None
        if envelope is None:
            return False
        sender, recipient, data = envelope
        _sendmail(smtp, sender, recipient, data)
        return True


def _sendmail(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
    """smtplib's sendmail for one plain ASCII recipient, without re-parsing both addresses for
    every message, and with RFC 2920 PIPELINING when the server offers it (every common MTA
    does): MAIL, RCPT and DATA go in one write, so a message takes two round trips, not four.
    Raises the same exceptions as sendmail; the caller drops the connection after any failure,
    so there is no RSET."""
    smtp.ehlo_or_helo_if_needed()
    commands = [f"MAIL FROM:<{sender}>\r\n", f"RCPT TO:<{recipient}>\r\n", "DATA\r\n"]
    if smtp.does_esmtp and smtp.has_extn("pipelining"):
        smtp.send("".join(commands))
        replies = [smtp.getreply() for _ in commands]
        for step, (code, reply) in enumerate(replies):
            _check(step, code, reply, sender, recipient)
    else:
        for step, command in enumerate(commands):
            smtp.send(command)
            _check(step, *smtp.getreply(), sender, recipient)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    smtp.send(_DOT_AT_LINE_START.sub(b"..", data) + b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


def _check(step: int, code: int, reply: bytes, sender: str, recipient: str) -> None:
    if step == 0 and code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    if step == 1 and code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    if step == 2 and code != 354:
        raise smtplib.SMTPDataError(code, reply)


# RFC 5321 4.5.2: a line of the message starting with "." gets another in front.
_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")


# --- building messages ------------------------------------------------------------------------

_MAX_LINE = 998  # RFC 5322's hard limit on a line, without its CRLF
_FOLD_AT = 78


class MimeBuilder:
    """Writes a multipart/alternative (plain text + HTML) message as bytes, the way Django's
    EmailMultiAlternatives would serialise it (same headers, UTF-8, 7bit/8bit bodies, quoted-
    printable only for over-long lines), for many messages sharing From and Reply-To.

    build() returns None for anything unusual (a non-ASCII address, an unfoldable header):
    the caller then uses Django's own serialisation.
    """

    def __init__(self, *, from_email: str, reply_to: list[str]):
        sender = parseaddr(from_email)[1]
        # The SMTP envelope sender; None sends every message the usual way.
        self.sender = sender if _plain_address(sender) else None
        fixed = [("From", sanitize_address(from_email, "utf-8"))]
        if reply_to:
            fixed.append(("Reply-To", ", ".join(sanitize_address(a, "utf-8") for a in reply_to)))
        self.fixed = "".join(_header(name, value) for name, value in fixed)

    def build(
        self, *, to: str, subject: str, text: str, html: str, headers: dict[str, str]
    ) -> bytes | None:
        if not _plain_address(to):
            return None
        head = [_header("Subject", subject), self.fixed, _header("To", to)]
        if "Date" not in headers:
            head.append(_header("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
        head += [_header(name, value) for name, value in headers.items()]
        if None in head:
            return None
        boundary = f"=_alc_{secrets.token_hex(16)}"
        return b"".join(
            (
                f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n'
                "MIME-Version: 1.0\r\n".encode(),
                "".join(head).encode("ascii"),
                f"\r\n--{boundary}\r\n".encode(),
                _part("text/plain", text),
                f"\r\n--{boundary}\r\n".encode(),
                _part("text/html", html),
                f"\r\n--{boundary}--\r\n".encode(),
            )
        )


def _plain_address(address: str) -> bool:
    """An address that can go into headers and SMTP commands as it is."""
    return (
        address.isascii()
        and address.count("@") == 1
        and not any(char in address for char in '<>"\\\r\n ,;()')
    )


def _header(name: str, value: str) -> str | None:
    """One header field, folded to 78 characters where it can be, with its CRLF. Non-ASCII
    text becomes RFC 2047 encoded words. None if the value cannot be written safely."""
    if "\n" in value or "\r" in value:
        return None
    if not value.isascii():
        return f"{name}: " + "\r\n ".join(_encoded_words(value)) + "\r\n"
    line = f"{name}: {value}"
    if len(line) <= _FOLD_AT:
        return line + "\r\n"
    lines, current = [], f"{name}:"
    for word in value.split(" "):
        if len(current) + 1 + len(word) > _FOLD_AT and current.strip() != f"{name}:":
            lines.append(current)
            current = " " + word
        else:
            current += " " + word
    lines.append(current)
    if max(len(part) for part in lines) > _MAX_LINE:
        return None
    return "\r\n".join(lines) + "\r\n"


def _encoded_words(value: str) -> list[str]:
    """RFC 2047 base64 encoded words of at most 39 UTF-8 bytes each (64 characters), never
    splitting a character. (email.header.Header does this too, at ten times the cost.)"""
    words, chunk, size = [], [], 0
    for char in value:
        width = len(char.encode("utf-8"))
        if size + width > 39:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    words.append("".join(chunk))
    return [f"=?utf-8?b?{base64.b64encode(w.encode('utf-8')).decode('ascii')}?=" for w in words]


def _part(content_type: str, content: str) -> bytes:
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    data = content.encode("utf-8")
    if len(max(data.split(b"\n"), key=len)) > _MAX_LINE:
        encoding = "quoted-printable"
        data = email.quoprimime.body_encode(content, eol="\n").encode("ascii")
    else:
        encoding = "7bit" if data.isascii() else "8bit"
    head = (
        f'Content-Type: {content_type}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    return head.encode() + data.replace(b"\n", b"\r\n")
