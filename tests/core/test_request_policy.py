"""A request's credentials decided over plain data: what both adapters hand the core."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from jwt_guard_core.dpop import DPoPPolicy
from jwt_guard_core.request_policy import (
    Outcome,
    RequestView,
    averify_request,
    locate,
    sender_request,
    user_not_found,
    verify_request,
)
from jwt_guard_core.sender import PresentedToken, ResourcePolicy
from jwt_guard_core.settings import GuardSettings, RequestSettings
from tests.core.dpop_support import Client, issue_token
from tests.factories import NOW, claims, named, sign


def _settings(**given: Any) -> RequestSettings:
    return GuardSettings.from_mapping(given, "django").request


class Reads:
    """A request whose getters record what the core asked for."""

    def __init__(
        self,
        method: str = "GET",
        authorization: str | None = None,
        cookies: dict[str, str] | None = None,
        headers: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.asked: list[str] = []
        self.cookies = cookies or {}
        self.header_values = headers or {}
        self.view = RequestView(
            method=method,
            authorization=authorization,
            cookie=self._cookie,
            headers=self._headers,
            url=self._url,
        )

    def _cookie(self, name: str) -> str | None:
        self.asked.append(f"cookie:{name}")
        return self.cookies.get(name)

    def _headers(self, name: str) -> tuple[str, ...]:
        self.asked.append(f"header:{name}")
        return self.header_values.get(name, ())

    def _url(self) -> tuple[str, str, str]:
        self.asked.append("url")
        return ("https", "api.example", "/orders")


def _no_csrf_check() -> str | None:
    raise AssertionError("the CSRF check ran for a request that needs none")


def test_no_credentials_is_an_anonymous_outcome():
    outcome = locate(Reads().view, _settings(), ResourcePolicy(), csrf_failure=_no_csrf_check)
    assert outcome == Outcome()
    assert outcome.refusal() is None
    assert outcome.reason is None


def test_cookies_are_not_read_unless_they_are_a_token_location():
    reads = Reads(cookies={"access_token": "abc"})
    assert locate(reads.view, _settings(), ResourcePolicy(), csrf_failure=_no_csrf_check) == (
        Outcome()
    )
    assert reads.asked == []


def test_a_malformed_header_is_a_400_outcome_and_an_event(recorded_events):
    outcome = locate(
        Reads(authorization="Bearer a b").view,
        _settings(),
        ResourcePolicy(),
        csrf_failure=_no_csrf_check,
    )
    assert isinstance(outcome, Outcome)
    assert (outcome.reason, outcome.location) == ("invalid_request", "header")
    refusal = outcome.refusal()
    assert refusal is not None
    assert refusal.status == 400
    assert refusal.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_request"'
    assert [e.reason for e in named(recorded_events, "token_rejected")] == [outcome.reason]


def test_a_cookie_on_an_unsafe_method_without_csrf_proof_is_a_403_outcome(recorded_events):
    reads = Reads(method="POST", cookies={"jwt": "abc"})
    outcome = locate(
        reads.view,
        _settings(TOKEN_LOCATIONS=["cookie"], AUTH_COOKIE="jwt"),
        ResourcePolicy(),
        csrf_failure=lambda: "Origin checking failed",
    )
    assert isinstance(outcome, Outcome)
    assert (outcome.csrf_failed, outcome.reason, outcome.presented) == (
        True,
        "csrf_failed",
        "cookie",
    )
    refusal = outcome.refusal()
    assert refusal is not None
    assert (refusal.status, dict(refusal.headers)) == (403, {})
    (event,) = named(recorded_events, "token_rejected")
    assert event.reason == "csrf_failed"
    assert event.level == logging.WARNING
    assert reads.asked == ["cookie:jwt"]


@pytest.mark.parametrize(
    ("method", "settings", "authorization"),
    [
        ("GET", {"TOKEN_LOCATIONS": ["cookie"]}, None),
        ("POST", {"TOKEN_LOCATIONS": ["header", "cookie"]}, "Bearer abc"),
        ("POST", {"TOKEN_LOCATIONS": ["cookie"], "AUTH_COOKIE_CSRF": False}, None),
    ],
)
def test_csrf_is_checked_only_for_a_cookie_on_an_unsafe_method(method, settings, authorization):
    reads = Reads(method=method, authorization=authorization, cookies={"access_token": "abc"})
    found = locate(reads.view, _settings(**settings), ResourcePolicy(), csrf_failure=_no_csrf_check)
    assert isinstance(found, PresentedToken)
    assert found.token == "abc"


def test_a_route_can_read_other_locations_than_the_settings():
    reads = Reads(cookies={"access_token": "abc"})
    found = locate(
        reads.view,
        _settings(),
        ResourcePolicy(),
        csrf_failure=_no_csrf_check,
        locations=("cookie",),
    )
    assert isinstance(found, PresentedToken)
    assert found.location == "cookie"


def _bearer(raw: str) -> PresentedToken:
    return PresentedToken(raw, "header", "Bearer")


def test_a_plain_bearer_token_is_verified_without_reading_the_request(keyring, make_verifier):
    verifier = make_verifier()
    raw, _ = issue_token(keyring, verifier)
    reads = Reads(authorization=f"Bearer {raw}", headers={"DPoP": ("proof",)})
    outcome = verify_request(reads.view, _bearer(raw), verifier.verify, ResourcePolicy())
    assert outcome.token is not None
    assert outcome.token.subject == claims()["sub"]
    assert (outcome.refusal(), outcome.nonce, outcome.presented) == (None, None, "Bearer")
    assert reads.asked == []


def test_a_dpop_bound_token_sent_as_bearer_is_refused_with_dpop_off(keyring, make_verifier):
    verifier = make_verifier()
    raw, _ = issue_token(keyring, verifier, cnf={"jkt": "x" * 43})
    outcome = verify_request(Reads().view, _bearer(raw), verifier.verify, ResourcePolicy())
    assert (outcome.token, outcome.reason) == (None, "dpop_bound_token_as_bearer")
    refusal = outcome.refusal()
    assert refusal is not None
    assert refusal.status == 401


def test_an_invalid_token_is_an_outcome_with_the_verifiers_reason(keyring, make_verifier):
    verifier = make_verifier()
    raw = sign({"alg": "RS256", "kid": "rsa-1"}, claims(exp=NOW - 3600), keyring.rsa)
    outcome = verify_request(Reads().view, _bearer(raw), verifier.verify, ResourcePolicy())
    assert outcome.reason == "token_expired"
    refusal = outcome.refusal()
    assert refusal is not None
    assert refusal.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def _dpop_case(keyring: Any, verifier: Any, clock: Any) -> tuple[Reads, PresentedToken, Any]:
    client = Client(ec.generate_private_key(ec.SECP256R1()), "ES256")
    raw, _ = issue_token(keyring, verifier, cnf={"jkt": client.jkt})
    reads = Reads(authorization=f"DPoP {raw}", headers={"DPoP": (client.proof(raw),)})
    policy = ResourcePolicy(dpop=DPoPPolicy(mode="allowed", clock=clock))
    return reads, PresentedToken(raw, "header", "DPoP"), policy


def test_a_dpop_request_reads_the_url_and_the_proof(keyring, make_verifier, clock):
    verifier = make_verifier()
    reads, found, policy = _dpop_case(keyring, verifier, clock)
    outcome = verify_request(reads.view, found, verifier.verify, policy)
    assert outcome.sender is not None
    assert outcome.sender.dpop_bound
    assert "url" in reads.asked
    assert "header:DPoP" in reads.asked


def test_averify_request_decides_as_verify_request(keyring, make_verifier, clock):
    verifier = make_verifier()
    reads, found, policy = _dpop_case(keyring, verifier, clock)
    outcome = asyncio.run(averify_request(reads.view, found, verifier.averify, policy))
    assert outcome.sender is not None
    assert outcome.sender.dpop_bound
    replayed = asyncio.run(averify_request(reads.view, found, verifier.averify, policy))
    assert replayed.reason == "dpop_replayed"


def test_sender_request_copies_only_the_forwarded_headers_the_policy_names():
    policy = ResourcePolicy(dpop=DPoPPolicy(mode="allowed"))
    reads = Reads(headers={"x-forwarded-proto": ("https",), "DPoP": ("p1", "p2")})
    request = sender_request(reads.view, PresentedToken("t", "header", "DPoP"), policy)
    assert request.proofs == ("p1", "p2")
    assert (request.host, request.path, request.scheme) == ("api.example", "/orders", "https")
    assert set(request.headers) <= set(policy.forwarded_headers)


def test_an_outcome_refused_after_all_keeps_how_the_token_came(keyring, make_verifier):
    verifier = make_verifier()
    raw, _ = issue_token(keyring, verifier)
    policy = ResourcePolicy(realm="orders")
    outcome = verify_request(Reads().view, _bearer(raw), verifier.verify, policy)
    refused = outcome.refused(user_not_found())
    assert (refused.token, refused.reason, refused.presented) == (None, "user_not_found", "Bearer")
    response = refused.refusal()
    assert response is not None
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="orders", error="invalid_token"'


def test_only_a_failed_cookie_can_be_left_to_an_exempt_view(keyring, make_verifier):
    verifier = make_verifier()
    raw = sign({"alg": "RS256", "kid": "rsa-1"}, claims(exp=NOW - 3600), keyring.rsa)
    cookie = PresentedToken(raw, "cookie", "cookie")
    assert verify_request(Reads().view, cookie, verifier.verify, ResourcePolicy()).deferrable
    header = verify_request(Reads().view, _bearer(raw), verifier.verify, ResourcePolicy())
    assert not header.deferrable
    csrf = Outcome(csrf_failed=True, location="cookie", presented="cookie")
    assert not csrf.deferrable
