import json

from dockyard.registry.hosts import RegistryConfig, credential_key, host_of


def test_loopback_is_plain_http_and_others_verify_tls():
    config = RegistryConfig()
    for host in ["localhost:5000", "127.0.0.1:5000", "127.5.6.7", "[::1]:5000", "localhost"]:
        assert config.endpoints(host)[0].base == f"http://{host}"
    ep = config.endpoints("registry.example.com")[0]
    assert ep.base == "https://registry.example.com" and ep.verify_tls


def test_docker_hub_maps_to_registry_1_with_mirrors_for_pull_only():
    config = RegistryConfig(mirrors=("https://mirror.example.com",))
    pull = config.endpoints("docker.io")
    assert [e.base for e in pull] == ["https://mirror.example.com", "https://registry-1.docker.io"]
    assert pull[0].mirror and not pull[1].mirror
    assert [e.base for e in config.endpoints("docker.io", push=True)] == [
        "https://registry-1.docker.io"
    ]


def test_insecure_registries_from_daemon_json_and_environment(tmp_path):
    (tmp_path / "daemon.json").write_text(
        json.dumps(
            {"insecure-registries": ["reg.lan:5000", "10.1.0.0/16"], "registry-mirrors": ["m.lan"]}
        )
    )
    config = RegistryConfig.load(tmp_path, {"DOCKYARD_INSECURE_REGISTRIES": "other.lan"})
    assert config.endpoints("reg.lan:5000")[0].scheme == "http"
    assert config.endpoints("10.1.2.3:5000")[0].scheme == "http"
    assert config.endpoints("other.lan")[0].scheme == "http"
    assert config.endpoints("10.2.0.1")[0].scheme == "https"
    assert config.endpoints("reg.lan:5001")[0].scheme == "https"
    assert config.mirrors == ("m.lan",)


def test_credential_keys_match_docker():
    assert credential_key("docker.io") == "https://index.docker.io/v1/"
    assert credential_key("https://index.docker.io/v1/") == "https://index.docker.io/v1/"
    assert credential_key("registry-1.docker.io") == "https://index.docker.io/v1/"
    assert credential_key("http://Reg.Lan:5000/") == "reg.lan:5000"
    assert host_of("https://index.docker.io/v1/") == "docker.io"
