"""Fixtures live in tests/harness (the servers) and tests/app.py (the service).

Every test that runs the service's code against a database, and the demo, is marked
`clock`: `make test` runs those again with the clock five years ahead (libfaketime), to
prove that no test depends on the day it runs.
"""
from __future__ import annotations

import pytest

pytest_plugins = ["tests.harness.fixtures", "tests.app"]

CLOCK_FIXTURES = {"database_url", "service"}
CLOCK_MODULES = {"test_demo", "test_schedule", "test_digest"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & CLOCK_FIXTURES or item.module.__name__.rsplit(".", 1)[-1] in CLOCK_MODULES:
            item.add_marker(pytest.mark.clock)
