"""`jwt-guard verify --jwks-url URL` and `--discover ISSUER`, against a real server."""

from __future__ import annotations

import io
import json

import pytest
from werkzeug import Response

from jwt_guard_core.cli import main
from tests.core.remote_servers import JSON, jwks_response
from tests.factories import AUDIENCE, ISSUER, claims, sign

pytest_plugins = ["tests.core.remote_fixtures"]

DISCOVERY = "/.well-known/openid-configuration"


@pytest.fixture
def run(capsys, clock):
    """``run(*argv)`` -> (exit code, stdout, stderr), token times at the fake clock."""

    def _run(*argv, stdin=None):
        capsys.readouterr()
        code = main(list(argv), clock=clock, stdin=io.StringIO(stdin) if stdin else None)
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def token(keyring):
    return sign({"alg": "RS256", "kid": "a"}, claims(), keyring.rsa)


def provider(server, issuer):
    doc = {"issuer": issuer, "jwks_uri": server.url("/keys")}
    server.add(DISCOVERY, lambda request: Response(json.dumps(doc), content_type=JSON))


def test_verify_with_jwks_url_prints_the_claims_and_exits_0(run, jwks_server, jwk_a, token):
    jwks_server.serve_keys(jwk_a)
    code, out, err = run(
        "verify", token, "--jwks-url", jwks_server.url(), "--alg", "RS256",
        "--issuer", ISSUER, "--audience", AUDIENCE,
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["sub"] == "user-1"
    assert jwks_server.count() == 1


def test_verify_with_jwks_url_reads_the_token_from_stdin(run, jwks_server, jwk_a, token):
    jwks_server.serve_keys(jwk_a)
    code, out, err = run(
        "verify", "-", "--jwks-url", jwks_server.url(), "--alg", "RS256",
        "--issuer", ISSUER, "--audience", AUDIENCE, stdin=token + "\n",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["aud"] == AUDIENCE


def test_verify_with_jwks_url_rejects_an_unknown_kid_with_exit_1(run, jwks_server, jwk_a, keyring):
    jwks_server.serve_keys(jwk_a)
    forged = sign({"alg": "RS256", "kid": "other"}, claims(), keyring.rsa)
    code, out, err = run(
        "verify", forged, "--jwks-url", jwks_server.url(), "--alg", "RS256",
        "--issuer", ISSUER, "--audience", AUDIENCE,
    )  # fmt: skip
    assert code == 1
    assert out == ""
    assert "unknown_kid" in err


def test_an_unreachable_jwks_url_is_key_source_unavailable_exit_1(run, jwks_server, token):
    jwks_server.serve("down", status=503, content_type="text/plain")
    code, out, err = run(
        "verify", token, "--jwks-url", jwks_server.url(), "--alg", "RS256",
        "--issuer", ISSUER, "--audience", AUDIENCE,
    )  # fmt: skip
    assert code == 1
    assert out == ""
    assert "key_source_unavailable" in err
    assert "HTTP 503" in err


def test_a_plain_http_jwks_url_to_a_remote_host_is_a_configuration_error_exit_2(run, token):
    code, out, err = run(
        "verify", token, "--jwks-url", "http://idp.example/jwks", "--alg", "RS256",
        "--issuer", ISSUER, "--audience", AUDIENCE,
    )  # fmt: skip
    assert code == 2
    assert out == ""
    assert "configuration error: url:" in err
    assert "https" in err


def test_kid_does_not_apply_to_a_remote_key_set(run, jwks_server, token):
    code, out, err = run(
        "verify", token, "--jwks-url", jwks_server.url(), "--kid", "a", "--alg", "RS256",
    )  # fmt: skip
    assert code == 2
    assert out == ""
    assert "--kid" in err
    assert jwks_server.count() == 0


def test_jwks_url_and_a_jwks_file_cannot_be_combined(run, jwks_server, token, tmp_path):
    code, out, err = run(
        "verify", token, "--jwks-url", jwks_server.url(), "--jwks", str(tmp_path / "k.json"),
        "--alg", "RS256",
    )  # fmt: skip
    assert code == 2
    assert out == ""
    assert "not allowed with argument" in err


def test_hmac_is_refused_with_a_remote_key_set(run, jwks_server, token):
    code, out, err = run("verify", token, "--jwks-url", jwks_server.url(), "--alg", "HS256")
    assert code == 2
    assert out == ""
    assert "configuration error: algorithms:" in err
    assert jwks_server.count() == 0


def test_verify_with_discover_finds_the_keys_and_checks_the_issuer(
    run, jwks_server, jwk_a, keyring
):
    issuer = jwks_server.origin
    jwks_server.handle(jwks_response(jwk_a), path="/keys")
    provider(jwks_server, issuer)
    token = sign({"alg": "RS256", "kid": "a"}, claims(iss=issuer), keyring.rsa)
    code, out, err = run(
        "verify", token, "--discover", issuer, "--alg", "RS256", "--audience", AUDIENCE
    )
    assert code == 0, err
    assert json.loads(out)["iss"] == issuer
    assert "issuer (iss) was not checked" not in err
    # The discovered issuer is the required iss: a token from another issuer fails.
    other = sign({"alg": "RS256", "kid": "a"}, claims(iss=ISSUER), keyring.rsa)
    code, out, err = run(
        "verify", other, "--discover", issuer, "--alg", "RS256", "--audience", AUDIENCE
    )
    assert code == 1
    assert out == ""
    assert "bad_issuer" in err


def test_discover_with_a_mismatched_issuer_document_exits_1_and_fetches_no_keys(
    run, jwks_server, jwk_a, keyring
):
    issuer = jwks_server.origin
    jwks_server.handle(jwks_response(jwk_a), path="/keys")
    provider(jwks_server, "https://evil.example")
    token = sign({"alg": "RS256", "kid": "a"}, claims(iss=issuer), keyring.rsa)
    code, out, err = run(
        "verify", token, "--discover", issuer, "--alg", "RS256", "--audience", AUDIENCE
    )
    assert code == 1
    assert out == ""
    assert "key_source_unavailable" in err
    assert "issuer_mismatch" in err
    assert jwks_server.count("/keys") == 0


def test_an_unusable_discover_issuer_is_a_configuration_error(run, token):
    code, out, err = run("verify", token, "--discover", "http://idp.example", "--alg", "RS256")
    assert code == 2
    assert out == ""
    assert "configuration error: issuer:" in err
