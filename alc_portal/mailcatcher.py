"""A local SMTP server that keeps every message instead of delivering it.

`make run` starts it on 127.0.0.1:1025 and points the portal's outgoing mail at it; each message
lands in var/mail as `<timestamp>-<n>.eml`, byte for byte as received (open it with any mail
client), and a one-line summary is printed:

    python -m alc_portal.mailcatcher --host 127.0.0.1 --port 1025 --dir var/mail

Tests use SmtpCatcher directly as a real SMTP server on loopback:

    catcher = SmtpCatcher()          # a free port; pass port= to choose one
    catcher.start()
    ...send mail to catcher.host:catcher.port...
    catcher.wait_for(1)
    assert catcher.messages[0]["Subject"] == "Hello"
    assert catcher.messages[0].rcpt_tos == ["someone@example.org"]
    catcher.stop()                   # the port is closed: an SMTP outage
    catcher.start()                  # back on the same port
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import itertools
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

from alc_portal.ports import port_is_free


class CaughtMessage(EmailMessage):
    """A received message (parsed with email.policy.default) plus its SMTP envelope."""

    mail_from: str = ""
    rcpt_tos: list[str]
    raw: bytes = b""
    path: Path | None = None


_parser = email.parser.BytesParser(_class=CaughtMessage, policy=email.policy.default)


class _Handler:
    def __init__(self, catcher: SmtpCatcher):
        self.catcher = catcher

    async def handle_DATA(self, server, session, envelope):
        reply = self.catcher.reply_error
        if reply:
            return reply
        self.catcher._received(envelope.mail_from or "", list(envelope.rcpt_tos), envelope)
        return "250 Message accepted for delivery"


class _Controller(Controller):
    def __init__(self, handler, *args, **kwargs):
        super().__init__(handler, *args, **kwargs)
        self.catcher = handler.catcher

    def factory(self):
        # One SMTP protocol object per client connection.
        self.catcher.connections += 1
        return super().factory()

    def _trigger_server(self):
        # With port 0 the operating system picks the port: learn it before connecting.
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpCatcher:
    """An SMTP server in a background thread that records (and optionally saves) messages.

    - `messages`: the received messages, oldest first, as CaughtMessage objects (EmailMessage
      subclasses with `mail_from`, `rcpt_tos`, `raw` and `path` attributes).
    - `directory`: if given, each message is also written there as `<timestamp>-<n>.eml`.
    - `reply_error`: set to an SMTP reply such as "451 4.3.0 Try again later" to refuse
      messages (a temporary failure) while the server keeps accepting connections.
    - `connections`: how many SMTP connections clients have opened so far.
    - stop() closes the port; start() opens it again on the same port.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        directory: Path | str | None = None,
        *,
        echo: bool = False,
    ):
        self.host = host
        self.port = port
        self.directory = Path(directory) if directory is not None else None
        self.echo = echo
        self.messages: list[CaughtMessage] = []
        self.reply_error: str | None = None
        self.connections = 0
        self._controller: _Controller | None = None
        self._condition = threading.Condition()
        self._counter = itertools.count(1)

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> SmtpCatcher:
        if self._controller is not None:
            return self
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        # A new controller each time: a stopped one cannot be restarted.
        controller = _Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            server_hostname="mailcatcher.localhost",  # avoids a slow DNS lookup of our own name
            ready_timeout=10,
        )
        connections = self.connections
        controller.start()
        # start() connects once itself to check the server is up: that one is not a client's.
        self.connections = connections
        self.port = controller.port
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is None:
            return
        self._controller.stop()
        self._controller = None

    def __enter__(self) -> SmtpCatcher:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def clear(self) -> None:
        with self._condition:
            self.messages.clear()

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[CaughtMessage]:
        """Wait until at least `count` messages have arrived; return them (or raise)."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {count} message(s) within {timeout} s, got {len(self.messages)}"
                    )
                self._condition.wait(remaining)
            return list(self.messages)

    def _received(self, mail_from: str, rcpt_tos: list[str], envelope) -> None:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        # Saved as received (CRLF line ends); parsed with newlines, as Python code expects.
        message = _parser.parsebytes(raw.replace(b"\r\n", b"\n"))
        message.mail_from = mail_from
        message.rcpt_tos = rcpt_tos
        message.raw = raw
        if self.directory is not None:
            message.path = self._save(raw)
        with self._condition:
            self.messages.append(message)
            self._condition.notify_all()
        if self.echo:
            where = f" -> {message.path}" if message.path else ""
            print(
                f"{mail_from or '<>'} -> {', '.join(rcpt_tos)}: "
                f"{message.get('Subject', '(no subject)')}{where}",
                flush=True,
            )

    def _save(self, raw: bytes) -> Path:
        assert self.directory is not None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"{stamp}-{next(self._counter)}.eml"
        tmp = self.directory / f".{path.name}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m alc_portal.mailcatcher",
        description="Accept mail over SMTP and save each message as an .eml file.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", default="var/mail", help="where to save messages")
    args = parser.parse_args(argv)

    if not port_is_free(args.host, args.port):
        print(f"mailcatcher: {args.host}:{args.port} is already in use", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())
    catcher = SmtpCatcher(args.host, args.port, args.dir, echo=True)
    catcher.start()
    print(f"mail catcher on {args.host}:{args.port}, saving messages to {args.dir}", flush=True)
    try:
        while not stop.wait(1):
            pass
    finally:
        catcher.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
