import time

import pytest


def wait_for(predicate, timeout=20.0, interval=0.1):
    """Poll until predicate() is truthy and return its value, or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")
