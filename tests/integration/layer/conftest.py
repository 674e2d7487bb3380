"""Layer integration tests build layers with the unit tests' tar helpers."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "image_layer"))
