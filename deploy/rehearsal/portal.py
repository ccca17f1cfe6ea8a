"""The portal as an administrator and a visitor meet it: the environment file written from
deploy/env.example, manage.py run the way docs/operations.md says (the env file sourced by a
shell), and a real HTTPS client that signs in with a password and a TOTP code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shlex
import struct
import subprocess
import time
from pathlib import Path

import requests

SHELL_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]*")


def env_file_write(template: Path, target: Path, values: dict[str, str]) -> None:
    """deploy/env.example with `values` filled in, line by line. Every value set must be a
    variable the template lists: what the rehearsal needs, an administrator is told about."""
    unknown = set(values)
    lines = []
    for line in template.read_text().splitlines():
        name = line.split("=", 1)[0].strip()
        if not line.lstrip().startswith("#") and "=" in line and name in values:
            value = values[name]
            lines.append(f"{name}={value if SHELL_SAFE.fullmatch(value) else shlex.quote(value)}")
            unknown.discard(name)
        else:
            lines.append(line)
    if unknown:
        raise ValueError(f"deploy/env.example does not list {', '.join(sorted(unknown))}")
    target.write_text("\n".join(lines) + "\n")
    target.chmod(0o640)


class AdminShell:
    """Commands as an administrator runs them on the server (docs/operations.md): a shell that
    exports the environment file, in the application folder; manage.py with the virtualenv's
    Python."""

    def __init__(self, project: Path, python: Path, env_file: Path, log: Path):
        self.project, self.python, self.env_file, self.log = project, python, env_file, log

    def run(self, argv: list[str], *, overrides: dict | None = None, timeout: float = 900):
        """`sh -c 'set -a; . ENV_FILE; [overrides]; set +a; exec ARGV'`; returns the
        CompletedProcess (output captured, and logged)."""
        exports = "".join(f"{k}={shlex.quote(v)}; " for k, v in (overrides or {}).items())
        script = (
            f"set -a; . {shlex.quote(str(self.env_file))}; {exports}set +a; "
            f"exec {shlex.join(str(a) for a in argv)}"
        )
        result = subprocess.run(
            ["sh", "-c", script],
            cwd=self.project,
            env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/")},
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        with open(self.log, "a") as log:
            log.write(f"--- {shlex.join(str(a) for a in argv)[:300]}\n")
            log.write(f"{result.stdout}{result.stderr}(exit status {result.returncode})\n")
        return result

    def manage(self, *args: str, overrides: dict | None = None, timeout: float = 900) -> str:
        result = self.run([self.python, "manage.py", *args], overrides=overrides, timeout=timeout)
        if result.returncode:
            raise RuntimeError(
                f"manage.py {args[0]} failed ({result.returncode}):\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def shell_json(self, code: str, overrides: dict | None = None, timeout: float = 900):
        """Run Python in `manage.py shell -c` and return the JSON it prints last."""
        out = self.manage(
            "shell", "-c", code, overrides={"LOG_LEVEL": "WARNING", **(overrides or {})},
            timeout=timeout,
        )  # fmt: skip
        return json.loads(out.strip().splitlines()[-1])


def totp_code(secret: str, at: float | None = None) -> str:
    """The six-digit code an authenticator app shows (RFC 6238: SHA-1, 30 seconds), as
    tests/factories.py computes it with allauth."""
    counter = int((time.time() if at is None else at) // 30)
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise AssertionError("no CSRF token in the page")
    return match.group(1)


class Visitor:
    """A browser-like HTTPS client: cookies, CSRF tokens, Referer, and the test certificate as
    the only trusted one."""

    def __init__(self, base: str, cert: Path, monitor_token: str = ""):
        self.base = base
        self.monitor_token = monitor_token
        self.session = requests.Session()
        # Only the test certificate, whatever REQUESTS_CA_BUNDLE or a proxy variable says.
        self.session.trust_env = False
        self.session.verify = str(cert)
        self.session.headers["User-Agent"] = "alc-portal-prod-check"

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("allow_redirects", False)
        return self.session.get(self.base + path, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 120)
        kwargs.setdefault("allow_redirects", False)
        headers = {"Referer": self.base + path, **kwargs.pop("headers", {})}
        return self.session.post(self.base + path, data=data, headers=headers, **kwargs)

    def healthz(self) -> tuple[bool, str]:
        """Whether /healthz answers 200 with every check ok, and what it said (its details, as
        a monitor with STATUS_TOKEN reads them)."""
        response = self.get("/healthz", headers={"Authorization": f"Bearer {self.monitor_token}"})
        try:
            body = response.json()
        except ValueError:
            return False, f"{response.status_code} {response.text[:200]}"
        return response.status_code == 200 and body.get("status") == "ok", (
            f"{response.status_code} {body}"
        )

    def form_post(self, path: str, data: dict, **kwargs) -> requests.Response:
        """GET the page, then POST its form with the page's CSRF token."""
        page = self.get(path)
        if page.status_code != 200:
            raise AssertionError(f"GET {path}: {page.status_code}")
        return self.post(path, {"csrfmiddlewaretoken": csrf_token(page.text), **data}, **kwargs)

    def sign_in(self, email: str, password: str, totp_secret: str, last_code: str = "") -> str:
        """Password, then the second factor, as a person does. Returns the code used (a code is
        accepted once: the next sign-in waits for a new one)."""
        response = self.form_post("/accounts/login/", {"login": email, "password": password})
        if response.status_code != 302 or "/2fa/authenticate" not in response.headers.get(
            "Location", ""
        ):
            raise AssertionError(
                f"password step: expected a redirect to the two-factor step, got "
                f"{response.status_code} {response.headers.get('Location', '')}"
            )
        code = totp_code(totp_secret)
        while code == last_code:
            time.sleep(1)
            code = totp_code(totp_secret)
        response = self.form_post("/accounts/2fa/authenticate/", {"code": code})
        if response.status_code != 302 or "/accounts/" in response.headers.get("Location", ""):
            raise AssertionError(
                f"two-factor step: expected a redirect into the portal, got "
                f"{response.status_code} {response.headers.get('Location', '')}"
            )
        return code
