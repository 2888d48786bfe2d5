"""The common bearer request's plan: which configurations take it; it answers as the full path."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jwt_guard_core.dpop import DPoPPolicy
from jwt_guard_core.mtls import MTLSPolicy
from jwt_guard_core.request_policy import (
    BearerPlan,
    Outcome,
    RequestView,
    bearer_plan,
    locate,
    verify_request,
)
from jwt_guard_core.sender import PresentedToken, ResourcePolicy
from jwt_guard_core.settings import GuardSettings, RequestSettings
from tests.core.dpop_support import issue_token
from tests.factories import NOW, claims, sign


def _settings(**given: Any) -> RequestSettings:
    return GuardSettings.from_mapping(given, "django").request


def _plan(**given: Any) -> BearerPlan:
    plan = bearer_plan(_settings(**given), ResourcePolicy())
    assert plan is not None
    return plan


def _unread() -> RequestView:
    raise AssertionError("the plan read the request for a token without cnf")


def test_the_default_configuration_has_a_plan():
    plan = _plan()
    assert plan.schemes == frozenset({"bearer"})
    assert plan.locations == ("header",)


@pytest.mark.parametrize(
    ("given", "policy", "locations"),
    [
        ({"TOKEN_LOCATIONS": ["cookie"]}, ResourcePolicy(), None),
        ({"TOKEN_LOCATIONS": ["header", "cookie"]}, ResourcePolicy(), None),
        ({}, ResourcePolicy(dpop=DPoPPolicy(mode="allowed")), None),
        ({}, ResourcePolicy(mtls=MTLSPolicy(header="X-Client-Cert")), None),
        ({}, ResourcePolicy(), ("cookie",)),
        ({"AUTH_HEADER_TYPES": ["DPoP"]}, ResourcePolicy(), None),
    ],
    ids=["cookie", "header-and-cookie", "dpop-on", "mtls-header", "route-cookie", "dpop-scheme"],
)
def test_a_configuration_that_reads_more_than_the_header_has_no_plan(given, policy, locations):
    assert bearer_plan(_settings(**given), policy, locations) is None


def test_the_plan_takes_every_configured_scheme_but_dpop():
    plan = _plan(AUTH_HEADER_TYPES=["Bearer", "JWT", "DPoP"])
    assert plan.schemes == frozenset({"bearer", "jwt"})
    assert plan.credential("jwt abc.def.ghi") == "abc.def.ghi"
    assert plan.credential("DPoP abc.def.ghi") is None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer  abc",
        "Bearer abc ",
        " Bearer abc",
        "Bearer\tabc",
        "Bearer abc def",
        "Bearer a$c",
        "Basic dXNlcjpwYXNz",
        "DPoP abc",
        "dpop abc",
    ],
)
def test_a_header_the_full_path_parses_otherwise_is_left_to_it(header):
    # None: locate decides (anonymous, 400 invalid_request, DPoP, not ours).
    assert _plan().credential(header) is None
    assert _plan().verify(header, _never_verified, view=_unread) is None


def _never_verified(raw: str) -> Any:
    raise AssertionError("a header outside the plan was verified")


def _full(header: str, verifier: Any, policy: ResourcePolicy, view: RequestView) -> Outcome:
    step = locate(view, _settings(), policy, csrf_failure=lambda: None)
    assert isinstance(step, PresentedToken)
    return verify_request(view, step, verifier.verify, policy)


def _events(seen: list[Any]) -> list[tuple[str, int, Any, Any]]:
    return [(e.name, e.level, e.reason, e.fields.get("status")) for e in seen]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_an_accepted_token_is_the_full_paths_outcome_without_reading_the_request(
    keyring, make_verifier, scheme
):
    verifier = make_verifier()
    raw, _ = issue_token(keyring, verifier)
    header = f"{scheme} {raw}"
    plan = _plan()
    token = plan.verify(header, verifier.verify, view=_unread)
    full = _full(header, verifier, ResourcePolicy(), RequestView("GET", header))
    assert token == full.token
    assert plan.outcome(token) == full
    assert plan.outcome(token).refusal() is None


def _bad_signature(keyring: Any) -> str:
    head, body, signature = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa).split(".")
    return f"{head}.{body}.{signature[:-4]}AAAA"


@pytest.mark.parametrize(
    "token",
    [
        lambda keyring: sign({"alg": "RS256", "kid": "rsa-1"}, claims(exp=NOW - 60), keyring.rsa),
        lambda keyring: sign({"alg": "RS256", "kid": "nope"}, claims(), keyring.rsa),
        _bad_signature,
        lambda keyring: "abc.def",
    ],
    ids=["expired", "unknown-kid", "bad-signature", "not-a-jwt"],
)
def test_a_refused_token_is_the_full_paths_refusal_and_events(
    keyring, make_verifier, recorded_events, token
):
    raw = token(keyring)
    header = f"Bearer {raw}"
    verifier = make_verifier()
    planned = _plan().verify(header, verifier.verify, view=_unread)
    plan_events = _events(recorded_events)
    recorded_events.clear()
    full = _full(header, verifier, ResourcePolicy(), RequestView("GET", header))
    assert isinstance(planned, Outcome)
    assert planned.error is not None
    assert full.error is not None
    assert (planned.reason, planned.location, planned.presented) == (
        full.reason,
        full.location,
        full.presented,
    )
    assert planned.refusal() == full.refusal()
    assert planned.refusal() is not None
    assert planned.refusal().status in (401, 503)
    assert plan_events == _events(recorded_events) != []


def test_a_token_with_cnf_gets_the_sender_checks_reading_the_request(
    keyring, make_verifier, recorded_events
):
    # DPoP off: a DPoP-bound token sent as a bearer token is refused
    # (RFC 9449 section 7.2) by the same checks as on the full path.
    verifier = make_verifier()
    raw, _ = issue_token(keyring, verifier, cnf={"jkt": "x" * 43})
    header = f"Bearer {raw}"
    read: list[str] = []

    def view() -> RequestView:
        read.append("view")
        return RequestView("GET", header)

    planned = _plan().verify(header, verifier.verify, view=view)
    plan_events = _events(recorded_events)
    recorded_events.clear()
    full = _full(header, verifier, ResourcePolicy(), RequestView("GET", header))
    assert read == ["view"]
    assert isinstance(planned, Outcome)
    assert planned.reason == full.reason == "dpop_bound_token_as_bearer"
    assert planned.refusal() == full.refusal()
    assert plan_events == _events(recorded_events)


def test_averify_answers_as_verify(keyring, make_verifier, recorded_events):
    verifier = make_verifier()
    raw, verified = issue_token(keyring, verifier)
    plan = _plan()
    assert asyncio.run(plan.averify(f"Bearer {raw}", verifier.averify, view=_unread)) == verified
    refused = asyncio.run(plan.averify("Bearer abc.def", verifier.averify, view=_unread))
    assert isinstance(refused, Outcome)
    assert refused.reason == "malformed"
    assert asyncio.run(plan.averify("Basic abc", verifier.averify, view=_unread)) is None
    bound, _ = issue_token(keyring, verifier, cnf={"jkt": "x" * 43})
    outcome = asyncio.run(
        plan.averify(
            f"Bearer {bound}", verifier.averify, view=lambda: RequestView("GET", f"Bearer {bound}")
        )
    )
    assert isinstance(outcome, Outcome)
    assert outcome.reason == "dpop_bound_token_as_bearer"
