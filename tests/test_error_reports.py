"""Errors reach Sentry when SENTRY_DSN is set: a task that fails in a real worker is reported
to a Sentry-compatible endpoint on loopback that records what arrives. And logs can be JSON."""

import gzip
import json
import logging
import os
import threading
import urllib.request
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import pytest
from polling import wait_for
from workers import current_database_url, worker_start, worker_stop

from alc_portal.celery import app as celery_app
from alc_portal.logs import JsonFormatter

pytestmark = pytest.mark.django_db(transaction=True)


# How sentry-sdk may compress an envelope: brotli when the brotli package is installed (WeasyPrint
# brings it), gzip otherwise.
DECODERS = {"": bytes, "gzip": gzip.decompress, "deflate": zlib.decompress, "br": brotli.decompress}


class _Recorder(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "").strip().lower()
        self.received.append(DECODERS[encoding](body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_endpoint():
    _Recorder.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://publickey@127.0.0.1:{server.server_port}/1", _Recorder.received
    server.shutdown()


def test_a_failing_task_is_reported_to_sentry(sentry_endpoint, monkeypatch):
    dsn, received = sentry_endpoint
    queue = f"sentry-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    saved = {key: os.environ.get(key) for key in ("SENTRY_DSN", "CELERY_TASK_DEFAULT_QUEUE")}
    os.environ.update({"SENTRY_DSN": dsn, "CELERY_TASK_DEFAULT_QUEUE": queue})
    try:
        worker = worker_start(database_url=current_database_url(), name="sentry")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    try:
        # An id that is not a number: the import job fails on it.
        celery_app.send_task("members.tasks.councillor_import_run", args=["not-a-number"])
        wait_for(lambda: any(b"ValueError" in body for body in received), timeout=60)
    finally:
        worker_stop(worker)
    report = next(body for body in received if b"ValueError" in body)
    assert b"members.tasks.councillor_import_run" in report or b"councillor_import_run" in report


@pytest.mark.parametrize("encoding", ["", "gzip", "br"])
def test_the_recorder_reads_every_encoding_sentry_sends(sentry_endpoint, encoding):
    """sentry-sdk compresses with brotli when it can and gzip otherwise: the fake server must
    read both, or the report test would wait for a body it threw away."""
    dsn, received = sentry_endpoint
    url = "http://" + dsn.split("@", 1)[1].rsplit("/", 1)[0] + "/api/1/envelope/"
    encode = {"": bytes, "gzip": gzip.compress, "br": brotli.compress}[encoding]
    request = urllib.request.Request(url, data=encode(b'{"event": "ValueError"}'), method="POST")
    if encoding:
        request.add_header("Content-Encoding", encoding)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 200
    assert received == [b'{"event": "ValueError"}']


def test_logs_can_be_json_lines():
    record = logging.LogRecord("alc", logging.WARNING, __file__, 1, "Sent %s", (3,), None)
    line = JsonFormatter().format(record)
    assert json.loads(line) | {"time": "x"} == {
        "time": "x",
        "level": "WARNING",
        "logger": "alc",
        "message": "Sent 3",
    }
