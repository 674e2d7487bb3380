import base64
import json
import os
import stat

import pytest

from dockyard import errors
from dockyard.registry.credentials import Credentials, CredentialStore

HELPER = """#!/bin/sh
# A fake credential helper keeping one record per server in $STORE_DIR.
action="$1"
input=$(cat)
case "$action" in
  get)
    f="$STORE_DIR/$(printf %s "$input" | tr '/:' '__')"
    if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store)
    server=$(printf %s "$input" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ServerURL"])')
    printf %s "$input" > "$STORE_DIR/$(printf %s "$server" | tr '/:' '__')" ;;
  erase)
    rm -f "$STORE_DIR/$(printf %s "$input" | tr '/:' '__')" ;;
esac
"""


def test_reads_docker_auths_entry(tmp_path):
    token = base64.b64encode(b"bob:s3cr:et").decode()
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": token}}})
    )
    store = CredentialStore(tmp_path)
    assert store.get("docker.io") == Credentials("bob", "s3cr:et")
    assert store.get("index.docker.io") == Credentials("bob", "s3cr:et")
    assert store.get("quay.io") is None
    assert "s3cr" not in repr(store.get("docker.io"))


def test_store_and_erase_keep_other_settings(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"psFormat": "table {{.ID}}"}))
    store = CredentialStore(tmp_path)
    store.store("localhost:5000", Credentials("alice", "pw"))
    data = json.loads((tmp_path / "config.json").read_text())
    assert data["psFormat"] == "table {{.ID}}"
    assert base64.b64decode(data["auths"]["localhost:5000"]["auth"]) == b"alice:pw"
    assert stat.S_IMODE(os.stat(tmp_path / "config.json").st_mode) == 0o600
    assert store.erase("http://localhost:5000")
    assert store.get("localhost:5000") is None
    assert not store.erase("localhost:5000")


def test_corrupt_config_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(errors.InvalidArgument, match=r"config\.json"):
        CredentialStore(tmp_path).get("docker.io")


@pytest.fixture
def helper(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "docker-credential-test"
    script.write_text(HELPER)
    script.chmod(0o755)
    store_dir = tmp_path / "secrets"
    store_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STORE_DIR", str(store_dir))
    return store_dir


@pytest.mark.parametrize(
    "setting", [{"credsStore": "test"}, {"credHelpers": {"reg.lan:5000": "test"}}]
)
def test_credential_helper_round_trip(tmp_path, helper, setting):
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps(setting))
    store = CredentialStore(config_dir)
    assert store.get("reg.lan:5000") is None
    store.store("reg.lan:5000", Credentials("carol", "pw"))
    assert store.get("reg.lan:5000") == Credentials("carol", "pw")
    data = json.loads((config_dir / "config.json").read_text())
    assert data["auths"]["reg.lan:5000"] == {}  # the secret lives in the helper, not the file
    assert list(helper.iterdir())
    assert store.erase("reg.lan:5000")
    assert store.get("reg.lan:5000") is None
    assert not list(helper.iterdir())


def test_missing_helper_is_unavailable(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"credsStore": "does-not-exist-xyz"}))
    with pytest.raises(errors.Unavailable, match="docker-credential-does-not-exist-xyz"):
        CredentialStore(tmp_path).get("docker.io")
