"""Production settings: complete, safe, and loud about anything missing."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k3#9vP!x2@LqZr8&Tm5^Wn1*Yb7(Hc4)Jd6_Fe0+Gs-Ua=Ri%Oo$Ek~Al;Bm:Cn",
    "ALLOWED_HOSTS": "portal.alc.example.org",
    "PORTAL_URL": "https://portal.alc.example.org",
    "DATABASE_URL": "postgres://alc:secret@db.internal:5432/alc_portal",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://portal:secret@smtp.example.org:587",
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


@pytest.mark.parametrize(
    "name", ["SECRET_KEY", "ALLOWED_HOSTS", "PORTAL_URL", "DATABASE_URL", "REDIS_URL"]
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
    ],
)
def test_production_refuses_a_bad_value(name, value):
    result = _manage("check", env={**PRODUCTION_ENV, name: value})
    assert result.returncode != 0
    assert name in result.stderr


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
