"""Production settings: complete, safe, and loud about anything missing."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings


def _env_example() -> dict[str, str]:
    """The production values documented in .env.example, as a process manager would read them."""
    values = {}
    for line in (settings.BASE_DIR / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value.strip('"')
    return values


# The documented example, with the one value it leaves for each deployment to choose.
PRODUCTION_ENV = {
    **_env_example(),
    "SECRET_KEY": "k3#9vP!x2@LqZr8&Tm5^Wn1*Yb7(Hc4)Jd6_Fe0+Gs-Ua=Ri%Oo$Ek~Al;Bm:Cn",
}


def _manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_production_values():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_env_example_is_complete_and_production_like():
    assert PRODUCTION_ENV["DEBUG"] == "0"
    for name in ["ALLOWED_HOSTS", "PORTAL_URL", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"]:
        assert PRODUCTION_ENV[name], name


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "PORTAL_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "DEFAULT_FROM_EMAIL",
    ],
)
def test_production_refuses_to_start_without(name):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert f"Set the environment variable {name}" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", "short"),
        ("DATABASE_URL", "not a url at all"),
        ("REDIS_URL", "http://redis.internal"),
        ("DEBUG", "perhaps"),
        ("EMAIL_URL", "pigeon://loft"),
        ("PORTAL_URL", "http://portal.alc.example.org"),
        ("DATABASE_URL", "postgres://"),
        ("REDIS_URL", "redis://"),
        ("EMAIL_PORT", "twenty-five"),
        ("EMAIL_TIMEOUT", "0"),
        ("DATABASE_CONN_MAX_AGE", "a minute"),
        ("SECURE_HSTS_SECONDS", "-1"),
        ("TRUSTED_PROXY_COUNT", "one"),
        ("MAILING_BATCH_SIZE", "1e3"),
        ("MAILING_CLAIM_TIMEOUT", "soon"),
        ("WORKER_STALE_SECONDS", "0"),
        ("EMAIL_URL", "smtp://"),
        ("EMAIL_HOST", " "),
        ("REDIS_URL", "redis:///"),
        ("REDIS_URL", "redis://redis.internal:abc/0"),
        ("REDIS_URL", "redis://redis.internal/notadb"),
        ("PORTAL_URL", "https://"),
        ("LOG_LEVEL", "LOUD"),
        ("ALLOWED_HOSTS", " "),
        ("ALLOWED_HOSTS", " , "),
        ("SECRET_KEY", " " * 60),
        ("DEFAULT_FROM_EMAIL", " "),
        ("DEFAULT_FROM_EMAIL", "notanemail"),
        ("DEFAULT_FROM_EMAIL", "ALC Portal <portal@>"),
        ("SERVER_EMAIL", "bad"),
        ("ADMIN_EMAILS", "ops@alc.example.org,notanemail"),
    ],
)
def test_production_refuses_a_bad_value(name, value):
    env = {**PRODUCTION_ENV, name: value}
    if name in ("EMAIL_PORT", "EMAIL_HOST"):  # read only when there is no EMAIL_URL
        env = {"EMAIL_HOST": "smtp.example"} | env
        env = {k: v for k, v in env.items() if k != "EMAIL_URL"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    # The message itself names the variable: no traceback, whose source lines would name it too.
    assert "Traceback" not in result.stderr, result.stderr
    *_, message, hint = result.stderr.strip().splitlines()
    assert name in message, message
    assert hint.startswith("For development")


def test_the_web_application_does_not_load_without_a_secret():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "-c", "import alc_portal.wsgi; print('loaded')"],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "loaded" not in result.stdout
    assert "Set the environment variable SECRET_KEY" in result.stderr


def test_production_mail_goes_to_the_smtp_port_unless_told():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "EMAIL_URL"}
    env["EMAIL_HOST"] = "smtp.example.org"
    script = "from django.conf import settings; print(settings.EMAIL_HOST, settings.EMAIL_PORT)"
    result = _manage("shell", "--verbosity", "0", "-c", script, env=env)
    assert result.stdout.split() == ["smtp.example.org", "25"], result.stderr


def test_production_refuses_to_send_mail_to_the_development_catcher():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "EMAIL_URL"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "Set the environment variable EMAIL_URL" in result.stderr
    # A mail server given by host name, or an email provider, is enough.
    assert _manage("check", env={**env, "EMAIL_HOST": "smtp.example.org"}).returncode == 0
    provider = {
        **env,
        "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
        "ANYMAIL_WEBHOOK_SECRET": "hook:s3cret-value",
    }
    assert _manage("check", env=provider).returncode == 0


def test_production_with_a_provider_needs_the_webhook_secret():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "EMAIL_URL"}
    provider = {**env, "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend"}
    result = _manage("check", env=provider)
    assert result.returncode != 0
    assert "Set the environment variable ANYMAIL_WEBHOOK_SECRET" in result.stderr


def test_developer_commands_run_without_any_settings():
    result = _manage("makemigrations", "--check", "--dry-run", env={})
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_other_commands_without_settings_say_what_is_missing_without_a_traceback():
    result = _manage("check", env={})
    assert result.returncode != 0
    assert "Set the environment variable SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


STATIC_PROBE = """
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client
url = staticfiles_storage.url("css/portal.css")
response = Client().get(
    url, secure=True, HTTP_HOST="portal.alc.example.org", HTTP_ACCEPT_ENCODING="gzip"
)
print(url, response.status_code, response.get("Content-Encoding"), response["Cache-Control"])
"""


def test_production_serves_collected_static_files_hashed_compressed_and_cached(tmp_path):
    env = {**PRODUCTION_ENV, "STATIC_ROOT": str(tmp_path / "static")}
    collected = _manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
    assert collected.returncode == 0, collected.stderr
    result = _manage("shell", "--verbosity", "0", "-c", STATIC_PROBE, env=env)
    assert result.returncode == 0, result.stderr
    url, status, encoding, cache_control = result.stdout.splitlines()[-1].split(" ", 3)
    assert re.fullmatch(r"/static/css/portal\.[0-9a-f]{12}\.css", url), url
    assert status == "200"
    assert "immutable" in cache_control and "max-age=315360000" in cache_control
    assert encoding == "gzip"
