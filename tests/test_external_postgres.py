"""An explicit DATABASE_URL always wins over the embedded default: here, PostgreSQL 15."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from alc_portal.embedded import EmbeddedPostgres

SYSTEM_POSTGRES = Path("/usr/lib/postgresql/15/bin")
PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def postgres_15():
    if not (SYSTEM_POSTGRES / "postgres").exists():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL 15 is missing; .ci/run installs Debian's postgresql-15")
        pytest.skip("Debian's postgresql-15 is not installed")
    work = Path(tempfile.mkdtemp(prefix="alc-pg15-"))
    server = EmbeddedPostgres(work / "postgres", bin_dir=SYSTEM_POSTGRES)
    server.start()
    yield server
    server.stop(force=True)
    shutil.rmtree(work, ignore_errors=True)


def test_the_portal_migrates_and_runs_on_an_external_postgres_15(postgres_15, tmp_path):
    env = {**os.environ, "DATABASE_URL": postgres_15.url, "ALC_VAR_DIR": str(tmp_path / "var")}
    script = (
        "from django.db import connection\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "call_command('load_councils', verbosity=0)\n"
        "from regions.models import Council\n"
        "print(connection.pg_version // 10000, Council.objects.count())\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "alc_portal.embedded", "--",
         sys.executable, "manage.py", "shell", "-c", script],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["15", "373"]
    # The launcher used the given server and started no embedded PostgreSQL of its own.
    assert not (tmp_path / "var" / "postgres").exists()
