"""Fixtures of the volume integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from volume_cli_helpers import VolumeCli


@pytest.fixture
def cli(data_root: Path) -> VolumeCli:
    return VolumeCli(data_root)
