"""Deeply nested JSON bodies on the unauthenticated session routes are a 400.

CPython's ``json`` recurses per nesting level and raises ``RecursionError``
near 1000 levels; on login, refresh and logout, whose bodies anyone can
send, that was an unauthenticated 500. The core bounds the body's size and
nesting before parsing (``read_json_body``), so both adapters answer 400
``invalid_request`` for ``[[[[...`` or ``{"a":{"a":...`` at any depth.
A token's own header and payload go through the same bound and are
``malformed``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from jwt_guard_core import MalformedToken, Verifier
from tests.django.session_fixtures import alice, guard_sessions, key_dir
from tests.factories import KeyRing, claims, sign
from tests.flask.session_fixtures import SessionsApp, sessions_app
from tests.security.helpers import Rejects

__all__ = ["alice", "guard_sessions", "key_dir", "sessions_app"]

DEEP_BODIES = {
    "arrays-100000": b"[" * 100_000,
    "objects-3000": b'{"a":' * 3000,
    "closed-arrays-5000": b"[" * 5000 + b"]" * 5000,
}
DESCRIPTIONS = ("The body is too large.", "The JSON body is nested too deeply.")


def _assert_invalid_request(status: int, body: Any) -> None:
    assert status == 400
    assert body["error"] == "invalid_request"
    assert body["error_description"] in DESCRIPTIONS


@pytest.mark.django_db
@pytest.mark.parametrize("raw", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
@pytest.mark.parametrize("path", ["/auth/token/", "/auth/refresh/", "/auth/refresh/logout/"])
def test_django_session_routes_answer_deep_json_with_400(
    guard_sessions: Callable[..., Any], alice: Any, path: str, raw: bytes
) -> None:
    guard_sessions()
    response = Client().post(path, data=raw, content_type="application/json")
    _assert_invalid_request(response.status_code, response.json())


@pytest.mark.parametrize("raw", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
@pytest.mark.parametrize("path", ["/auth/token", "/auth/refresh", "/auth/refresh/logout"])
def test_flask_session_routes_answer_deep_json_with_400(
    sessions_app: SessionsApp, path: str, raw: bytes
) -> None:
    client = sessions_app().test_client()
    response = client.post(path, data=raw, content_type="application/json")
    _assert_invalid_request(response.status_code, response.get_json())


@pytest.mark.parametrize(
    "nest", ["[" * 5000, "[" * 2000 + "]" * 2000, '{"a":' * 1000], ids=["open", "closed", "objects"]
)
def test_a_token_payload_nested_deeply_within_the_size_limit_is_malformed(
    make_verifier: Callable[..., Verifier], keyring: KeyRing, rejects: Rejects, nest: str
) -> None:
    payload = json.dumps(claims())[:-1] + ',"nest":' + nest
    token = sign({"alg": "RS256", "kid": "rsa-1"}, payload.encode(), keyring.rsa)
    assert len(token) <= 8192
    rejects(make_verifier(), token, MalformedToken, "malformed")
