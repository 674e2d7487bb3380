"""Linux capabilities: the name table, and capget(2)/capset(2) on the calling thread.

The bounding and ambient sets are changed through ``dockyard._sys.prctl``. The name table is
plain data so spec generation can use it without loading ctypes: libc is imported only when a
syscall is made. Imports only the standard library and ``dockyard._sys.libc`` (layer L1).
"""

from __future__ import annotations

__all__ = ["CAP_NAMES", "CapSets", "cap_number", "capget", "capset", "mask"]

_NAMES = (
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP "
    "LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER "
    "SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE "
    "SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP "
    "MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF "
    "CHECKPOINT_RESTORE"
)
#: Capability names (``CAP_`` prefix included) indexed by their number, as in linux/capability.h.
CAP_NAMES: tuple[str, ...] = tuple("CAP_" + name for name in _NAMES.split())

_NUMBERS = {name: i for i, name in enumerate(CAP_NAMES)}

_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def cap_number(name: str) -> int:
    """The number of capability *name* (``CAP_CHOWN`` or ``CHOWN``).

    Raises KeyError for a name the table does not know.
    """
    upper = name.upper()
    return _NUMBERS[upper if upper.startswith("CAP_") else "CAP_" + upper]


def mask(names: list[str] | tuple[str, ...]) -> int:
    """The bit mask of capability *names*; unknown names raise KeyError."""
    bits = 0
    for name in names:
        bits |= 1 << cap_number(name)
    return bits


class CapSets:
    """The effective, permitted and inheritable sets of a thread, as 64-bit masks."""

    __slots__ = ("effective", "inheritable", "permitted")

    def __init__(self, effective: int, permitted: int, inheritable: int) -> None:
        self.effective = effective
        self.permitted = permitted
        self.inheritable = inheritable


def _structs():  # type: ignore[no-untyped-def]
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    return Header, Data * 2


def capget() -> CapSets:
    """capget(2) for the calling thread. Raises OSError."""
    import ctypes

    from dockyard._sys.libc import call, libc

    header_t, data_t = _structs()
    header, data = header_t(_LINUX_CAPABILITY_VERSION_3, 0), data_t()
    call(libc.capget, ctypes.byref(header), ctypes.byref(data), what="capget")
    return CapSets(
        data[0].effective | data[1].effective << 32,
        data[0].permitted | data[1].permitted << 32,
        data[0].inheritable | data[1].inheritable << 32,
    )


def capset(sets: CapSets) -> None:
    """capset(2) for the calling thread. Raises OSError (EPERM when raising a capability)."""
    import ctypes

    from dockyard._sys.libc import call, libc

    header_t, data_t = _structs()
    header, data = header_t(_LINUX_CAPABILITY_VERSION_3, 0), data_t()
    low, high = 0xFFFFFFFF, 32
    data[0].effective, data[1].effective = sets.effective & low, sets.effective >> high
    data[0].permitted, data[1].permitted = sets.permitted & low, sets.permitted >> high
    data[0].inheritable, data[1].inheritable = sets.inheritable & low, sets.inheritable >> high
    call(libc.capset, ctypes.byref(header), ctypes.byref(data), what="capset")
