"""`make bench` runs to the end with Debian's smtp-sink at a small N, prints its three figures,
and leaves no process behind."""

import os
import re
import subprocess
from pathlib import Path

import psutil
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
SINK = "/usr/sbin/smtp-sink"
COUNT = 40


def _processes_of(var_dir: Path) -> list[str]:
    """Processes started by a bench run whose ALC_VAR_DIR is `var_dir`: its sink, workers and
    embedded servers inherit that variable, and the servers' command lines name the folder."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        command = " ".join(proc.info["cmdline"] or [])
        try:
            ours = proc.environ().get("ALC_VAR_DIR") == str(var_dir)
        except psutil.Error:
            ours = False
        if ours or str(var_dir) in command:
            found.append(f"{proc.pid} {command}")
    return found


def test_make_bench_prints_its_three_figures_and_leaves_nothing_running(tmp_path):
    if not os.access(SINK, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail(f"{SINK} is missing; .ci/run installs Debian's postfix package")
        pytest.skip(f"{SINK} is not installed (apt-get install postfix)")
    # The bench's own embedded PostgreSQL and Redis under tmp_path, as on a developer's machine;
    # not the test run's servers or settings.
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    env["ALC_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        ["make", "--no-print-directory", "bench", f"BENCH_ARGS=--count {COUNT} --sink postfix"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]

    figures = {
        name: float(value.replace(",", ""))
        for name, value in re.findall(
            r"^(baseline|pipeline|raw):\s+([\d,.]+) messages/s", output, re.M
        )
    }
    assert set(figures) == {"baseline", "pipeline", "raw"}, output
    assert all(rate > 0 for rate in figures.values())
    assert re.search(r"^ratio:\s+[\d.]+ x the baseline", output, re.M)
    assert re.search(r"^share:\s+\d+ % of the raw transfer limit", output, re.M)
    # Every message reached the sink: the baseline's, the raw transfer's and the pipeline's.
    assert f"sink accepted {3 * COUNT} messages" in output
    assert "Postfix smtp-sink" in output

    assert _processes_of(tmp_path) == []
