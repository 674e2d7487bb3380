"""Integration tests run for real, as root, against the kernel."""

import os

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="integration tests need root")
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(skip)
