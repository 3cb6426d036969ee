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
# The slowest tests (a minute or more each on two cores), started first so that the xdist workers
# finish together (`--dist worksteal` in the Makefile) instead of one waiting on a test begun late.
SLOW_FIRST = ("test_poller_faults.py::test_backlog_survives_repeated_sigkill", "test_demo.py::",
              "test_compose.py::test_whatever_people_type")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & CLOCK_FIXTURES or item.module.__name__.rsplit(".", 1)[-1] in CLOCK_MODULES:
            item.add_marker(pytest.mark.clock)
    items.sort(key=lambda item: not any(slow in item.nodeid for slow in SLOW_FIRST))
