from dockyard.registry.challenge import merge_scopes, parse_challenges, repository_scope, scope_key


def test_docker_hub_bearer_challenge():
    [c] = parse_challenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/busybox:pull"'
    )
    assert c.scheme == "bearer"
    assert c.realm == "https://auth.docker.io/token"
    assert c.service == "registry.docker.io"
    assert c.scopes == ["repository:library/busybox:pull"]


def test_several_challenges_and_escapes():
    challenges = parse_challenges(
        'Basic realm="a \\"quoted\\" realm", Bearer realm=https://t/token,service=x'
    )
    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[0].realm == 'a "quoted" realm'
    assert challenges[1].params == {"realm": "https://t/token", "service": "x"}


def test_insufficient_scope_lists_several_scopes():
    [c] = parse_challenges(
        'Bearer realm="r",service="s",scope="repository:a:pull,push repository:b:pull",'
        'error="insufficient_scope"'
    )
    assert c.scopes == ["repository:a:pull,push", "repository:b:pull"]
    assert c.params["error"] == "insufficient_scope"


def test_garbage_gives_no_challenge():
    assert parse_challenges("") == []
    assert parse_challenges(None) == []


def test_scopes_merge_per_repository():
    assert repository_scope("team/app", "pull", "push", "pull") == "repository:team/app:pull,push"
    merged = merge_scopes(["repository:a:pull", "repository:a:push", "repository:b:pull"])
    assert merged == ["repository:a:pull,push", "repository:b:pull"]
    assert scope_key(["repository:a:push", "repository:a:pull"]) == scope_key(
        ["repository:a:pull,push"]
    )
    assert scope_key(["repository:a:pull"]) != scope_key(["repository:a:pull,push"])
