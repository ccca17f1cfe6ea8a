"""The benchmark's baseline must render exactly the messages the pipeline sends, or the rates it
compares measure different work."""

import importlib.util
import os
from pathlib import Path

import pytest

from campaigns.audience import audience_resolve
from campaigns.models import Mailing

BENCH = Path(__file__).resolve().parents[2] / "bench" / "mailing.py"


def _bench_module():
    # The script sets throwaway settings in the environment for its own processes; keep them
    # out of this run's later worker processes.
    saved = dict(os.environ)
    try:
        spec = importlib.util.spec_from_file_location("bench_mailing", BENCH)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return module


@pytest.mark.django_db
def test_the_benchmark_baseline_renders_the_messages_the_pipeline_sends():
    bench = _bench_module()
    mailing = Mailing.objects.get(pk=bench.audience_create(3))
    recipients = audience_resolve(mailing).recipients
    assert len(recipients) == 3
    baseline = bench.Baseline(mailing)
    for recipient in recipients:
        baseline.check_same_as_pipeline(mailing, recipient)
    url, subject, text, html = baseline.render(recipients[0].email, recipients[0].context)
    assert subject == "Elections at Example 0 Borough Council on 6 May 2027"
    assert "You receive this as the contact address of a council Labour group." in text
