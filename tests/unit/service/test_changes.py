import pytest

from dockyard import errors
from dockyard.service.changes import apply_changes


def test_changes_set_the_config_fields() -> None:
    config = apply_changes({}, [
        'CMD ["sh", "-c", "echo hi"]', "ENTRYPOINT /bin/init", "ENV A=1 B=two", "ENV C three",
        "LABEL team=core", "EXPOSE 80 53/udp", "USER nobody", "WORKDIR /srv", "VOLUME /data",
        "STOPSIGNAL SIGINT",
    ])
    assert config["Cmd"] == ["sh", "-c", "echo hi"]
    assert config["Entrypoint"] == ["/bin/sh", "-c", "/bin/init"]
    assert config["Env"] == ["A=1", "B=two", "C=three"]
    assert config["Labels"] == {"team": "core"}
    assert config["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert (config["User"], config["WorkingDir"], config["StopSignal"]) == ("nobody", "/srv", "SIGINT")
    assert config["Volumes"] == {"/data": {}}


def test_env_change_replaces_an_existing_value() -> None:
    assert apply_changes({"Env": ["A=1", "B=2"]}, ["ENV A=3"])["Env"] == ["B=2", "A=3"]


def test_run_is_not_a_valid_change() -> None:
    with pytest.raises(errors.InvalidArgument, match="RUN is not a valid change command"):
        apply_changes({}, ["RUN echo"])
