pytest_plugins = ["tests.harness.fixtures", "tests.app"]
