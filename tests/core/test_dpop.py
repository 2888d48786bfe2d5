"""DPoP proofs (RFC 9449 sections 4.3 and 7): every check in order, its reason, its challenge."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from jwt_guard_core import ConfigurationError, StateUnavailable, TokenError, VerifiedToken
from jwt_guard_core.challenges import ChallengeOptions, challenge_response
from jwt_guard_core.dpop import (
    DPoPBindingError,
    DPoPPolicy,
    InvalidDPoPProof,
    MemoryReplayStore,
    RequestURL,
    access_token_hash,
    extract_dpop_token,
)
from jwt_guard_core.encoding import b64url_encode
from jwt_guard_core.errors import InvalidRequest
from tests.core.dpop_support import (
    DPOP_ALG_CASES,
    URL,
    Client,
    dpop_request,
    issue_token,
    refused,
)
from tests.factories import NOW, sign

ALGS = 'algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"'
DPOP_CHALLENGE = f'DPoP realm="api", error="invalid_dpop_proof", {ALGS}'


@pytest.fixture
def client(keyring) -> Client:
    return Client(keyring.p256, "ES256")


@pytest.fixture
def policy(clock) -> DPoPPolicy:
    return DPoPPolicy(mode="allowed", clock=clock)


@pytest.fixture
def issue(keyring, make_verifier):
    """``issue(jkt=...)``: (raw access token, VerifiedToken) from the real verifier."""
    verifier = make_verifier()

    def _issue(jkt: str | None = None, **overrides: Any) -> tuple[str, VerifiedToken]:
        extra = {"cnf": {"jkt": jkt}} if jkt is not None else {}
        return issue_token(keyring, verifier, **extra, **overrides)

    return _issue


@pytest.fixture
def bound(issue, client):
    return issue(client.jkt)


def invalid_proof(policy: DPoPPolicy, request, token, raw: str, reason: str) -> None:
    error = refused(
        lambda: policy.check(request, token, raw),
        InvalidDPoPProof,
        reason,
        error="invalid_dpop_proof",
    )
    options = ChallengeOptions.for_policy(policy)
    response = challenge_response(error, options, presented="DPoP")
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", ' + DPOP_CHALLENGE
    assert response.body == {
        "error": "invalid_dpop_proof",
        "error_description": "The DPoP proof is invalid.",
    }


# -- accepted


@pytest.mark.parametrize(("alg", "attr"), DPOP_ALG_CASES)
def test_a_valid_proof_is_accepted_for_every_default_algorithm(keyring, issue, policy, alg, attr):
    client = Client(getattr(keyring, attr), alg)
    raw, token = issue(client.jkt)
    result = policy.check(dpop_request(client.proof(raw)), token, raw)
    assert result.bound is True
    assert result.jkt == client.jkt
    assert result.nonce is None


def test_plain_claims_are_accepted_as_well_as_a_verified_token(bound, client, policy):
    raw, token = bound
    assert policy.check(dpop_request(client.proof(raw)), dict(token.claims), raw).bound


@pytest.mark.parametrize(
    ("htu", "path", "host"),
    [
        ("https://api.example/orders?page=2#top", "/orders", "api.example"),
        ("HTTPS://API.Example:443/orders", "/orders", "api.example"),
        ("https://api.example/orders", "/orders", "API.EXAMPLE:443"),
        ("https://api.example/caf%C3%A9%20menu", "/café menu", "api.example"),
        ("https://api.example/caf%c3%a9%20menu", "/caf%C3%A9%20menu", "api.example"),
        ("https://api.example:8443/orders", "/orders", "api.example:8443"),
        ("https://[::1]:8443/orders", "/orders", "[::1]:8443"),
    ],
)
def test_htu_matches_after_normalization_ignoring_query_and_fragment(
    bound, client, policy, htu, path, host
):
    raw, token = bound
    request = dpop_request(client.proof(raw, htu=htu), path=path, host=host)
    assert policy.check(request, token, raw).bound


def test_trusted_forwarded_headers_give_the_url_the_client_called(bound, client, clock):
    raw, token = bound
    policy = DPoPPolicy(
        clock=clock,
        request_url=RequestURL(
            {
                "proto": "X-Forwarded-Proto",
                "host": "X-Forwarded-Host",
                "prefix": "X-Forwarded-Prefix",
            }
        ),
    )
    proof = client.proof(raw, htu="https://public.example/api/orders")
    headers = {
        "x-forwarded-proto": "https",
        # A proxy appends: the right-most value is the one the trusted proxy set.
        "x-forwarded-host": "evil.example, public.example",
        "x-forwarded-prefix": "/api",
    }
    request = dpop_request(proof, scheme="http", host="backend:8000", headers=headers)
    assert policy.check(request, token, raw).bound


def test_forwarded_port_replaces_the_host_port(bound, client, clock):
    raw, token = bound
    policy = DPoPPolicy(clock=clock, request_url=RequestURL({"port": "X-Forwarded-Port"}))
    request = dpop_request(
        client.proof(raw, htu="https://api.example:8443/orders"),
        host="api.example:80",
        headers={"x-forwarded-port": "8443"},
    )
    assert policy.check(request, token, raw).bound


def test_forwarded_headers_are_ignored_unless_configured(bound, client, policy):
    raw, token = bound
    proof = client.proof(raw, htu="https://public.example/orders")
    request = dpop_request(
        proof, scheme="http", host="backend:8000", headers={"x-forwarded-host": "public.example"}
    )
    invalid_proof(policy, request, token, raw, "dpop_htu_mismatch")


def test_iat_within_leeway_in_the_future_and_at_the_window_edge_is_accepted(bound, client, policy):
    raw, token = bound
    assert policy.check(dpop_request(client.proof(raw, iat=NOW + 5)), token, raw).bound
    assert policy.check(dpop_request(client.proof(raw, iat=NOW - 65)), token, raw).bound


def test_typ_may_carry_the_application_prefix(bound, client, policy):
    raw, token = bound
    proof = client.proof(raw, header={"typ": "application/dpop+jwt"})
    assert policy.check(dpop_request(proof), token, raw).bound


async def test_acheck_accepts_and_refuses_replays_like_check(bound, client, policy):
    raw, token = bound
    proof = client.proof(raw)
    assert (await policy.acheck(dpop_request(proof), token, raw)).bound
    with pytest.raises(InvalidDPoPProof) as info:
        await policy.acheck(dpop_request(proof), token, raw)
    assert info.value.reason == "dpop_replayed"


# -- RFC 9449 section 4.3, in order


def test_no_proof_header_is_refused(bound, policy):
    raw, token = bound
    invalid_proof(policy, dpop_request(), token, raw, "dpop_proof_missing")


def test_two_proof_headers_are_refused(bound, client, policy):
    raw, token = bound
    invalid_proof(
        policy,
        dpop_request(client.proof(raw), client.proof(raw)),
        token,
        raw,
        "dpop_multiple_proofs",
    )


def test_proof_headers_folded_into_one_by_the_server_are_refused(bound, client, policy):
    raw, token = bound
    folded = f"{client.proof(raw)}, {client.proof(raw)}"
    invalid_proof(policy, dpop_request(folded), token, raw, "dpop_multiple_proofs")


@pytest.mark.parametrize(
    "proof",
    [
        "not-a-jwt",
        "a.b",
        "eyJhbGciOiJFUzI1NiJ9.e30.",
        "e30.e30.A",
        "!!!.e30.AAAA",
        "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.AAAA",
        "é.e30.AAAA",
        "a" * 9000,
    ],
)
def test_a_malformed_proof_is_refused(bound, policy, proof):
    raw, token = bound
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_proof_malformed")


@pytest.mark.parametrize("name", ["jti", "htm", "htu", "iat", "ath"])
def test_a_proof_without_a_required_claim_is_refused(bound, client, policy, name):
    raw, token = bound
    invalid_proof(
        policy, dpop_request(client.proof(raw, drop=(name,))), token, raw, "dpop_missing_claim"
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"jti": 7},
        {"jti": ""},
        {"jti": "j" * 257},
        {"htm": ["GET"]},
        {"htu": None},
        {"iat": "now"},
        {"iat": True},
        {"ath": 1},
    ],
)
def test_a_proof_claim_of_the_wrong_type_is_refused(bound, client, policy, overrides):
    raw, token = bound
    invalid_proof(
        policy, dpop_request(client.proof(raw, **overrides)), token, raw, "dpop_proof_malformed"
    )


@pytest.mark.parametrize("typ", [None, "JWT", "at+jwt", 1])
def test_a_proof_whose_typ_is_not_dpop_jwt_is_refused(bound, client, policy, typ):
    raw, token = bound
    proof = client.proof(raw, header={"typ": typ})  # None drops typ
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_bad_type")


def test_alg_none_is_refused(bound, client, policy):
    raw, token = bound
    proof = client.proof(raw, header={"alg": "none"})
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_alg_not_allowed")


def test_an_hmac_proof_with_a_symmetric_jwk_is_refused(bound, policy):
    raw, token = bound
    secret = b"s" * 32
    jwk = {"kty": "oct", "k": "c3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3M"}
    proof = sign(
        {"typ": "dpop+jwt", "alg": "HS256", "jwk": jwk},
        {"jti": "x", "htm": "GET", "htu": URL, "iat": int(NOW), "ath": access_token_hash(raw)},
        secret,
    )
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_alg_not_allowed")


def test_an_algorithm_outside_the_proof_allowlist_is_refused(keyring, issue, policy):
    client = Client(keyring.p521, "ES512")
    raw, token = issue(client.jkt)
    invalid_proof(policy, dpop_request(client.proof(raw)), token, raw, "dpop_alg_not_allowed")


def test_an_algorithm_added_to_the_allowlist_is_accepted(keyring, issue, clock):
    client = Client(keyring.p521, "ES512")
    raw, token = issue(client.jkt)
    policy = DPoPPolicy(algorithms=["ES512"], clock=clock)
    assert policy.check(dpop_request(client.proof(raw)), token, raw).bound


def test_crit_is_refused(bound, client, policy):
    raw, token = bound
    proof = client.proof(raw, header={"crit": ["exp"]})
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_unknown_crit")


@pytest.mark.parametrize(
    "jwk",
    [
        None,
        "a-string",
        {"kty": "oct"},
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        {"kty": "EC", "crv": "secp256k1", "x": "AAAA", "y": "AAAA"},
        {"kty": "OKP", "crv": "X25519", "x": "AAAA"},
    ],
)
def test_a_missing_or_unacceptable_jwk_is_refused(bound, client, policy, jwk):
    raw, token = bound
    proof = client.proof(raw, header={"jwk": jwk})  # None drops jwk
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_bad_jwk")


def test_a_jwk_of_another_curve_than_alg_is_refused(keyring, bound, policy):
    raw, token = bound
    client = Client(keyring.p384, "ES256")  # a P-384 key claiming ES256
    proof = client.proof(raw, sign_alg="ES384")
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_bad_jwk")


def test_a_weak_rsa_jwk_is_refused(bound, policy):
    raw, token = bound
    client = Client(rsa.generate_private_key(65537, 1024), "RS256")
    invalid_proof(policy, dpop_request(client.proof(raw)), token, raw, "dpop_bad_jwk")


@pytest.mark.parametrize(
    "jwk",
    [
        # 2048-bit modulus with a 2048-bit public exponent: costly to verify, never needed.
        {
            "kty": "RSA",
            "n": b64url_encode(b"\xc1" + b"\x01" * 255),
            "e": b64url_encode(b"\x01" * 256),
        },
        {"kty": "RSA", "n": b64url_encode(b"\xc1" + b"\x01" * 1024), "e": "AQAB"},
    ],
    ids=["huge-exponent", "16k-modulus"],
)
def test_an_rsa_jwk_larger_than_proofs_need_is_refused(bound, policy, jwk):
    raw, token = bound
    client = Client(rsa.generate_private_key(65537, 2048), "RS256")
    proof = client.proof(raw, header={"jwk": jwk})
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_bad_jwk")


@pytest.mark.parametrize("member", ["d", "p", "k"])
def test_a_jwk_with_private_members_is_refused(bound, client, policy, member):
    raw, token = bound
    jwk = {**client.jwk, member: "AQAB"}
    invalid_proof(
        policy, dpop_request(client.proof(raw, header={"jwk": jwk})), token, raw, "dpop_private_key"
    )


def test_a_proof_signed_by_another_key_than_its_jwk_is_refused(bound, client, policy):
    raw, token = bound
    other = ec.generate_private_key(ec.SECP256R1())
    proof = client.proof(raw, signer=other)
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_bad_signature")


def test_a_tampered_proof_is_refused(bound, client, policy):
    raw, token = bound
    head, _, sig = client.proof(raw).split(".")
    other_body = client.proof(raw, htm="POST").split(".")[1]
    invalid_proof(
        policy, dpop_request(f"{head}.{other_body}.{sig}"), token, raw, "dpop_bad_signature"
    )


@pytest.mark.parametrize(("htm", "method"), [("POST", "GET"), ("get", "GET"), ("GET", "HEAD")])
def test_htm_must_be_the_request_method_exactly(bound, client, policy, htm, method):
    raw, token = bound
    request = dpop_request(client.proof(raw, htm=htm), method=method)
    invalid_proof(policy, request, token, raw, "dpop_htm_mismatch")


@pytest.mark.parametrize(
    "htu",
    [
        "https://api.example/orders/1",
        "https://api.example/Orders",
        "https://other.example/orders",
        "http://api.example/orders",
        "https://api.example:8443/orders",
        "wss://api.example/orders",
        "/orders",
        "https://user@api.example/orders",
        "https://api.example:99999/orders",
        "https://é.example/orders",
        "https://api.example/é",
        "",
    ],
)
def test_htu_must_be_the_request_url(bound, client, policy, htu):
    raw, token = bound
    invalid_proof(policy, dpop_request(client.proof(raw, htu=htu)), token, raw, "dpop_htu_mismatch")


@pytest.mark.parametrize(
    ("scheme", "host"), [("ftp", "api.example"), ("https", "bad host"), ("https", "a:0")]
)
def test_an_unusable_request_url_refuses_the_proof(bound, client, policy, scheme, host):
    raw, token = bound
    request = dpop_request(client.proof(raw), scheme=scheme, host=host)
    invalid_proof(policy, request, token, raw, "dpop_htu_mismatch")


@pytest.mark.parametrize("iat", [NOW - 66, NOW + 6, NOW - 10_000])
def test_iat_outside_the_window_is_refused(bound, client, policy, iat):
    raw, token = bound
    invalid_proof(
        policy, dpop_request(client.proof(raw, iat=iat)), token, raw, "dpop_iat_out_of_window"
    )


def test_ath_must_be_the_hash_of_the_presented_token(bound, client, policy, issue):
    raw, token = bound
    other_raw, _ = issue(client.jkt, jti="jti-2")
    proof = client.proof(other_raw)
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_ath_mismatch")


def test_the_proof_key_must_be_the_key_the_token_is_bound_to(keyring, bound, policy):
    raw, token = bound
    thief = Client(keyring.p384, "ES384")
    invalid_proof(policy, dpop_request(thief.proof(raw)), token, raw, "dpop_jkt_mismatch")


def test_a_replayed_proof_is_refused(bound, client, policy):
    raw, token = bound
    proof = client.proof(raw)
    policy.check(dpop_request(proof), token, raw)
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_replayed")


def test_a_replayed_proof_stays_refused_until_its_iat_leaves_the_window(
    bound, client, policy, clock
):
    raw, token = bound
    proof = client.proof(raw)
    policy.check(dpop_request(proof), token, raw)
    clock.advance(65)
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_replayed")
    clock.advance(1)
    invalid_proof(policy, dpop_request(proof), token, raw, "dpop_iat_out_of_window")


def test_a_refused_proof_does_not_use_up_its_jti(bound, client, policy):
    raw, token = bound
    jti = "one-jti"
    bad = client.proof(raw, jti=jti, htm="POST")
    invalid_proof(policy, dpop_request(bad), token, raw, "dpop_htm_mismatch")
    assert policy.check(dpop_request(client.proof(raw, jti=jti)), token, raw).bound


def test_the_same_jti_under_another_key_is_not_a_replay(keyring, issue, policy):
    first = Client(keyring.p256, "ES256")
    second = Client(keyring.ed25519, "EdDSA")
    for client in (first, second):
        raw, token = issue(client.jkt)
        assert policy.check(dpop_request(client.proof(raw, jti="shared")), token, raw).bound


# -- the binding between token, scheme and proof (RFC 9449 section 7)


def binding_refused(policy, request, token, raw, reason: str) -> DPoPBindingError:
    error = refused(
        lambda: policy.check(request, token, raw), DPoPBindingError, reason, error="invalid_token"
    )
    return error  # type: ignore[return-value]


@pytest.mark.parametrize("mode", ["off", "allowed", "required"])
@pytest.mark.parametrize("presented", ["Bearer", "cookie"])
def test_a_dpop_bound_token_presented_as_bearer_is_refused_in_every_mode(
    bound, clock, mode, presented
):
    raw, token = bound
    policy = DPoPPolicy(mode=mode, clock=clock)
    request = dpop_request(authorization_scheme=presented)
    error = binding_refused(policy, request, token, raw, "dpop_bound_token_as_bearer")
    response = challenge_response(error, ChallengeOptions.for_policy(policy), presented="Bearer")
    expected = {
        "off": 'Bearer realm="api", error="invalid_token"',
        "allowed": f'Bearer realm="api", error="invalid_token", DPoP realm="api", {ALGS}',
        "required": f'DPoP realm="api", error="invalid_token", {ALGS}',
    }[mode]
    assert response.headers["WWW-Authenticate"] == expected


def test_a_proof_sent_with_a_bearer_token_is_refused(issue, client, policy):
    raw, token = issue()
    request = dpop_request(client.proof(raw), authorization_scheme="Bearer")
    binding_refused(policy, request, token, raw, "dpop_proof_with_bearer")


def test_a_bearer_token_is_refused_where_dpop_is_required(issue, clock):
    raw, token = issue()
    policy = DPoPPolicy(mode="required", clock=clock)
    binding_refused(
        policy, dpop_request(authorization_scheme="Bearer"), token, raw, "dpop_required"
    )


def test_an_unbound_token_sent_with_the_dpop_scheme_is_refused(issue, client, policy):
    raw, token = issue()
    binding_refused(policy, dpop_request(client.proof(raw)), token, raw, "dpop_token_not_bound")


def test_the_dpop_scheme_is_refused_when_dpop_is_off(bound, client, clock):
    raw, token = bound
    policy = DPoPPolicy(mode="off", clock=clock)
    binding_refused(policy, dpop_request(client.proof(raw)), token, raw, "dpop_not_enabled")


@pytest.mark.parametrize("cnf", [{"jkt": 5}, {"jkt": ""}, {"jkt": None}])
def test_a_malformed_cnf_jkt_is_refused(issue, client, policy, cnf):
    raw, token = issue(cnf=cnf)
    binding_refused(policy, dpop_request(client.proof(raw)), token, raw, "dpop_bad_cnf")


@pytest.mark.parametrize("mode", ["off", "allowed"])
def test_a_plain_bearer_token_passes_where_dpop_is_not_required(issue, clock, mode):
    raw, token = issue()
    policy = DPoPPolicy(mode=mode, clock=clock)
    result = policy.check(dpop_request(authorization_scheme="Bearer"), token, raw)
    assert result.bound is False
    assert result.jkt is None


def test_a_dpop_header_is_ignored_when_dpop_is_off(issue, client, clock):
    raw, token = issue()
    policy = DPoPPolicy(mode="off", clock=clock)
    request = dpop_request(client.proof(raw), authorization_scheme="Bearer")
    assert policy.check(request, token, raw).bound is False


def test_extract_dpop_token_reads_only_the_dpop_scheme():
    assert extract_dpop_token("DPoP abc.def.ghi") == "abc.def.ghi"
    assert extract_dpop_token("dpop abc.def.ghi") == "abc.def.ghi"
    assert extract_dpop_token("Bearer abc.def.ghi") is None
    assert extract_dpop_token(None) is None
    with pytest.raises(InvalidRequest):
        extract_dpop_token("DPoP ")
    with pytest.raises(InvalidRequest):
        extract_dpop_token("DPoP a b")


# -- events and settings


def test_rejections_are_security_events_with_their_reason(bound, client, policy, recorded_events):
    raw, token = bound
    proof = client.proof(raw)
    policy.check(dpop_request(proof), token, raw)
    with pytest.raises(InvalidDPoPProof):
        policy.check(dpop_request(proof), token, raw)
    (event,) = [e for e in recorded_events if e.name == "dpop_rejected"]
    assert event.reason == "dpop_replayed"
    assert event.level == logging.WARNING
    assert event.fields["status"] == 401


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"mode": "on"}, "dpop"),
        ({"algorithms": ["HS256"]}, "dpop_algorithms"),
        ({"algorithms": ["none"]}, "dpop_algorithms"),
        ({"algorithms": "ES256"}, "dpop_algorithms"),
        ({"algorithms": []}, "dpop_algorithms"),
        ({"iat_window": -1}, "dpop_iat_window"),
        ({"leeway": "5"}, "dpop_leeway"),
        ({"replay_store": object()}, "dpop_replay_store"),
        ({"nonces": "secret"}, "dpop_nonces"),
        ({"max_proof_bytes": 10}, "dpop_max_proof_bytes"),
    ],
)
def test_bad_settings_name_the_setting(options, setting):
    with pytest.raises(ConfigurationError) as info:
        DPoPPolicy(**options)
    assert info.value.setting == setting


@pytest.mark.parametrize(
    "names", [{"scheme": "X-Forwarded-Proto"}, {"proto": "bad header"}, {"host": 5}]
)
def test_bad_forwarded_header_settings_are_refused(names):
    with pytest.raises(ConfigurationError) as info:
        RequestURL(names)
    assert info.value.setting == "dpop_forwarded_headers"


def test_memory_store_is_the_default_and_each_policy_gets_its_own():
    assert isinstance(DPoPPolicy().replay_store, MemoryReplayStore)
    assert DPoPPolicy().replay_store is not DPoPPolicy().replay_store


# -- bad input of any shape is a refusal, never another exception

# A dropped crit leaves a valid proof; a jti may be any string.
ACCEPTABLE_ODDITIES = (("crit", None), ("jti", "\u0000"), ("jti", "é"), ("jti", "\ud800"))
ODD_VALUES = [
    None,
    0,
    -1,
    1e308,
    True,
    "",
    "x" * 5000,
    [],
    {},
    [1],
    {"a": 1},
    "\u0000",
    "é",
    "\ud800",
]


@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
@pytest.mark.parametrize(
    "where",
    ["typ", "alg", "jwk", "crit", "kty", "crv", "x", "y", "jti", "htm", "htu", "iat", "ath"],
)
def test_odd_values_anywhere_in_a_proof_never_raise_anything_but_a_refusal(
    bound, client, policy, where, value
):
    raw, token = bound
    if where in ("typ", "alg", "jwk", "crit"):
        # None drops the member.
        proof = client.proof(raw, header={where: value}, sign_alg="ES256")
    elif where in ("kty", "crv", "x", "y"):
        proof = client.proof(raw, header={"jwk": {**client.jwk, where: value}})
    else:
        proof = client.proof(raw, **{where: value})
    if (where, value) in ACCEPTABLE_ODDITIES:
        assert policy.check(dpop_request(proof), token, raw).bound
        return
    with pytest.raises(TokenError) as info:
        policy.check(dpop_request(proof), token, raw)
    assert info.value.status == 401
    assert info.value.reason.startswith("dpop_")


def test_a_replay_store_that_breaks_fails_closed(bound, client, clock, caplog):
    class Broken:
        in_process = True

        def first_use(self, key: str, *, expires_at: float, now: float) -> bool:
            raise KeyError(key)

    policy = DPoPPolicy(replay_store=Broken(), clock=clock)
    raw, token = bound
    error = refused(
        lambda: policy.check(dpop_request(client.proof(raw)), token, raw),
        StateUnavailable,
        "dpop_replay_unavailable",
        error="temporarily_unavailable",
        status=503,
    )
    assert error.retry_after == 5
    assert "the DPoP replay store failed unexpectedly" in caplog.text
