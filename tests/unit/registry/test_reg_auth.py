import pytest

from dockyard import errors
from dockyard.registry.auth import Authorizer, Token
from dockyard.registry.challenge import parse_challenges
from dockyard.registry.credentials import Credentials

BEARER = parse_challenges('Bearer realm="https://auth/token",service="reg"')


class FakeTokens:
    def __init__(self, expires_in=60):
        self.calls = []
        self.expires_in = expires_in

    def __call__(self, challenge, scopes, creds):
        self.calls.append((challenge.realm, tuple(scopes), creds))
        return Token(f"t{len(self.calls)}", self.expires_in)


def test_no_header_before_a_challenge_then_token_per_scope_cached():
    tokens = FakeTokens()
    auth = Authorizer(None, tokens, clock=lambda: 100.0)
    assert auth.header(["repository:a:pull"]) is None
    assert auth.learn(BEARER)
    assert auth.header(["repository:a:pull"]) == "Bearer t1"
    assert auth.header(["repository:a:pull"]) == "Bearer t1"
    assert auth.header(["repository:b:pull"]) == "Bearer t2"
    assert tokens.calls[0] == ("https://auth/token", ("repository:a:pull",), None)
    assert len(tokens.calls) == 2


def test_token_refreshed_before_expiry():
    now = [0.0]
    tokens = FakeTokens(expires_in=60)
    auth = Authorizer(None, tokens, clock=lambda: now[0])
    auth.learn(BEARER)
    assert auth.header(["repository:a:pull"]) == "Bearer t1"
    now[0] = 50.0
    assert auth.header(["repository:a:pull"]) == "Bearer t1"
    now[0] = 56.0  # within the renewal margin
    assert auth.header(["repository:a:pull"]) == "Bearer t2"


def test_unauthorized_drops_token_and_extends_scope():
    tokens = FakeTokens()
    auth = Authorizer(Credentials("u", "p"), tokens, clock=lambda: 0.0)
    auth.learn(BEARER)
    auth.header(["repository:a:pull,push"])
    retry = auth.unauthorized(
        parse_challenges(
            'Bearer realm="https://auth/token",service="reg",scope="repository:b:pull"'
        ),
        ["repository:a:pull,push"],
    )
    assert retry == ["repository:a:pull,push", "repository:b:pull"]
    assert auth.header(retry) == "Bearer t2"
    assert tokens.calls[1][2] == Credentials("u", "p")
    # the old token was dropped: asking for the old scope fetches anew
    assert auth.header(["repository:a:pull,push"]) == "Bearer t3"


def test_basic_needs_credentials():
    basic = parse_challenges('Basic realm="r"')
    anonymous = Authorizer(None, FakeTokens())
    assert anonymous.unauthorized(basic, []) is None
    auth = Authorizer(Credentials("alice", "pw"), FakeTokens())
    assert auth.unauthorized(basic, []) == []
    assert auth.header([]) == "Basic YWxpY2U6cHc="


def test_refused_credentials_propagate():
    def refuse(challenge, scopes, creds):
        raise errors.PermissionDenied("reg: unauthorized: incorrect username or password")

    auth = Authorizer(Credentials("u", "bad"), refuse)
    auth.learn(BEARER)
    with pytest.raises(errors.PermissionDenied, match="incorrect username or password"):
        auth.header(["repository:a:pull"])
