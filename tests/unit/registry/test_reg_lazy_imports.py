"""Start-up is on the hot path: loading the registry commands must not load httpx or rich."""

import subprocess
import sys


def test_registry_modules_import_no_http_library_until_used():
    code = (
        "import sys\n"
        "import dockyard.cli.main, dockyard.cli.registry, dockyard.service.registry\n"
        "import dockyard.service.engine\n"
        "print(sorted(m for m in ('httpx', 'httpcore', 'rich') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
