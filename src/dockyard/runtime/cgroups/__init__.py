"""cgroups: resource limits, stats, OOM and freeze for containers, v1 and v2 behind one role.

``driver_for()`` picks the host's driver (``detect()``); callers depend only on
``CgroupDriver``. See ``protocol.py`` for the vocabulary and lifecycle.

Imports only the standard library, ``dockyard.errors`` and ``dockyard._sys``; never another
L3 package (image, network, volume).
"""

from dockyard.runtime.cgroups.detect import detect, driver_for
from dockyard.runtime.cgroups.kill import kill_all
from dockyard.runtime.cgroups.protocol import CgroupDriver, Resources, Stats
from dockyard.runtime.cgroups.v1 import V1Driver
from dockyard.runtime.cgroups.v2 import V2Driver

__all__ = [
    "CgroupDriver",
    "Resources",
    "Stats",
    "V1Driver",
    "V2Driver",
    "detect",
    "driver_for",
    "kill_all",
]
