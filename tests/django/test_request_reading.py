"""The adapter reads only what the configuration uses (adapter overhead, issue 14)."""

from __future__ import annotations

from typing import Any

from django.test import RequestFactory

from jwt_guard_django._auth import authenticate


def test_cookies_are_not_parsed_when_only_the_header_carries_tokens(bearer: Any) -> None:
    request = RequestFactory().get("/", headers=bearer(), HTTP_COOKIE="access_token=x; a=b")
    outcome = authenticate(request)
    assert outcome.token is not None
    # WSGIRequest.COOKIES is a cached property: it lands in __dict__ once read.
    assert "COOKIES" not in request.__dict__


def test_the_token_cookie_is_read_when_cookies_are_a_location(
    configure: Any, make_token: Any
) -> None:
    configure(TOKEN_LOCATIONS=["cookie"])
    request = RequestFactory().get("/", HTTP_COOKIE=f"access_token={make_token()}")
    assert authenticate(request).token is not None
    assert "COOKIES" in request.__dict__


def test_a_bearer_request_does_not_read_the_host(bearer: Any) -> None:
    # get_host() refuses a Host outside ALLOWED_HOSTS; only a DPoP proof needs the URL.
    request = RequestFactory().get("/", headers=bearer(), HTTP_HOST="not-allowed.example")
    outcome = authenticate(request)
    assert outcome.token is not None
    assert outcome.refusal() is None
