"""Gunicorn's settings for the portal (alc-portal-web.service runs `gunicorn --config` this file).

Everything a server may need to change comes from the environment (/etc/alc-portal/env):

    GUNICORN_BIND      where to listen: 127.0.0.1:8000 unless given. Listen on loopback, or on
                       a private address only nginx can reach: the portal trusts the
                       X-Forwarded-Proto and X-Forwarded-For headers of whatever connects.
    GUNICORN_WORKERS   worker processes: two per CPU core plus one unless given.
    GUNICORN_THREADS   threads per worker: 1 unless given (more switches to threaded workers).
    GUNICORN_TIMEOUT   seconds a request may take before its worker is restarted: 60.
    FORWARDED_ALLOW_IPS  the proxies (nginx) whose X-Forwarded-Proto gunicorn believes:
                       127.0.0.1,::1 unless given; add the nginx host's address when nginx runs
                       on another machine.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = [os.environ.get("GUNICORN_BIND", "").strip() or "127.0.0.1:8000"]
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
threads = _int("GUNICORN_THREADS", 1)
# A request that takes longer is cut off and its worker replaced (exports and imports of the
# association's size take a few seconds; larger imports run in the background).
timeout = _int("GUNICORN_TIMEOUT", 60)
# On stop or reload, requests in progress get this long to finish.
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (with jitter, so not all at once): a guard
# against slow memory growth.
max_requests = 20000
max_requests_jitter = 2000

# nginx in front: the scheme and the client's address come from its headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "").strip() or "127.0.0.1,::1"

# Logs go to standard output and error, which systemd sends to the journal:
#   journalctl -u alc-portal-web
# The access log shows the visitor's address as nginx forwarded it, then the usual fields and
# the time the request took in milliseconds.
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = (
    '%({x-forwarded-for}i)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
)
proc_name = "alc-portal-web"

# Gunicorn's control socket (for `gunicornc`) goes in the runtime directory systemd makes for
# the unit (RuntimeDirectory=), never in the read-only application folder.
if os.environ.get("RUNTIME_DIRECTORY"):
    control_socket = os.path.join(os.environ["RUNTIME_DIRECTORY"].split(":")[0], "gunicorn.ctl")
else:
    control_socket_disable = True
