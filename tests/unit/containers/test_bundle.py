"""Docker's create-time rules and the OCI spec a container gets from its configuration."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.service.containers import bundle

IMAGE = {
    "Env": ["PATH=/usr/bin:/bin", "LANG=C"],
    "Entrypoint": ["/entry"],
    "Cmd": ["serve"],
    "WorkingDir": "/app",
    "User": "app",
    "Labels": {"from": "image"},
    "StopSignal": "SIGQUIT",
}


def test_user_values_override_the_images() -> None:
    merged = bundle.merge_image_config(
        {"Env": ["LANG=en", "X=1"], "Cmd": ["run"], "Labels": {"mine": "1"}}, IMAGE
    )
    assert merged["Env"] == ["PATH=/usr/bin:/bin", "LANG=en", "X=1"]
    assert (merged["Entrypoint"], merged["Cmd"]) == (["/entry"], ["run"])
    assert (merged["WorkingDir"], merged["User"], merged["StopSignal"]) == (
        "/app",
        "app",
        "SIGQUIT",
    )
    assert merged["Labels"] == {"from": "image", "mine": "1"}


def test_an_entrypoint_given_resets_the_images_cmd() -> None:
    merged = bundle.merge_image_config({"Entrypoint": ["sh"]}, IMAGE)
    assert bundle.command_of(merged) == ["sh"]
    emptied = bundle.merge_image_config({"Entrypoint": [], "Cmd": ["ls"]}, IMAGE)
    assert bundle.command_of(emptied) == ["ls"]
    with pytest.raises(errors.InvalidArgument, match="No command specified"):
        bundle.command_of(bundle.merge_image_config({"Entrypoint": []}, {}))


PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n"
GROUP = "root:x:0:\napp:x:1000:\nwheel:x:10:app,root\n"


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("", (0, 0, (10,))),
        ("app", (1000, 1000, (10,))),
        ("1000", (1000, 1000, (10,))),
        ("app:wheel", (1000, 10, (10,))),
        ("4242", (4242, 0, (0,))),
        ("4242:77", (4242, 77, (77,))),
    ],
)
def test_users_resolve_in_the_images_passwd_and_group(
    user: str, expected: tuple[int, int, tuple[int, ...]]
) -> None:
    assert bundle.resolve_user(user, PASSWD, GROUP) == expected


def test_unknown_user_or_group_is_dockers_error() -> None:
    with pytest.raises(errors.InvalidArgument, match="unable to find user ghost"):
        bundle.resolve_user("ghost", PASSWD, GROUP)
    with pytest.raises(errors.InvalidArgument, match="unable to find group nogroup"):
        bundle.resolve_user("app:nogroup", PASSWD, GROUP)


def test_resolv_conf_drops_loopback_servers() -> None:
    assert bundle.resolv_conf("nameserver 127.0.0.53\nsearch lan\n") == (
        "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
    )
    assert bundle.resolv_conf("nameserver 10.0.0.2\n") == "nameserver 10.0.0.2\n"


def test_hosts_file_names_the_container() -> None:
    hosts = bundle.hosts_file("abc123")
    assert "127.0.0.1\tlocalhost" in hosts and hosts.endswith("127.0.1.1\tabc123\n")


def test_spec_carries_dockers_defaults_and_the_users_flags() -> None:
    config = {"Cmd": ["sh"], "Env": ["A=1"], "Hostname": "box", "Tty": True, "WorkingDir": "/w"}
    host = {"Init": True, "ReadonlyRootfs": True, "Tmpfs": {"/run": "size=1m"},
            "CapAdd": ["NET_ADMIN"], "SecurityOpt": ["no-new-privileges"],
            "Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 20}]}  # fmt: skip
    spec = bundle.build_spec(config, host, state_dir="/s", user=(1, 2, (3,)), init_binary="/tini")
    assert spec.args == (bundle.INIT_PATH, "--", "sh")
    assert any(e.startswith("PATH=") for e in spec.env) and "HOSTNAME=box" in spec.env
    assert "TERM=xterm" in spec.env and "A=1" in spec.env
    assert (spec.uid, spec.gid, spec.additional_gids, spec.cwd) == (1, 2, (3,), "/w")
    assert spec.terminal and spec.rootfs_readonly and spec.no_new_privileges
    assert spec.rlimits == (("RLIMIT_NOFILE", 10, 20),)
    dests = {m["destination"]: m for m in spec.mounts}
    assert dests["/etc/hosts"]["source"] == "/s/hosts"
    assert dests["/sbin/docker-init"]["source"] == "/tini"
    assert "size=1m" in dests["/run"]["options"]
    assert spec.cap_add == ("NET_ADMIN",)


def test_spec_refuses_unknown_security_options_and_ulimits() -> None:
    with pytest.raises(errors.InvalidArgument, match="Invalid --security-opt"):
        bundle.build_spec({"Cmd": ["x"]}, {"SecurityOpt": ["bogus"]}, state_dir="/s",
                          user=(0, 0, ()))  # fmt: skip
    with pytest.raises(errors.InvalidArgument, match="invalid ulimit type: bogus"):
        bundle.build_spec({"Cmd": ["x"]}, {"Ulimits": [{"Name": "bogus", "Soft": 1, "Hard": 1}]},
                          state_dir="/s", user=(0, 0, ()))  # fmt: skip


def test_healthcheck_runs_through_the_runtimes_exec() -> None:
    check = bundle.healthcheck_of(
        {"Healthcheck": {"Test": ["CMD-SHELL", "curl -f x"], "Interval": 2_000_000_000,
                         "Retries": 5}},
        ["rt", "exec", "ID"],
    )  # fmt: skip
    assert check is not None
    assert check["test"] == ["rt", "exec", "ID", "/bin/sh", "-c", "curl -f x"]
    assert (check["interval"], check["timeout"], check["retries"]) == (2.0, 30.0, 5)
    assert bundle.healthcheck_of({"Healthcheck": {"Test": ["NONE"]}}, []) is None
    assert bundle.healthcheck_of({}, []) is None


def test_home_comes_from_passwd_else_root_dir() -> None:
    assert bundle.home_of("app", PASSWD) == "/app"
    assert bundle.home_of("", PASSWD) == "/root"
    assert bundle.home_of("4242", PASSWD) == "/"
    spec = bundle.build_spec({"Cmd": ["x"]}, {}, state_dir="/s", user=(0, 0, ()), home="/root")
    assert "HOME=/root" in spec.env
