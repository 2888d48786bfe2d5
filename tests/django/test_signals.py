"""token_verified and token_rejected, once per request, with the reason."""

from __future__ import annotations

import pytest

from jwt_guard_django.signals import token_rejected, token_verified


@pytest.fixture
def received():
    events: list[tuple[str, dict]] = []

    def on_verified(sender, **kwargs):
        events.append(("verified", kwargs))

    def on_rejected(sender, **kwargs):
        events.append(("rejected", kwargs))

    token_verified.connect(on_verified)
    token_rejected.connect(on_rejected)
    yield events
    token_verified.disconnect(on_verified)
    token_rejected.disconnect(on_rejected)


def test_token_verified_is_sent_once_with_request_and_token(client, bearer, received):
    # Middleware, then DRF authentication: one verification, one signal.
    assert client.get("/drf/me/", headers=bearer()).status_code == 200
    assert len(received) == 1
    kind, kwargs = received[0]
    assert kind == "verified"
    assert kwargs["token"].subject == "user-1"
    assert kwargs["request"].path == "/drf/me/"


def test_token_rejected_carries_the_reason_and_the_error(client, bearer, clock, received):
    headers = bearer()
    clock.advance(3600)
    assert client.get("/plain/", headers=headers).status_code == 401
    assert [(k, kw["reason"]) for k, kw in received] == [("rejected", "token_expired")]
    assert received[0][1]["error"].status == 401


def test_malformed_header_is_rejected_as_invalid_request(client, received):
    assert client.get("/plain/", headers={"Authorization": "Bearer"}).status_code == 400
    assert [(k, kw["reason"]) for k, kw in received] == [("rejected", "invalid_request")]


def test_no_signal_for_a_request_without_token(client, received):
    assert client.get("/plain/").status_code == 200
    assert received == []


async def test_signals_are_sent_on_the_async_path(async_client, bearer, received):
    assert (await async_client.get("/plain-async/", headers=bearer())).status_code == 200
    assert (
        await async_client.get("/plain-async/", headers={"Authorization": "Bearer x"})
    ).status_code == 401
    assert [(k, kw.get("reason")) for k, kw in received] == [
        ("verified", None),
        ("rejected", "malformed"),
    ]


def test_rejections_reach_the_core_security_events(client, bearer, clock):
    from jwt_guard_core import subscribe

    events = []
    unsubscribe = subscribe(events.append)
    try:
        headers = bearer()
        clock.advance(3600)
        client.get("/plain/", headers=headers)
        client.get("/plain/", headers={"Authorization": "Bearer a b"})
    finally:
        unsubscribe()
    assert [(e.name, e.reason) for e in events] == [
        ("token_rejected", "token_expired"),
        ("token_rejected", "invalid_request"),
    ]
