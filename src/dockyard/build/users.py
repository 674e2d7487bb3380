"""``USER`` and ``--chown`` values to numeric ids, looked up in an image's own files.

``resolve_user(rootfs, "app:staff")`` reads ``/etc/passwd`` and ``/etc/group`` of the rootfs
(never the host's), as Docker does: a number is taken as is, a name must exist; without a
group, the user's primary group and supplementary groups apply.

Imports only the standard library and ``dockyard.errors``.
"""

from __future__ import annotations

from pathlib import Path

from dockyard import errors

__all__ = ["resolve_user"]


def _table(rootfs: Path, name: str) -> list[list[str]]:
    try:
        text = (rootfs / "etc" / name).read_text(errors="replace")
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def resolve_user(rootfs: Path, spec: str) -> tuple[int, int, tuple[int, ...]]:
    """``(uid, gid, supplementary gids)`` of ``user[:group]`` in ``rootfs``.

    Raises InvalidArgument for a name the image does not know.
    """
    user, _, group = spec.partition(":")
    uid, gid = 0, 0
    passwd = _table(rootfs, "passwd")
    groups = _table(rootfs, "group")
    username = ""
    if user.isdigit():
        uid = int(user)
        for row in passwd:
            if len(row) > 3 and row[2] == user:
                username, gid = row[0], int(row[3]) if row[3].isdigit() else 0
                break
    elif user:
        for row in passwd:
            if len(row) > 3 and row[0] == user:
                username, uid, gid = user, int(row[2]), int(row[3])
                break
        else:
            raise errors.InvalidArgument(
                f"unable to find user {user}: no matching entries in passwd file"
            )
    if group:
        if group.isdigit():
            return uid, int(group), ()
        for row in groups:
            if len(row) > 2 and row[0] == group:
                return uid, int(row[2]), ()
        raise errors.InvalidArgument(
            f"unable to find group {group}: no matching entries in group file"
        )
    extra = tuple(int(row[2]) for row in groups
                  if len(row) > 3 and username and username in row[3].split(",") and row[2].isdigit()
                  and int(row[2]) != gid)  # fmt: skip
    return uid, gid, extra
