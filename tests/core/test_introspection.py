"""Opaque tokens verified by RFC 7662 introspection against a real loopback server.

The authorization server is a pytest-httpserver on 127.0.0.1 that checks
the client's authentication the way a real one does and answers from a
table of tokens; time for caches and claims is the fake clock.
"""

from __future__ import annotations

import gzip
import json
import os
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
from werkzeug import Request, Response

from jwt_guard_core import StaticKeySet, TokenError
from jwt_guard_core.encoding import b64url_encode
from jwt_guard_core.errors import ConfigurationError
from jwt_guard_core.introspection import (
    ClientSecretBasic,
    ClientSecretPost,
    IntrospectionSource,
    IntrospectionUnavailable,
    PrivateKeyJWT,
    TokenInactive,
    route,
)
from jwt_guard_core.keys import key_from_public_key
from tests.core.introspection_server import (
    API,
    CLIENT_ID,
    PATH,
    SECRET,
    TOKEN,
    AuthServer,
    SignedServer,
    active,
    serve_metadata,
)
from tests.core.remote_servers import Gate, JWKSServer, named
from tests.factories import NOW, sign

pytest_plugins = ["tests.core.remote_fixtures"]


@pytest.fixture
def auth_server(jwks_server: JWKSServer) -> AuthServer:
    return AuthServer(jwks_server)


@pytest.fixture
def make_source(clock):
    made: list[IntrospectionSource] = []

    def _make(endpoint: str | None = None, **options: Any) -> IntrospectionSource:
        options.setdefault("clock", clock)
        options.setdefault("client_auth", ClientSecretBasic(CLIENT_ID, SECRET))
        options.setdefault("audience", API)
        issuer = options.pop("issuer")
        if endpoint is None:
            source = IntrospectionSource.from_issuer(issuer, **options)
        else:
            source = IntrospectionSource(endpoint, issuer=issuer, **options)
        made.append(source)
        return source

    yield _make
    for source in made:
        source.close()


@pytest.fixture
def source(auth_server, make_source):
    return make_source(auth_server.url, issuer=auth_server.issuer)


def refused(source: IntrospectionSource, token: str = TOKEN) -> TokenError:
    with pytest.raises(TokenError) as caught:
        source.verify(token)
    return caught.value


# --- accepted ---------------------------------------------------------------------


def test_an_active_token_becomes_a_verified_token(auth_server, source):
    auth_server.answers[TOKEN] = active()
    token = source.verify(TOKEN)
    assert token.issuer == auth_server.issuer
    assert token.subject == "user-1"
    assert token.scopes == {"orders:read", "profile"}
    assert token.claims["client_id"] == "mobile-app"
    assert token.claims["username"] == "alice"
    assert token.expires_at is not None
    assert token.expires_at.timestamp() == NOW + 600
    assert (token.algorithm, token.kid, dict(token.header)) == ("introspection", None, {})
    assert token.has_scopes("orders:read")


def test_the_request_is_a_form_post_with_the_token_and_its_hint(auth_server, source):
    auth_server.answers[TOKEN] = active()
    source.verify(TOKEN)
    (request,) = auth_server.server.requests(PATH)
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Accept"] == "application/json"
    assert auth_server.forms == [{"token": TOKEN, "token_type_hint": "access_token"}]


def test_the_issuer_of_the_answer_may_be_absent_or_equal(auth_server, source):
    auth_server.answers[TOKEN] = active(iss=auth_server.issuer)
    auth_server.answers["other"] = active(iss=None)
    assert source.verify(TOKEN).issuer == auth_server.issuer
    assert source.verify("other").issuer == auth_server.issuer


async def test_averify_answers_like_verify(auth_server, source):
    auth_server.answers[TOKEN] = active()
    token = await source.averify(TOKEN)
    with pytest.raises(TokenInactive):
        await source.averify("unknown-token")
    await source.aclose()
    assert token.subject == "user-1"


# --- refused: the answer's members, checked like a JWT's claims ---------------------


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ({"active": False}, "token_inactive"),
        (active(exp=int(NOW) - 11), "token_expired"),
        (active(iss="https://evil.example"), "bad_issuer"),
        (active(aud="https://other.example"), "bad_audience"),
        (active(aud=["https://other.example", "x"]), "bad_audience"),
        (active(aud=None), "missing_claim"),
        (active(aud=[]), "invalid_claim"),
        (active(aud=[API, 7]), "invalid_claim"),
        (active(exp=None), "missing_claim"),
        (active(exp="tomorrow"), "invalid_claim"),
        (active(exp=True), "invalid_claim"),
        (active(nbf=int(NOW) + 60), "not_yet_valid"),
        (active(iat=int(NOW) + 60), "issued_in_future"),
        (active(token_type="refresh_token"), "bad_type"),
        (active(token_type=["Bearer"]), "bad_type"),
        (active(scope=["orders:read"]), "invalid_claim"),
        (active(scope="orders:read\tadmin"), "invalid_claim"),
        (active(sub=""), "invalid_claim"),
        (active(sub=42), "invalid_claim"),
        (active(client_id=""), "invalid_claim"),
    ],
)
def test_an_unacceptable_answer_is_refused_with_its_reason(auth_server, source, members, reason):
    auth_server.answers[TOKEN] = members
    error = refused(source)
    assert (error.reason, error.status, error.error) == (reason, 401, "invalid_token")


def test_a_client_outside_the_accepted_ones_is_refused_with_bad_client(auth_server, make_source):
    auth_server.answers[TOKEN] = active(client_id="someone-else")
    auth_server.answers["mine"] = active(client_id="mobile-app")
    source = make_source(auth_server.url, issuer=auth_server.issuer, clients=["mobile-app"])
    assert refused(source).reason == "bad_client"
    assert source.verify("mine").claims["client_id"] == "mobile-app"


def test_the_token_type_check_is_case_insensitive_and_configurable(auth_server, make_source):
    auth_server.answers[TOKEN] = active(token_type="DPoP")
    source = make_source(auth_server.url, issuer=auth_server.issuer)
    assert refused(source).reason == "bad_type"
    dpop = make_source(auth_server.url, issuer=auth_server.issuer, token_types=["dpop"])
    assert dpop.verify(TOKEN).claims["token_type"] == "DPoP"


def test_without_audience_verification_an_answer_without_aud_is_accepted(auth_server, make_source):
    auth_server.answers[TOKEN] = active(aud=None)
    source = make_source(
        auth_server.url, issuer=auth_server.issuer, audience=None, verify_audience=False
    )
    assert source.verify(TOKEN).audience == ()


# --- refused before any request --------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "malformed"),
        (b"bytes-token", "malformed"),
        ("", "malformed"),
        ("two words", "malformed"),
        ("caf\u00e9", "malformed"),
        ("tok\nen", "malformed"),
        ("=" * 5, "malformed"),
        ("a" * 4097, "token_too_large"),
    ],
)
def test_a_token_that_is_no_bearer_token_is_refused_without_a_request(
    auth_server, source, token, reason
):
    assert refused(source, token).reason == reason
    assert auth_server.count() == 0


# --- outages are 503, never 401 ----------------------------------------------------------


def unavailable(source: IntrospectionSource, token: str = TOKEN) -> IntrospectionUnavailable:
    with pytest.raises(IntrospectionUnavailable) as caught:
        source.verify(token)
    error = caught.value
    assert (error.reason, error.status, error.error) == (
        "introspection_unavailable",
        503,
        "temporarily_unavailable",
    )
    return error


@pytest.mark.parametrize(
    ("body", "content_type", "failure"),
    [
        ('{"scope": "a"}', "application/json", "bad_response"),
        ('{"active": "true"}', "application/json", "bad_response"),
        ('{"active": 1}', "application/json", "bad_response"),
        ("[true]", "application/json", "bad_json"),
        ("not json", "application/json", "bad_json"),
        ('{"active": true, "active": false}', "application/json", "bad_json"),
        ("<html>login</html>", "text/html", "bad_content_type"),
    ],
)
def test_a_malformed_answer_is_an_outage(jwks_server, make_source, body, content_type, failure):
    jwks_server.serve(body, path=PATH, content_type=content_type)
    source = make_source(jwks_server.url(PATH), issuer=jwks_server.origin)
    assert unavailable(source).failure == failure


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500, 502])
def test_an_http_error_is_an_outage_not_an_invalid_token(jwks_server, make_source, status):
    jwks_server.serve({"error": "x"}, path=PATH, status=status)
    source = make_source(jwks_server.url(PATH), issuer=jwks_server.origin)
    assert unavailable(source).failure == "http_status"


def test_wrong_client_credentials_are_an_outage_with_an_event(auth_server, make_source, seen):
    source = make_source(
        auth_server.url,
        issuer=auth_server.issuer,
        client_auth=ClientSecretBasic(CLIENT_ID, "wrong"),
    )
    assert unavailable(source).failure == "http_status"
    (event,) = named(seen, "introspection_failed")
    assert (event.reason, event.fields["url"], event.fields["issuer"]) == (
        "http_status",
        auth_server.url,
        auth_server.issuer,
    )
    assert TOKEN not in json.dumps(dict(event.fields))


def test_a_503_with_retry_after_is_passed_on_then_backed_off_then_retried(
    jwks_server, make_source, clock
):
    jwks_server.serve("{}", path=PATH, status=503, headers={"Retry-After": "7"})
    source = make_source(jwks_server.url(PATH), issuer=jwks_server.origin)
    first = unavailable(source)
    assert (first.failure, first.retry_after) == ("http_status", 7)
    # Within the backoff, no request at all: an outage is not hammered.
    clock.advance(3)
    second = unavailable(source, "another-token")
    assert (second.failure, second.retry_after) == ("backoff", 4)
    assert jwks_server.count(PATH) == 1
    clock.advance(5)
    jwks_server.serve(active(), path=PATH)
    assert source.verify(TOKEN).subject == "user-1"
    assert jwks_server.count(PATH) == 2


def test_a_refused_connection_is_an_outage(make_source, raw_server):
    url = raw_server.url(PATH)
    raw_server.close()
    source = make_source(url, issuer="http://127.0.0.1")
    assert unavailable(source).failure == "connect_error"


def test_a_hanging_server_is_cut_off_at_the_deadline(jwks_server, make_source):
    gate = Gate(lambda request: Response(json.dumps(active()), content_type="application/json"))
    jwks_server.handle(gate, path=PATH)
    source = make_source(jwks_server.url(PATH), issuer=jwks_server.origin, timeout=0.2)
    try:
        assert unavailable(source).failure == "timeout"
    finally:
        gate.release.set()


def test_an_answer_over_the_size_cap_is_an_outage(jwks_server, make_source):
    jwks_server.serve(active(padding="x" * 5000), path=PATH)
    source = make_source(jwks_server.url(PATH), issuer=jwks_server.origin, max_bytes=4096)
    assert unavailable(source).failure == "too_large"


def test_a_compressed_answer_is_decoded_within_the_cap(jwks_server, make_source):
    bomb = gzip.compress(json.dumps(active(padding="0" * 1_000_000)).encode())
    assert len(bomb) < 4096
    jwks_server.serve(bomb, path=PATH, headers={"Content-Encoding": "gzip"})
    source = make_source(jwks_server.url(PATH), issuer=jwks_server.origin, max_bytes=64 * 1024)
    assert unavailable(source).failure == "too_large"
    jwks_server.serve(
        gzip.compress(json.dumps(active()).encode()),
        path=PATH,
        headers={"Content-Encoding": "gzip"},
    )
    fresh = make_source(jwks_server.url(PATH), issuer=jwks_server.origin)
    assert fresh.verify(TOKEN).subject == "user-1"


def test_a_method_keeping_redirect_to_the_same_origin_is_followed(
    jwks_server, auth_server, make_source
):
    jwks_server.add("/moved", lambda request: Response(status=307, headers={"Location": PATH}))
    auth_server.answers[TOKEN] = active()
    source = make_source(jwks_server.url("/moved"), issuer=auth_server.issuer)
    assert source.verify(TOKEN).subject == "user-1"
    assert auth_server.forms[0]["token"] == TOKEN


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_redirect_that_would_drop_the_post_is_refused(jwks_server, make_source, status):
    jwks_server.handle(
        lambda request: Response(status=status, headers={"Location": "/elsewhere"}), path=PATH
    )
    source = make_source(jwks_server.url(PATH), issuer=jwks_server.origin)
    assert unavailable(source).failure == "redirect_refused"


def test_a_redirect_to_another_origin_is_refused(jwks_server, other_server, make_source):
    target = other_server.url(PATH)
    jwks_server.handle(
        lambda request: Response(status=307, headers={"Location": target}), path=PATH
    )
    source = make_source(jwks_server.url(PATH), issuer=jwks_server.origin)
    assert unavailable(source).failure == "redirect_refused"
    assert other_server.count(PATH) == 0


# --- client authentication ----------------------------------------------------------------


def test_client_secret_post_sends_the_credentials_as_form_fields(jwks_server, make_source):
    auth_server = AuthServer(jwks_server, auth="post")
    auth_server.answers[TOKEN] = active()
    source = make_source(
        auth_server.url, issuer=auth_server.issuer, client_auth=ClientSecretPost(CLIENT_ID, SECRET)
    )
    assert source.verify(TOKEN).subject == "user-1"
    (request,) = auth_server.server.requests(PATH)
    assert "Authorization" not in request.headers


def test_private_key_jwt_sends_a_fresh_signed_assertion_per_request(
    jwks_server, make_source, keyring, clock
):
    public = keyring.p256.public_key()
    assertions: list[dict[str, Any]] = []

    def handler(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        assert form["client_assertion_type"] == (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        )
        assert "client_secret" not in form
        assert jwt.get_unverified_header(form["client_assertion"])["kid"] == "rs-key-1"
        claims = jwt.decode(
            form["client_assertion"],
            public,
            algorithms=["ES256"],
            audience=jwks_server.url(PATH),
            issuer=CLIENT_ID,
            options={"verify_iat": False, "verify_exp": False},
        )
        assertions.append(claims)
        return Response(json.dumps(active()), content_type="application/json")

    jwks_server.handle(handler, path=PATH)
    auth = PrivateKeyJWT(CLIENT_ID, keyring.p256, algorithm="ES256", kid="rs-key-1")
    source = make_source(
        jwks_server.url(PATH), issuer=jwks_server.origin, client_auth=auth, positive_ttl=0
    )
    source.verify(TOKEN)
    clock.advance(1)
    source.verify(TOKEN)
    first, second = assertions
    assert first["sub"] == CLIENT_ID
    assert (first["iat"], first["exp"]) == (int(NOW), int(NOW) + 60)
    assert second["iat"] == int(NOW) + 1
    assert first["jti"] != second["jti"]


def test_client_auth_settings_are_checked_at_start_up(keyring):
    with pytest.raises(ConfigurationError, match="client_secret"):
        ClientSecretBasic(CLIENT_ID, "")
    with pytest.raises(ConfigurationError, match="algorithm"):
        PrivateKeyJWT(CLIENT_ID, keyring.secret, algorithm="HS256")
    with pytest.raises(ConfigurationError, match="private_key"):
        PrivateKeyJWT(CLIENT_ID, keyring.p256, algorithm="RS256")
    assert SECRET not in repr(ClientSecretPost(CLIENT_ID, SECRET))


# --- the cache ------------------------------------------------------------------------------


def test_an_active_answer_is_cached_for_positive_ttl(auth_server, make_source, clock):
    auth_server.answers[TOKEN] = active()
    source = make_source(auth_server.url, issuer=auth_server.issuer, positive_ttl=30)
    source.verify(TOKEN)
    clock.advance(29)
    source.verify(TOKEN)
    assert auth_server.count() == 1
    # Revoked at the server: seen once the cached answer expires.
    del auth_server.answers[TOKEN]
    clock.advance(1)
    assert refused(source).reason == "token_inactive"
    assert auth_server.count() == 2


def test_an_active_answer_is_cached_no_longer_than_the_token_lives(auth_server, make_source, clock):
    auth_server.answers[TOKEN] = active(exp=int(NOW) + 20)
    source = make_source(auth_server.url, issuer=auth_server.issuer, positive_ttl=300, leeway=0)
    source.verify(TOKEN)
    clock.advance(19)
    source.verify(TOKEN)
    assert auth_server.count() == 1
    clock.advance(1)
    assert refused(source).reason == "token_expired"
    assert auth_server.count() == 2


def test_an_inactive_answer_is_cached_briefly(auth_server, make_source, clock):
    source = make_source(auth_server.url, issuer=auth_server.issuer, negative_ttl=5)
    assert refused(source).reason == "token_inactive"
    clock.advance(4)
    assert refused(source).reason == "token_inactive"
    assert auth_server.count() == 1
    auth_server.answers[TOKEN] = active()
    clock.advance(1)
    assert source.verify(TOKEN).subject == "user-1"
    assert auth_server.count() == 2


def test_a_zero_ttl_asks_every_time(auth_server, make_source):
    auth_server.answers[TOKEN] = active()
    source = make_source(auth_server.url, issuer=auth_server.issuer, positive_ttl=0)
    for _ in range(3):
        source.verify(TOKEN)
    assert auth_server.count() == 3


def test_the_cache_is_keyed_by_a_digest_and_bounded(auth_server, make_source):
    source = make_source(auth_server.url, issuer=auth_server.issuer, max_entries=2)
    for token in ("token-one", "token-two", "token-three"):
        auth_server.answers[token] = active()
        source.verify(token)
    cache = source._state._cache
    assert len(cache) == 2
    assert all(isinstance(key, bytes) and len(key) == 32 for key in cache)
    assert not any(b"token" in key for key in cache)


def test_a_cached_answer_is_judged_again_on_every_use(auth_server, make_source, clock):
    auth_server.answers[TOKEN] = active(nbf=int(NOW) + 15)
    source = make_source(auth_server.url, issuer=auth_server.issuer, leeway=0)
    assert refused(source).reason == "not_yet_valid"
    clock.advance(15)
    assert source.verify(TOKEN).subject == "user-1"
    assert auth_server.count() == 1


# --- signed answers (RFC 9701) ------------------------------------------------------------------


@pytest.fixture
def signed_server(jwks_server, keyring) -> SignedServer:
    return SignedServer(jwks_server, keyring.p256)


@pytest.fixture
def signed_source(signed_server, make_source, keyring):
    keys = StaticKeySet([key_from_public_key(keyring.p256.public_key(), kid="as-1")])
    return make_source(
        signed_server.server.url(PATH), issuer=signed_server.server.origin, response_keys=keys
    )


def test_a_signed_answer_is_verified_with_the_issuers_keys(signed_server, signed_source):
    token = signed_source.verify(TOKEN)
    assert (token.subject, token.scopes) == ("user-1", {"orders:read", "profile"})


def test_a_signed_inactive_answer_is_token_inactive(signed_server, signed_source):
    signed_server.members = {"active": False}
    assert refused(signed_source).reason == "token_inactive"


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        ({"tamper": True}, "bad_signature"),
        (
            {"header": {"alg": "ES256", "kid": "other", "typ": "token-introspection+jwt"}},
            "bad_signature",
        ),
        ({"header": {"alg": "ES256", "kid": "as-1", "typ": "at+jwt"}}, "bad_response"),
        ({"header": {"alg": "ES256", "kid": "as-1"}}, "bad_response"),
        (
            {
                "header": {
                    "alg": "ES256",
                    "kid": "as-1",
                    "typ": "token-introspection+jwt",
                    "jku": "x",
                }
            },
            "bad_signature",
        ),
        ({"claims": {"aud": "someone-else"}}, "bad_response"),
        ({"claims": {"iss": "https://evil.example"}}, "bad_response"),
        ({"claims": {"iat": int(NOW) - 3600}}, "bad_response"),
        ({"claims": {"iat": int(NOW) + 3600}}, "bad_response"),
        ({"claims": {"iat": None}}, "bad_response"),
        ({"claims": {"token_introspection": "active"}}, "bad_response"),
        ({"content_type": "application/json"}, "unsigned_response"),
    ],
)
def test_a_signed_answer_that_does_not_check_out_is_an_outage(
    signed_server, signed_source, change, failure
):
    for name, value in change.items():
        setattr(signed_server, name, value)
    assert unavailable(signed_source).failure == failure


def test_an_hmac_signed_answer_is_refused(signed_server, signed_source, keyring):
    signed_server.alg = "HS256"
    signed_server.key = keyring.secret
    signed_server.header = {"alg": "HS256", "kid": "as-1", "typ": "token-introspection+jwt"}
    assert unavailable(signed_source).failure == "bad_signature"


def test_a_plain_json_answer_is_refused_when_signed_answers_are_required(
    auth_server, make_source, keyring
):
    auth_server.answers[TOKEN] = active()
    keys = StaticKeySet([key_from_public_key(keyring.p256.public_key(), kid="as-1")])
    source = make_source(auth_server.url, issuer=auth_server.issuer, response_keys=keys)
    assert unavailable(source).failure == "unsigned_response"


def test_response_keys_that_are_down_make_an_outage(signed_server, make_source, other_server):
    from jwt_guard_core.remote import RemoteJWKS

    other_server.serve("down", status=503)
    keys = RemoteJWKS(other_server.url(), timeout=1)
    source = make_source(
        signed_server.server.url(PATH), issuer=signed_server.server.origin, response_keys=keys
    )
    try:
        assert unavailable(source).failure == "response_keys_unavailable"
    finally:
        keys.close()


# --- discovery ------------------------------------------------------------------------------


def test_the_endpoint_is_discovered_from_rfc_8414_metadata(auth_server, make_source):
    issuer = auth_server.issuer + "/tenant"
    serve_metadata(
        auth_server.server,
        "/.well-known/oauth-authorization-server/tenant",
        issuer,
        auth_server.url,
    )
    auth_server.answers[TOKEN] = active(iss=issuer)
    source = make_source(issuer=issuer)
    assert source.endpoint is None
    assert source.verify(TOKEN).issuer == issuer
    auth_server.answers["second-token"] = active(iss=issuer)
    source.verify("second-token")
    assert source.endpoint == auth_server.url
    assert auth_server.server.count("/.well-known/oauth-authorization-server/tenant") == 1


def test_the_endpoint_is_discovered_from_openid_configuration(auth_server, make_source):
    issuer = auth_server.issuer + "/realm"
    serve_metadata(
        auth_server.server, "/realm/.well-known/openid-configuration", issuer, auth_server.url
    )
    auth_server.answers[TOKEN] = active()
    source = make_source(issuer=issuer, metadata="openid-configuration")
    assert source.verify(TOKEN).issuer == issuer


def test_metadata_for_another_issuer_is_an_outage(auth_server, make_source):
    serve_metadata(
        auth_server.server,
        "/.well-known/oauth-authorization-server",
        "https://evil.example",
        auth_server.url,
    )
    source = make_source(issuer=auth_server.issuer)
    assert unavailable(source).failure == "issuer_mismatch"
    assert auth_server.count() == 0


# --- routing and configuration ---------------------------------------------------------------


def test_route_tells_a_jws_a_jwe_and_an_opaque_token_apart(keyring):
    jws = sign({"alg": "ES256", "kid": "k"}, {"sub": "x"}, keyring.p256)
    header = b64url_encode(json.dumps({"alg": "RSA-OAEP", "enc": "A256GCM"}).encode())
    assert route(jws) == "jws"
    assert route(f"{header}.a.b.c.d") == "jwe"
    assert route(TOKEN) == "opaque"
    assert route("a.b.c") == "opaque"
    assert route(b64url_encode(b'{"typ": "x"}') + ".a.b") == "opaque"
    assert route("") == "opaque"
    assert route(None) == "opaque"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"endpoint": "http://as.example/introspect"}, "endpoint"),
        ({"endpoint": "ftp://127.0.0.1/x"}, "endpoint"),
        ({"audience": None}, "audience"),
        ({"audience": API, "verify_audience": False}, "audience"),
        ({"client_auth": ("id", "secret")}, "client_auth"),
        ({"issuer": ""}, "issuer"),
        ({"positive_ttl": -1}, "positive_ttl"),
        ({"response_algorithms": ["HS256"]}, "response_algorithms"),
        ({"token_types": []}, "token_types"),
        ({"leeway": 301}, "leeway"),
        ({"response_keys": "https://as.example/jwks"}, "response_keys"),
    ],
)
def test_bad_settings_are_refused_at_start_up_naming_the_setting(options, setting):
    arguments: dict[str, Any] = {
        "endpoint": "https://as.example/introspect",
        "issuer": "https://as.example",
        "client_auth": ClientSecretBasic(CLIENT_ID, SECRET),
        "audience": API,
    }
    arguments.update(options)
    endpoint = arguments.pop("endpoint")
    with pytest.raises(ConfigurationError) as caught:
        IntrospectionSource(endpoint, **arguments)
    assert caught.value.setting == setting


def test_from_issuer_refuses_a_bad_issuer_or_metadata_name():
    auth = ClientSecretBasic(CLIENT_ID, SECRET)
    with pytest.raises(ConfigurationError, match="issuer"):
        IntrospectionSource.from_issuer("https://as.example?x=1", client_auth=auth, audience=API)
    with pytest.raises(ConfigurationError, match="metadata"):
        IntrospectionSource.from_issuer(
            "https://as.example", metadata="openid", client_auth=auth, audience=API
        )


def test_an_unexpected_failure_is_an_outage_not_a_crash(auth_server, make_source, caplog):
    class Broken(ClientSecretBasic):
        def credentials(self, endpoint, now):
            raise RuntimeError("bug")

    source = make_source(
        auth_server.url, issuer=auth_server.issuer, client_auth=Broken(CLIENT_ID, SECRET)
    )
    assert unavailable(source).failure == "internal_error"
    assert "unexpected error during token introspection" in caplog.text


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_keeps_cached_answers_and_asks_on_its_own_connection(auth_server, source):
    import os

    auth_server.answers[TOKEN] = active()
    auth_server.answers["child-token"] = active(sub="user-2")
    source.verify(TOKEN)
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 3
        try:
            cached = source.verify(TOKEN).subject == "user-1"
            code = 0 if cached and source.verify("child-token").subject == "user-2" else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [form["token"] for form in auth_server.forms] == [TOKEN, "child-token"]


def test_an_introspection_source_is_an_opaque_token_source(source):
    from jwt_guard_core.introspection import OpaqueTokenSource

    assert isinstance(source, OpaqueTokenSource)
