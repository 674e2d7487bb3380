"""OCI runtime-spec 1.x ``config.json`` generation, Docker's defaults included.

``generate(ContainerSpec(...))`` returns the config as a plain dict: the builtin runtime, runc
and crun all run the same bundle. Everything here is a pure function over values (no I/O);
Docker's defaults (capabilities, masked paths, mounts, seccomp profile) are data below.
Imports only the standard library and ``dockyard._sys.caps``' name table; never ``service/``
or any other L3 package.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from dockyard._sys.caps import CAP_NAMES, cap_number
from dockyard.errors import InvalidArgument

__all__ = [
    "DEFAULT_CAPS",
    "DEFAULT_ENV",
    "DEFAULT_MASKED_PATHS",
    "DEFAULT_NAMESPACES",
    "DEFAULT_READONLY_PATHS",
    "ContainerSpec",
    "bind_mount",
    "capabilities",
    "default_mounts",
    "default_seccomp",
    "generate",
]

OCI_VERSION = "1.0.2"
DEFAULT_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
_DOCKER_CAPS = (
    "CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP "
    "NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE"
)
DEFAULT_CAPS = tuple("CAP_" + c for c in _DOCKER_CAPS.split())
DEFAULT_NAMESPACES = ("pid", "network", "ipc", "uts", "mount", "cgroup")
DEFAULT_MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
)  # fmt: skip
DEFAULT_READONLY_PATHS = (
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
)  # fmt: skip
_NS_ALIASES = {"net": "network", "mnt": "mount"}


@dataclass(frozen=True)
class ContainerSpec:
    """What a container asks for; ``generate`` turns it into an OCI config.

    ``namespaces`` lists the namespaces to create; ``namespace_paths`` maps a namespace type to
    an existing one to join instead (``{"network": "/proc/123/ns/net"}``). ``user_namespace``
    adds a user namespace with ``uid_mappings``/``gid_mappings`` as (container, host, size).
    ``seccomp`` is None for Docker's default profile, ``"unconfined"``, or an OCI profile dict.
    """

    args: tuple[str, ...]
    env: tuple[str, ...] = DEFAULT_ENV
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()
    hostname: str = ""
    terminal: bool = False
    rootfs: str = "rootfs"
    rootfs_readonly: bool = False
    mounts: tuple[dict[str, Any], ...] = ()
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    privileged: bool = False
    no_new_privileges: bool = False
    rlimits: tuple[tuple[str, int, int], ...] = ()
    namespaces: tuple[str, ...] = DEFAULT_NAMESPACES
    namespace_paths: dict[str, str] = field(default_factory=dict)
    user_namespace: bool = False
    uid_mappings: tuple[tuple[int, int, int], ...] = ()
    gid_mappings: tuple[tuple[int, int, int], ...] = ()
    masked_paths: tuple[str, ...] | None = None
    readonly_paths: tuple[str, ...] | None = None
    cgroups_path: str | None = None
    seccomp: str | dict[str, Any] | None = None
    sysctl: dict[str, str] = field(default_factory=dict)
    oom_score_adj: int | None = None
    shm_size: int = 64 * 1024 * 1024
    annotations: dict[str, str] = field(default_factory=dict)
    arch: str = field(default_factory=lambda: os.uname().machine)


def bind_mount(
    source: str, destination: str, readonly: bool = False, propagation: str = "rprivate"
) -> dict[str, Any]:
    """An OCI mount entry binding host *source* at container *destination*."""
    options = ["rbind", propagation, "ro" if readonly else "rw"]
    return {"destination": destination, "type": "bind", "source": source, "options": options}


def default_mounts(
    shm_size: int = 64 * 1024 * 1024, privileged: bool = False
) -> list[dict[str, Any]]:
    """Docker's default mounts: /proc, /dev, /dev/pts, /sys, /sys/fs/cgroup, /dev/mqueue, /dev/shm."""
    sys_ro = [] if privileged else ["ro"]
    nse = ["nosuid", "noexec", "nodev"]

    def m(dest: str, kind: str, source: str, options: list[str]) -> dict[str, Any]:
        return {"destination": dest, "type": kind, "source": source, "options": options}

    return [
        m("/proc", "proc", "proc", nse),
        m("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        m("/dev/pts", "devpts", "devpts",
          ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
        m("/sys", "sysfs", "sysfs", [*nse, *sys_ro]),
        m("/sys/fs/cgroup", "cgroup", "cgroup", [*nse, "relatime", *sys_ro]),
        m("/dev/mqueue", "mqueue", "mqueue", nse),
        m("/dev/shm", "tmpfs", "shm", [*nse, "mode=1777", f"size={shm_size // 1024}k"]),
    ]  # fmt: skip


def capabilities(
    cap_add: tuple[str, ...] = (), cap_drop: tuple[str, ...] = (), privileged: bool = False
) -> list[str]:
    """The capability set Docker would give: its default set, or all with *privileged*, then
    ``cap_add`` and ``cap_drop`` (both accept ``ALL`` and names with or without ``CAP_``).

    Raises InvalidArgument naming an unknown capability.
    """

    def norm(name: str) -> str:
        full = name.upper() if name.upper().startswith("CAP_") else "CAP_" + name.upper()
        if name.upper() != "ALL" and full not in CAP_NAMES:
            raise InvalidArgument(f"unknown capability: {name}")
        return full

    if privileged:
        return list(CAP_NAMES)
    add = {norm(c) for c in cap_add}
    drop = {norm(c) for c in cap_drop}
    if "CAP_ALL" in add:
        base = set(CAP_NAMES)
    elif "CAP_ALL" in drop:
        base = set()
    else:
        base = set(DEFAULT_CAPS)
    caps = (base | add) - drop
    caps.discard("CAP_ALL")
    return sorted(caps, key=cap_number)


# Docker's default seccomp profile, as facts: syscalls always allowed, then the ones allowed
# only with a capability, only on an architecture, or only with some arguments.
_ALLOWED = """
accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2
dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait
epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64
fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl
fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64
fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_time64 futex_waitv
futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32
getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom
getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid
getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr
inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy
io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit
io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule
landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen
listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier
memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2
mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open
pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl
pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev
pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction
rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam
sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler
sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile
sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32
setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32
setresuid setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt
set_thread_area set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown
sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64
statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time
timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime
utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
process_vm_readv process_vm_writev ptrace
"""
_BY_CAP = {
    "CAP_DAC_READ_SEARCH": "open_by_handle_at",
    "CAP_SYS_ADMIN": "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie "
    "mount mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname "
    "sethostname setns syslog umount umount2 unshare",
    "CAP_SYS_BOOT": "reboot",
    "CAP_SYS_CHROOT": "chroot",
    "CAP_SYS_MODULE": "delete_module init_module finit_module",
    "CAP_SYS_PACCT": "acct",
    "CAP_SYS_PTRACE": "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace",
    "CAP_SYS_RAWIO": "iopl ioperm",
    "CAP_SYS_TIME": "settimeofday stime clock_settime clock_settime64",
    "CAP_SYS_TTY_CONFIG": "vhangup",
    "CAP_SYS_NICE": "get_mempolicy mbind set_mempolicy set_mempolicy_home_node",
    "CAP_SYSLOG": "syslog",
    "CAP_BPF": "bpf",
    "CAP_PERFMON": "perf_event_open",
}
_BY_ARCH = {
    "x86_64": ("arch_prctl modify_ldt", ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
    "aarch64": (
        "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls",
        ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
    ),
    "riscv64": ("riscv_flush_icache", ["SCMP_ARCH_RISCV64"]),
}
_PERSONALITIES = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)
_CLONE_NS_MASK = 0x7E020000  # every CLONE_NEW* flag


def default_seccomp(caps: list[str], arch: str | None = None) -> dict[str, Any]:
    """Docker's default seccomp profile resolved for *caps* and *arch* into OCI form."""
    arch = arch or os.uname().machine
    arch_names, arches = _BY_ARCH.get(arch, ("", []))

    def allow(names: str | list[str], args: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "names": names.split() if isinstance(names, str) else names,
            "action": "SCMP_ACT_ALLOW",
        }
        if args:
            entry["args"] = args
        return entry

    syscalls = [allow(_ALLOWED), allow("socket", [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}])]
    syscalls += [
        allow("personality", [{"index": 0, "value": p, "op": "SCMP_CMP_EQ"}])
        for p in _PERSONALITIES
    ]
    if arch_names:
        syscalls.append(allow(arch_names))
    syscalls += [allow(names) for cap, names in _BY_CAP.items() if cap in caps]
    if "CAP_SYS_ADMIN" not in caps:
        ns_arg = {"index": 0, "value": _CLONE_NS_MASK, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}
        syscalls.append(allow("clone", [ns_arg]))
        syscalls.append({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38})
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": arches,
        "syscalls": syscalls,
    }


_DEVICE_RULES = [
    {"allow": False, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 7, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 8, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
    {"allow": True, "type": "c", "major": 5, "minor": 0, "access": "rwm"},
    {"allow": True, "type": "c", "major": 5, "minor": 1, "access": "rwm"},
    {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},
    {"allow": True, "type": "c", "major": 136, "access": "rwm"},
]


def _namespaces(spec: ContainerSpec) -> list[dict[str, str]]:
    kinds = [_NS_ALIASES.get(k, k) for k in spec.namespaces]
    paths = {_NS_ALIASES.get(k, k): p for k, p in spec.namespace_paths.items()}
    if spec.user_namespace and "user" not in kinds:
        kinds.append("user")
    out: list[dict[str, str]] = []
    for kind in dict.fromkeys([*kinds, *paths]):
        if kind not in ("pid", "network", "ipc", "uts", "mount", "cgroup", "user"):
            raise InvalidArgument(f"unknown namespace type: {kind}")
        entry = {"type": kind}
        if kind in paths:
            entry["path"] = paths[kind]
        out.append(entry)
    return out


def _mounts(spec: ContainerSpec) -> list[dict[str, Any]]:
    users = list(spec.mounts)
    taken = {m["destination"].rstrip("/") or "/" for m in users}
    defaults = default_mounts(spec.shm_size, spec.privileged)
    kept = [m for m in defaults if m["destination"] not in taken]
    if not any(m["type"] == "sysfs" for m in kept):
        kept = [m for m in kept if m["destination"] != "/sys/fs/cgroup"]
    return kept + users


def generate(spec: ContainerSpec) -> dict[str, Any]:
    """The OCI runtime-spec config for *spec*, as a JSON-ready dict.

    Raises InvalidArgument for an empty command, an unknown capability or namespace type, or
    a user namespace without mappings.
    """
    if not spec.args:
        raise InvalidArgument("no command specified")
    if spec.user_namespace and not (spec.uid_mappings and spec.gid_mappings):
        raise InvalidArgument("a user namespace needs uid and gid mappings")
    caps = capabilities(spec.cap_add, spec.cap_drop, spec.privileged)
    process: dict[str, Any] = {
        "terminal": spec.terminal,
        "user": {"uid": spec.uid, "gid": spec.gid},
        "args": list(spec.args),
        "env": list(spec.env),
        "cwd": spec.cwd,
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "noNewPrivileges": spec.no_new_privileges,
    }
    if spec.additional_gids:
        process["user"]["additionalGids"] = list(spec.additional_gids)
    if spec.rlimits:
        process["rlimits"] = [{"type": t, "soft": s, "hard": h} for t, s, h in spec.rlimits]
    if spec.oom_score_adj is not None:
        process["oomScoreAdj"] = spec.oom_score_adj
    masked = () if spec.privileged else DEFAULT_MASKED_PATHS
    readonly = () if spec.privileged else DEFAULT_READONLY_PATHS
    linux: dict[str, Any] = {
        "namespaces": _namespaces(spec),
        "maskedPaths": list(masked if spec.masked_paths is None else spec.masked_paths),
        "readonlyPaths": list(readonly if spec.readonly_paths is None else spec.readonly_paths),
        "resources": {"devices": [{"allow": True, "access": "rwm"}] if spec.privileged
                      else [dict(rule) for rule in _DEVICE_RULES]},
    }  # fmt: skip
    if spec.user_namespace:
        linux["uidMappings"] = [
            {"containerID": c, "hostID": h, "size": n} for c, h, n in spec.uid_mappings
        ]
        linux["gidMappings"] = [
            {"containerID": c, "hostID": h, "size": n} for c, h, n in spec.gid_mappings
        ]
    if spec.cgroups_path:
        linux["cgroupsPath"] = spec.cgroups_path
    if spec.sysctl:
        linux["sysctl"] = dict(spec.sysctl)
    if isinstance(spec.seccomp, dict):
        linux["seccomp"] = spec.seccomp
    elif spec.seccomp is None and not spec.privileged:
        linux["seccomp"] = default_seccomp(caps, spec.arch)
    elif spec.seccomp not in (None, "unconfined"):
        raise InvalidArgument(f"bad seccomp setting: {spec.seccomp}")
    config: dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "process": process,
        "root": {"path": spec.rootfs, "readonly": spec.rootfs_readonly},
        "mounts": _mounts(spec),
        "linux": linux,
    }
    if spec.hostname:
        config["hostname"] = spec.hostname
    if spec.annotations:
        config["annotations"] = dict(spec.annotations)
    return config
