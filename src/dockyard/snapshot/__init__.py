"""Snapshots: layer directories and the overlay mounts that stack them (layer L2).

The public face is the protocol (``protocol.py``); the composition root picks an
implementation (``overlay.OverlaySnapshotter``).
"""

from dockyard.snapshot.protocol import Info, Kind, Snapshotter, Usage

__all__ = ["Info", "Kind", "Snapshotter", "Usage"]
