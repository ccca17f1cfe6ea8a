"""The files in deploy/ that an administrator copies onto a server: they parse, they name what the
settings need, and they agree with the portal's limits. (`make prod-check` runs them for real
with Debian's servers; these checks need none.)"""

import os
import re
import runpy
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from deploy.rehearsal.servers import Nginx
from deploy.rehearsal.systemd import Unit, expand_command, parse_environment_file

DEPLOY = Path(settings.BASE_DIR) / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
LONG_RUNNING = ["alc-portal-web.service", "alc-portal-worker@.service", "alc-portal-beat.service"]
ENV_EXAMPLE = DEPLOY / "env.example"
# Variables read by the files in deploy/ rather than by the settings.
DEPLOY_VARIABLES = {
    "GUNICORN_BIND",
    "GUNICORN_WORKERS",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "FORWARDED_ALLOW_IPS",
    "CELERY_CONCURRENCY",
    "BACKUP_DIR",
    "BACKUP_KEEP_DAYS",
}


def unit(name: str, instance: str = "") -> Unit:
    return Unit(DEPLOY / "systemd" / name, instance=instance)


def test_every_unit_is_there():
    names = {path.name for path in (DEPLOY / "systemd").iterdir()}
    assert names == {*LONG_RUNNING, "alc-portal-backup.service", "alc-portal-backup.timer"}


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_services_run_unprivileged_hardened_with_the_environment_file(path):
    service = unit(path.name, "w1")
    assert service.values("ExecStart", "Service"), "one ExecStart"
    assert service.value("User") == service.value("Group") == "alc-portal"
    assert service.value("EnvironmentFile") == "/etc/alc-portal/env"
    assert service.value("WorkingDirectory") == "/srv/alc-portal/app"
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service.value(key) == value, key
    assert service.sections["Unit"]["Description"]


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_restart_on_failure_and_start_at_boot(name):
    service = unit(name, "w1")
    assert service.restart == "on-failure"
    assert service.restart_sec >= 1
    assert service.value("WantedBy", section="Install") == "multi-user.target"


@pytest.mark.parametrize("name", ["alc-portal-web.service", "alc-portal-worker@.service"])
def test_web_and_workers_may_write_uploaded_files_only(name):
    service = unit(name, "w1")
    assert service.values("ReadWritePaths") == ["/srv/alc-portal/media"]
    assert parse_environment_file(ENV_EXAMPLE)["MEDIA_ROOT"] == "/srv/alc-portal/media"


def test_web_runs_gunicorn_with_the_shipped_config():
    service = unit("alc-portal-web.service")
    argv = service.command({})
    assert argv[0] == "/srv/alc-portal/venv/bin/gunicorn"
    assert argv[1:] == [
        "--config",
        "/srv/alc-portal/app/deploy/gunicorn.conf.py",
        "alc_portal.wsgi",
    ]
    assert service.value("Type") == "notify"
    assert service.value("KillMode") == "mixed"
    assert (
        service.stop_timeout > runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["graceful_timeout"]
    )


def test_the_worker_instance_names_the_node_and_takes_its_concurrency():
    service = unit("alc-portal-worker@.service", "w2")
    defaults = dict(line.split("=", 1) for line in service.values("Environment"))
    argv = service.command(defaults)
    assert argv[:4] == ["/srv/alc-portal/venv/bin/celery", "-A", "alc_portal", "worker"]
    assert argv[argv.index("-n") + 1] == f"w2@{socket.gethostname()}"
    assert argv[argv.index("--concurrency") + 1] == "2"
    assert service.name == "alc-portal-worker@w2.service"


def test_beat_uses_the_database_scheduler_the_settings_name():
    argv = unit("alc-portal-beat.service").command({})
    assert argv[1:] == ["-A", "alc_portal", "beat", "--loglevel", "INFO"]
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"


def test_the_backup_runs_daily_from_its_timer():
    timer = unit("alc-portal-backup.timer")
    assert timer.value("OnCalendar", section="Timer") == "*-*-* 02:30:00"
    assert timer.value("Persistent", section="Timer") == "true"
    assert timer.value("Unit", section="Timer") == "alc-portal-backup.service"
    backup = unit("alc-portal-backup.service")
    assert backup.value("Type") == "oneshot"
    assert backup.command({}) == ["/srv/alc-portal/app/deploy/backup"]
    defaults = dict(line.split("=", 1) for line in backup.values("Environment"))
    assert backup.values("ReadWritePaths") == [defaults["BACKUP_DIR"]]
    assert parse_environment_file(ENV_EXAMPLE)["BACKUP_DIR"] == defaults["BACKUP_DIR"]


def test_command_lines_expand_like_systemd():
    env = {"WORDS": "a b", "ONE": "x y"}
    assert expand_command("-/bin/echo $WORDS ${ONE} pre${ONE}post '$ONE'", env) == [
        "/bin/echo", "a", "b", "x y", "prex ypost", "x", "y",
    ]  # fmt: skip


# --- the environment file ---------------------------------------------------------------------


def _production_required() -> set[str]:
    source = (Path(settings.BASE_DIR) / "alc_portal" / "settings.py").read_text()
    return set(re.findall(r'_required\("([A-Z_]+)"', source))


def test_env_example_lists_every_variable_production_requires():
    listed = parse_environment_file(ENV_EXAMPLE)
    required = _production_required()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"} <= required
    assert required - set(listed) == set()
    assert listed["DEBUG"] == "0"


def test_env_example_names_only_variables_something_reads():
    documented = set(parse_environment_file(Path(settings.BASE_DIR) / ".env.example"))
    unknown = set(parse_environment_file(ENV_EXAMPLE)) - documented - DEPLOY_VARIABLES
    assert unknown == set()


def test_variables_the_units_use_are_set_somewhere():
    listed = set(parse_environment_file(ENV_EXAMPLE))
    for path in UNITS:
        service = unit(path.name, "w1")
        defaults = {line.split("=", 1)[0] for line in service.values("Environment")}
        used = set(re.findall(r"\$\{?([A-Z_]+)", " ".join(service.values("ExecStart"))))
        assert used - defaults - listed == set(), path.name


def test_a_shell_reads_the_env_file_as_systemd_does():
    """Administrators source the file to run manage.py; systemd reads it for the units."""
    result = subprocess.run(
        ["sh", "-c", f"set -a; . {ENV_EXAMPLE}; set +a; env -0"],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        check=True,
    )
    from_shell = dict(item.split("=", 1) for item in result.stdout.decode().split("\0") if item)
    for name, value in parse_environment_file(ENV_EXAMPLE).items():
        assert from_shell.get(name) == value, name


def test_production_settings_start_and_pass_check_deploy_with_the_env_file():
    env = {
        **parse_environment_file(ENV_EXAMPLE),
        "SECRET_KEY": "w7#Qm2!pZ9@rL4&xT8^vN1*kB6(hC3)jD5_fG0+sU-aY=eR%oI$",
        "PATH": os.environ["PATH"],
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout


# --- gunicorn, nginx, Redis -------------------------------------------------------------------


def test_gunicorn_config_loads_with_defaults_and_from_the_environment(monkeypatch):
    from gunicorn.config import Config

    known = set(Config().settings)
    defaults = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    names = {k for k, v in defaults.items() if not k.startswith("_") and not callable(v)}
    assert names - {"multiprocessing", "os"} <= known
    assert defaults["bind"] == ["127.0.0.1:8000"]
    assert defaults["workers"] == os.cpu_count() * 2 + 1
    assert defaults["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert "x-forwarded-for" in defaults["access_log_format"]
    monkeypatch.setenv("GUNICORN_BIND", "10.0.0.5:8001")
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/alc-portal-web")
    configured = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert configured["bind"] == ["10.0.0.5:8001"]
    assert configured["workers"] == 3
    assert configured["control_socket"] == "/run/alc-portal-web/gunicorn.ctl"


def _megabytes(size: str) -> int:
    number, unit_ = re.fullmatch(r"(\d+)([kKmM]?)", size).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit_.lower()]


def test_nginx_takes_the_largest_upload_the_portal_accepts():
    from campaigns.forms import RESOURCE_MAX_BYTES
    from members.imports import MAX_FILE_BYTES

    site = (DEPLOY / "nginx" / "alc-portal.conf").read_text()
    limit = _megabytes(re.search(r"client_max_body_size (\w+);", site).group(1))
    assert limit >= max(RESOURCE_MAX_BYTES, MAX_FILE_BYTES) + 256 * 1024
    assert limit <= 4 * max(RESOURCE_MAX_BYTES, MAX_FILE_BYTES)


def test_nginx_sends_the_headers_the_settings_trust():
    site = (DEPLOY / "nginx" / "alc-portal.conf").read_text()
    # Production settings (DEBUG off) trust X-Forwarded-Proto for https.
    source = (Path(settings.BASE_DIR) / "alc_portal" / "settings.py").read_text()
    assert 'SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")' in source
    assert site.count("proxy_set_header X-Forwarded-Proto https;") == 2
    assert site.count("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;") == 2
    assert "return 301 https://$host$request_uri;" in site
    assert "location = /healthz" in site
    assert re.search(r"upstream alc_portal \{\s*server 127\.0\.0\.1:8000", site)
    assert parse_environment_file(ENV_EXAMPLE)["TRUSTED_PROXY_COUNT"] == "1"


def test_the_rehearsal_can_adapt_the_shipped_nginx_site(tmp_path):
    nginx = Nginx(tmp_path, DEPLOY / "nginx" / "alc-portal.conf", tmp_path / "c", tmp_path / "k")
    text = nginx.site_config(["127.0.0.1:9001", "127.0.0.1:9002"])
    assert "server 127.0.0.1:9001 max_fails" in text and "server 127.0.0.1:9002 max_fails" in text
    directives = [line for line in text.splitlines() if not line.strip().startswith("#")]
    assert not any("portal.alc.example.org" in line for line in directives)


def test_redis_keeps_the_queues_on_disk_and_never_evicts_them():
    conf = dict(
        line.split(None, 1)
        for line in (DEPLOY / "redis.conf").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert conf["appendonly"] == "yes"
    assert conf["appendfsync"] == "everysec"
    assert conf["maxmemory-policy"] == "noeviction"
    assert conf["bind"].split()[0] == "127.0.0.1"
    assert conf["protected-mode"] == "yes"


# --- backup and restore -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["backup", "restore", "pgenv"])
def test_scripts_are_executable(name):
    assert os.access(DEPLOY / name, os.X_OK)


@pytest.mark.parametrize("name", ["backup", "restore"])
def test_shell_scripts_parse(name):
    subprocess.run(["bash", "-n", str(DEPLOY / name)], check=True)


def test_backup_and_restore_refuse_to_run_without_their_variables(tmp_path):
    env = {"PATH": os.environ["PATH"]}
    backup = subprocess.run([DEPLOY / "backup"], env=env, capture_output=True, text=True)
    assert backup.returncode != 0 and "set DATABASE_URL" in backup.stderr
    restore = subprocess.run(
        [DEPLOY / "restore", tmp_path], env=env, capture_output=True, text=True
    )
    assert restore.returncode != 0 and "set DATABASE_URL" in restore.stderr


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "postgres://alc:p%40ss%20word@db.example.org:5433/alc_portal?sslmode=require",
            {"PGHOST": "db.example.org", "PGPORT": "5433", "PGUSER": "alc",
             "PGPASSWORD": "p@ss word", "PGDATABASE": "alc_portal", "PGSSLMODE": "require"},
        ),
        (
            "postgres://alc@%2Fvar%2Frun%2Fpostgresql/alc_portal",
            {"PGHOST": "/var/run/postgresql", "PGUSER": "alc", "PGDATABASE": "alc_portal"},
        ),
    ],
)  # fmt: skip
def test_pgenv_turns_the_database_url_into_libpq_variables(url, expected):
    result = subprocess.run(
        [DEPLOY / "pgenv"],
        env={"PATH": os.environ["PATH"], "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=True,
    )
    script = f"{result.stdout}\nenv -0"
    shown = subprocess.run(
        ["sh", "-c", script], env={"PATH": os.environ["PATH"]}, capture_output=True, check=True
    )
    values = dict(item.split("=", 1) for item in shown.stdout.decode().split("\0") if item)
    assert {k: v for k, v in values.items() if k.startswith("PG")} == expected


def test_pgenv_refuses_what_is_not_a_postgresql_url():
    result = subprocess.run(
        [DEPLOY / "pgenv"],
        env={"PATH": os.environ["PATH"], "DATABASE_URL": "mysql://u:p@h/db"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "not a PostgreSQL URL" in result.stderr
