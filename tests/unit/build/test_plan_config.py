"""How instructions change the image config and what history line they record (Docker's)."""

from __future__ import annotations

from dockyard.build.instructions import parse_dockerfile
from dockyard.build.state import StageState
from dockyard.build.steps_meta import apply_arg, apply_metadata, shell_args, workdir_path

PLATFORM = {"os": "linux", "architecture": "amd64"}


def _state(base: dict | None = None) -> StageState:
    return StageState.from_base(base, [], "key", PLATFORM)


def _apply(state: StageState, text: str) -> list[str]:
    lines = []
    for inst in parse_dockerfile("FROM scratch\n" + text).stages[0].instructions:
        if inst.name == "arg":
            lines.append(apply_arg(state, inst, {"FROMCLI": "cli"}, {"GLOBAL": "g"}, "\\"))
        elif inst.name == "workdir":
            state.config["WorkingDir"] = workdir_path(state, inst, "\\")
        else:
            lines.append(apply_metadata(state, inst, "\\"))
    return lines


def test_scratch_gets_a_default_path() -> None:
    assert _state().env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


def test_env_expands_and_replaces_in_place() -> None:
    state = _state({"config": {"Env": ["PATH=/bin", "A=1"]}})
    lines = _apply(state, "ENV A=2 B=${A}x\nENV PATH=$PATH:/opt\n")
    assert state.env == ["PATH=/bin:/opt", "A=2", "B=1x"]
    assert lines == ["ENV A=2 B=1x", "ENV PATH=/bin:/opt"]


def test_args_scope_defaults_cli_and_global_values() -> None:
    state = _state()
    lines = _apply(state, "ARG FROMCLI=default\nARG GLOBAL\nARG OTHER=x\nARG UNSET\n")
    assert state.args == {"FROMCLI": "cli", "GLOBAL": "g", "OTHER": "x"}
    assert lines[0] == "ARG FROMCLI=default"
    assert state.history_args() == ["FROMCLI=cli", "GLOBAL=g", "OTHER=x"]
    assert "OTHER=x" in state.run_env()


def test_env_overrides_arg_in_expansion_and_history() -> None:
    state = _state()
    _apply(state, "ARG V=arg\nENV V=env\nLABEL v=$V\n")
    assert state.config["Labels"] == {"v": "env"}
    assert state.history_args() == []


def test_cmd_entrypoint_and_shell_records() -> None:
    state = _state({"config": {"Cmd": ["sh"]}})
    lines = _apply(state, 'ENTRYPOINT ["/app"]\nSHELL ["/bin/bash", "-c"]\nCMD run it\n')
    assert state.config["Entrypoint"] == ["/app"]
    assert state.config["Cmd"] == ["/bin/bash", "-c", "run it"]
    assert lines == [
        'ENTRYPOINT ["/app"]',
        "SHELL [/bin/bash -c]",
        'CMD ["/bin/bash" "-c" "run it"]',
    ]


def test_entrypoint_resets_an_inherited_cmd() -> None:
    state = _state({"config": {"Cmd": ["sh"]}})
    _apply(state, 'ENTRYPOINT ["/app"]\n')
    assert "Cmd" not in state.config


def test_expose_volume_user_stopsignal_workdir() -> None:
    state = _state()
    lines = _apply(
        state,
        "ARG P=80\nEXPOSE $P 53/UDP\nVOLUME /data /logs\nUSER app:staff\n"
        "STOPSIGNAL SIGINT\nWORKDIR /srv\nWORKDIR app\n",
    )
    assert state.config["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert lines[1] == "EXPOSE map[53/udp:{} 80/tcp:{}]"
    assert state.config["Volumes"] == {"/data": {}, "/logs": {}}
    assert lines[2] == "VOLUME [/data /logs]"
    assert state.config["User"] == "app:staff" and state.config["StopSignal"] == "SIGINT"
    assert state.workdir == "/srv/app"


def test_healthcheck_and_onbuild() -> None:
    state = _state()
    _apply(state, "HEALTHCHECK --interval=5s --retries=3 CMD true\nONBUILD RUN echo hi\n")
    assert state.config["Healthcheck"] == {
        "Test": ["CMD-SHELL", "true"],
        "Interval": 5_000_000_000,
        "Retries": 3,
    }
    assert state.config["OnBuild"] == ["RUN echo hi"]


def test_run_shell_and_exec_forms() -> None:
    state = _state()
    df = parse_dockerfile('FROM scratch\nRUN echo $HOME\nRUN ["echo", "x"]\n')
    run1, run2 = df.stages[0].instructions
    assert shell_args(state, run1) == ["/bin/sh", "-c", "echo $HOME"]
    assert shell_args(state, run2) == ["echo", "x"]


def test_finish_stamps_created_and_diff_ids() -> None:
    state = _state()
    _apply(state, "LABEL a=b\n")
    state.add_history("LABEL a=b", "2024-01-01T00:00:00Z", True)
    doc = state.finish("2024-01-02T00:00:00Z")
    assert doc["created"] == "2024-01-02T00:00:00Z"
    assert doc["rootfs"] == {"type": "layers", "diff_ids": []}
    assert doc["history"][0]["empty_layer"] is True
    assert doc["history"][0]["comment"] == "buildkit.dockerfile.v0"
