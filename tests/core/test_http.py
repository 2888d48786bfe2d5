"""The HTTP decisions both adapters share: extraction, challenges, error responses."""

from __future__ import annotations

import logging
import re

import pytest

from jwt_guard_core import (
    AlgorithmNotAllowed,
    BadAudience,
    BadIssuer,
    BadSignature,
    ConfigurationError,
    InsufficientScope,
    InvalidRequest,
    KeySourceUnavailable,
    MalformedToken,
    SecurityEvent,
    TokenError,
    TokenExpired,
    TokenRevoked,
    UnknownKid,
    VerifiedToken,
    subscribe,
)
from jwt_guard_core.http import (
    SAFE_METHODS,
    ExtractedToken,
    check_scopes,
    constant_time_equals,
    csrf_refused,
    csrf_required,
    error_response,
    extract_token,
    new_csrf_token,
    www_authenticate,
)
from tests.factories import claims, sign

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln"
COOKIE_TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjIn0.Y29va2ll"


def extract(authorization: str | None = None, cookies: dict[str, str] | None = None, **kw):
    return extract_token(authorization=authorization, cookies=cookies or {}, **kw)


def invalid_request(authorization: str, **kw) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        extract(authorization, **kw)
    error = info.value
    assert (error.reason, error.error, error.status) == ("invalid_request", "invalid_request", 400)
    response = error_response(error)
    assert response.status == 400
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_request"'
    assert TOKEN not in str(error)
    return error


# -- extract_token


def test_bearer_token_is_taken_from_the_authorization_header():
    assert extract(f"Bearer {TOKEN}") == ExtractedToken(TOKEN, "header")


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_the_scheme_is_case_insensitive(scheme):
    assert extract(f"{scheme} {TOKEN}").token == TOKEN


@pytest.mark.parametrize("value", [f"Bearer  {TOKEN}", f"  Bearer {TOKEN}  ", f"Bearer {TOKEN} "])
def test_extra_spaces_around_the_token_are_tolerated(value):
    assert extract(value).token == TOKEN


@pytest.mark.parametrize("token", ["abc", "a-b_c.d~e+f/g", "abc==", "YQ=", "a.b.c"])
def test_every_b64token_character_is_accepted(token):
    assert extract(f"Bearer {token}").token == token


def test_no_authorization_header_and_no_cookie_is_no_credentials():
    assert extract(None) is None
    assert extract(None, locations=("header", "cookie")) is None


@pytest.mark.parametrize(
    "value",
    [
        "Basic dXNlcjpwYXNz",
        'Digest username="u", realm="r"',
        f"DPoP {TOKEN}",
        f"Token {TOKEN}",
        f"Bearerx {TOKEN}",
        "",
        "   ",
    ],
)
def test_other_schemes_are_ignored(value):
    assert extract(value) is None


def test_other_scheme_falls_through_to_the_cookie():
    found = extract(
        "Basic dXNlcjpwYXNz", {"access_token": COOKIE_TOKEN}, locations=("header", "cookie")
    )
    assert found == ExtractedToken(COOKIE_TOKEN, "cookie")


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer    ", " bearer \t "])
def test_bearer_without_a_token_is_invalid_request(value):
    assert "no token" in invalid_request(value).detail


@pytest.mark.parametrize(
    "value",
    [
        f"Bearer {TOKEN} extra",
        f"Bearer {TOKEN}, Basic dXNlcjpwYXNz",
        f"Bearer {TOKEN},{TOKEN}",
        f'Bearer "{TOKEN}"',
        "Bearer a=b",
        "Bearer =abc",
        "Bearer ab\u00e9c",
        "Bearer ab;c",
        f"Bearer {TOKEN}\n",
        f"Bearer {TOKEN}\x00",
        "Bearer a\tb",
    ],
)
def test_malformed_bearer_credentials_are_invalid_request(value):
    assert "invalid characters" in invalid_request(value).detail


@pytest.mark.parametrize("value", [f"Bearer\t{TOKEN}", f"Bearer\n{TOKEN}", f"Bearer\u00a0{TOKEN}"])
def test_bearer_separated_by_other_whitespace_is_invalid_request(value):
    invalid_request(value)


def test_configured_header_types_are_recognised():
    kw = {"header_types": ("JWT", "Bearer")}
    assert extract(f"JWT {TOKEN}", **kw).token == TOKEN
    assert extract(f"Bearer {TOKEN}", **kw).token == TOKEN
    assert extract(f"Bearer {TOKEN}", header_types=("JWT",)) is None
    invalid_request("JWT", **kw)


def test_token_is_taken_from_the_configured_cookie():
    found = extract(None, {"jwt": COOKIE_TOKEN}, locations=("cookie",), cookie_name="jwt")
    assert found == ExtractedToken(COOKIE_TOKEN, "cookie")
    assert (
        extract(None, {"access_token": COOKIE_TOKEN}, locations=("cookie",), cookie_name="jwt")
        is None
    )


def test_an_empty_cookie_is_no_credentials():
    assert extract(None, {"access_token": ""}, locations=("cookie",)) is None


def test_locations_are_tried_in_the_configured_order():
    both = {"authorization": f"Bearer {TOKEN}", "cookies": {"access_token": COOKIE_TOKEN}}
    header_first = extract_token(**both, locations=("header", "cookie"))
    cookie_first = extract_token(**both, locations=("cookie", "header"))
    assert header_first == ExtractedToken(TOKEN, "header")
    assert cookie_first == ExtractedToken(COOKIE_TOKEN, "cookie")


def test_cookie_is_ignored_unless_configured():
    assert extract(None, {"access_token": COOKIE_TOKEN}) is None


def test_header_is_ignored_unless_configured():
    assert extract(f"Bearer {TOKEN}", locations=("cookie",)) is None


def test_malformed_bearer_header_is_not_masked_by_a_cookie():
    invalid_request(
        "Bearer a b", cookies={"access_token": COOKIE_TOKEN}, locations=("header", "cookie")
    )


def test_unknown_location_is_a_configuration_error():
    with pytest.raises(ConfigurationError) as info:
        extract(f"Bearer {TOKEN}", locations=("query",))
    assert info.value.setting == "locations"
    assert "'query'" in str(info.value)
    assert "'header' or 'cookie'" in str(info.value)


def test_extracted_token_repr_hides_the_token():
    found = extract(f"Bearer {TOKEN}")
    assert TOKEN not in repr(found)
    assert "header" in repr(found)


# -- csrf


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "post", "PROPFIND"])
def test_cookie_token_on_an_unsafe_method_needs_csrf(method):
    assert csrf_required(method, "cookie")


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE", "get"])
def test_cookie_token_on_a_safe_method_needs_no_csrf(method):
    assert not csrf_required(method, "cookie")


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_header_token_never_needs_csrf(method):
    assert not csrf_required(method, "header")


def _csrf_events(check, credential: str) -> tuple[bool, list[SecurityEvent]]:
    received: list[SecurityEvent] = []
    unsubscribe = subscribe(received.append)
    try:
        refused = csrf_refused(check, credential=credential)
    finally:
        unsubscribe()
    return refused, received


def test_csrf_refusal_is_one_token_rejected_event_naming_the_credential(caplog):
    caplog.set_level(logging.WARNING, logger="jwt_guard.security")
    refused, received = _csrf_events(lambda: "Referer checking failed", "credential")
    assert refused
    [event] = received
    assert (event.name, event.reason, event.level) == (
        "token_rejected",
        "csrf_failed",
        logging.WARNING,
    )
    assert event.fields["status"] == 403
    [record] = [r for r in caplog.records if r.name == "jwt_guard.security"]
    assert record.getMessage() == "cookie credential refused: Referer checking failed (csrf_failed)"


def test_csrf_proof_accepted_is_no_refusal_and_no_event():
    assert _csrf_events(lambda: None, "token") == (False, [])


def test_safe_methods_are_the_rfc_9110_safe_methods():
    assert frozenset({"GET", "HEAD", "OPTIONS", "TRACE"}) == SAFE_METHODS


def test_new_csrf_tokens_are_random_and_url_safe():
    tokens = {new_csrf_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in tokens)


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("abc", "abc", True),
        ("abc", "abd", False),
        ("abc", "abcd", False),
        ("", "", False),
        (None, None, False),
        ("abc", None, False),
        (None, "abc", False),
        ("", "abc", False),
        ("zoë", "zoë", True),
    ],
)
def test_constant_time_equals(a, b, equal):
    assert constant_time_equals(a, b) is equal


# -- check_scopes


@pytest.fixture
def scoped(make_verifier, keyring):
    def _scoped(scope: str) -> VerifiedToken:
        token = sign({"alg": "RS256", "kid": "rsa-1"}, claims(scope=scope), keyring.rsa)
        return make_verifier().verify(token)

    return _scoped


def test_check_scopes_passes_when_every_scope_is_present(scoped):
    token = scoped("orders:read orders:write profile")
    check_scopes(token, ["orders:read", "profile"])
    check_scopes(token, [])
    check_scopes(token, "orders:read profile")


@pytest.mark.parametrize(
    "required", [["orders:read", "admin"], ["admin"], ["ORDERS:READ"], ["orders"], "admin"]
)
def test_check_scopes_raises_insufficient_scope_when_one_is_missing(scoped, required):
    token = scoped("orders:read orders:write profile")
    with pytest.raises(InsufficientScope) as info:
        check_scopes(token, required)
    error = info.value
    assert (error.reason, error.error, error.status) == (
        "insufficient_scope",
        "insufficient_scope",
        403,
    )
    expected = tuple(required.split()) if isinstance(required, str) else tuple(required)
    assert error.required == expected


def test_a_scope_string_is_space_separated_not_split_into_letters(scoped):
    # Iterating "admin" would ask for "a", "d", ... and any_of would pass on "a".
    token = scoped("a d m i n")
    with pytest.raises(InsufficientScope):
        check_scopes(token, "admin")
    with pytest.raises(InsufficientScope):
        check_scopes(token, "admin", any_of=True)


def test_check_scopes_any_of_needs_one(scoped):
    token = scoped("orders:read")
    check_scopes(token, ["admin", "orders:read"], any_of=True)
    with pytest.raises(InsufficientScope) as info:
        check_scopes(token, ["admin", "orders:write"], any_of=True)
    assert info.value.required == ("admin", "orders:write")


# -- WWW-Authenticate (RFC 6750 section 3)


def test_no_credentials_gets_a_challenge_without_error():
    assert www_authenticate(None) == 'Bearer realm="api"'


def test_invalid_token_challenge():
    assert www_authenticate(TokenExpired()) == 'Bearer realm="api", error="invalid_token"'


def test_insufficient_scope_challenge_names_the_scopes():
    error = InsufficientScope(("orders:read", "orders:write"))
    assert www_authenticate(error) == (
        'Bearer realm="api", error="insufficient_scope", scope="orders:read orders:write"'
    )


def test_explicit_scope_overrides_and_a_string_is_kept_whole():
    error = InsufficientScope(("x",))
    assert www_authenticate(error, scope=["a", "b"]).endswith('scope="a b"')
    assert www_authenticate(error, scope="admin").endswith('scope="admin"')


def test_no_scope_parameter_without_scopes():
    assert "scope=" not in www_authenticate(InsufficientScope())
    assert "scope=" not in www_authenticate(None, scope=["a"])


@pytest.mark.parametrize(
    ("realm", "quoted"),
    [
        ("my api", '"my api"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("line\r\nInjected: yes", '"lineInjected: yes"'),
        ("tab\there\x7f", '"tabhere"'),
        ("", '""'),
    ],
)
def test_realm_is_a_quoted_string(realm, quoted):
    assert www_authenticate(None, realm=realm) == f"Bearer realm={quoted}"


@pytest.mark.parametrize(
    "error",
    [BadSignature(), BadAudience(), TokenRevoked(), UnknownKid(), MalformedToken("detail")],
)
def test_challenge_never_contains_the_reason_or_detail(error):
    value = www_authenticate(error)
    assert error.reason not in value
    assert error.detail not in value
    assert value == 'Bearer realm="api", error="invalid_token"'


# -- error_response


@pytest.mark.parametrize(
    "error",
    [
        TokenExpired(),
        BadSignature(),
        BadIssuer(),
        BadAudience(),
        AlgorithmNotAllowed("HS256 is not in the allowlist"),
        UnknownKid(),
        TokenRevoked(),
        MalformedToken(),
        TokenError("boom", reason="verification_error"),
    ],
)
def test_invalid_token_errors_are_401_with_a_challenge(error):
    response = error_response(error, realm="orders")
    assert response.status == 401
    assert response.headers == {"WWW-Authenticate": 'Bearer realm="orders", error="invalid_token"'}
    assert response.body == {
        "error": "invalid_token",
        "error_description": "The access token is invalid or expired.",
    }


def test_missing_credentials_is_401_without_an_error_code_in_the_challenge():
    response = error_response(None)
    assert response.status == 401
    assert response.headers == {"WWW-Authenticate": 'Bearer realm="api"'}
    assert response.body["error"] == "unauthorized"


def test_invalid_request_is_400():
    response = error_response(InvalidRequest("the Authorization header has no token"))
    assert response.status == 400
    assert response.headers == {"WWW-Authenticate": 'Bearer realm="api", error="invalid_request"'}
    assert response.body == {
        "error": "invalid_request",
        "error_description": "The request is malformed.",
    }


def test_insufficient_scope_is_403_with_the_scope():
    response = error_response(InsufficientScope(("admin",)))
    assert response.status == 403
    assert response.headers == {
        "WWW-Authenticate": 'Bearer realm="api", error="insufficient_scope", scope="admin"'
    }
    assert response.body["error"] == "insufficient_scope"


@pytest.mark.parametrize("retry_after", [1, 30, 600])
def test_key_source_unavailable_is_503_with_retry_after(retry_after):
    response = error_response(KeySourceUnavailable(retry_after=retry_after))
    assert response.status == 503
    assert response.headers == {"Retry-After": str(retry_after)}
    assert response.body == {
        "error": "temporarily_unavailable",
        "error_description": "Token verification is temporarily unavailable.",
    }


def test_retry_after_is_at_least_one_second():
    assert error_response(KeySourceUnavailable(retry_after=0)).headers == {"Retry-After": "1"}


ALL_ERRORS = [
    TokenExpired(),
    BadSignature(),
    BadIssuer(),
    BadAudience(),
    AlgorithmNotAllowed(),
    UnknownKid(),
    TokenRevoked(),
    MalformedToken("payload: JSON is not valid"),
    InvalidRequest("the Authorization header has no token"),
    InsufficientScope(("admin",)),
    KeySourceUnavailable("https://idp.example/jwks timed out"),
    TokenError("the token could not be verified", reason="verification_error"),
]


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda e: e.reason)
def test_bodies_and_headers_never_contain_the_reason_or_detail(error):
    response = error_response(error)
    text = repr(response.body) + repr(dict(response.headers))
    assert error.detail not in text
    if error.reason != error.error:  # invalid_request and insufficient_scope are both
        assert error.reason not in text
    assert set(response.body) == {"error", "error_description"}
