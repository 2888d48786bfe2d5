"""Security events of the remote key set, and the health() snapshot."""

from __future__ import annotations

import json
import logging

import pytest

from jwt_guard_core import KeySourceUnavailable, UnknownKid
from tests.core.remote_servers import named

pytest_plugins = ["tests.core.remote_fixtures"]

MAX_AGE = {"Cache-Control": "max-age=600"}


def test_a_successful_fetch_emits_jwks_fetch_ok_with_latency(jwks_server, make_jwks, jwk_a, seen):
    jwks_server.serve_keys(jwk_a, headers=MAX_AGE)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    (ok,) = named(seen, "jwks_fetch_ok")
    assert ok.level == logging.INFO
    assert ok.fields["url"] == jwks_server.url()
    assert ok.fields["status"] == 200
    assert ok.fields["keys"] == 1
    assert ok.fields["ttl"] == 600
    assert ok.fields["latency_ms"] > 0


def test_a_failed_fetch_emits_jwks_fetch_failed_with_reason_and_retry(jwks_server, make_jwks, seen):
    jwks_server.serve("no", status=500, content_type="text/plain")
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    (failed,) = named(seen, "jwks_fetch_failed")
    assert failed.level == logging.WARNING
    assert failed.reason == "http_status"
    assert failed.fields["error"] == "HTTP 500"
    assert failed.fields["failures"] == 1
    assert 0.5 <= failed.fields["retry_in"] <= 1
    assert failed.fields["serving_cached"] is False


def test_a_changed_set_emits_the_added_and_removed_kids(
    jwks_server, make_jwks, clock, jwk_a, jwk_b, seen
):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    assert named(seen, "jwks_keys_changed") == []  # the first load is not a change
    jwks_server.serve_keys(jwk_b)
    clock.advance(301)
    jwks.warm()
    (changed,) = named(seen, "jwks_keys_changed")
    assert changed.fields["added"] == ["b"]
    assert changed.fields["removed"] == ["a"]
    clock.advance(301)
    jwks.warm()
    assert len(named(seen, "jwks_keys_changed")) == 1


def test_the_stale_event_is_emitted_once_per_outage(jwks_server, make_jwks, clock, jwk_a, seen):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url(), refresh_ahead=0)
    jwks.warm()
    jwks_server.serve("no", status=503, content_type="text/plain")
    for _ in range(5):
        clock.advance(301)
        jwks.get_key("a", "RS256")
        jwks.close()
    assert len(named(seen, "jwks_fetch_failed")) == 5
    assert len(named(seen, "jwks_stale")) == 1
    # Recovery, then a second outage: a second stale event.
    jwks_server.serve_keys(jwk_a)
    clock.advance(301)
    jwks.get_key("a", "RS256")
    jwks.close()
    jwks_server.serve("no", status=503, content_type="text/plain")
    clock.advance(301)
    jwks.get_key("a", "RS256")
    jwks.close()
    assert len(named(seen, "jwks_stale")) == 2


def test_a_refresh_ahead_failure_reports_stale_only_once_the_keys_expire(
    jwks_server, make_jwks, clock, jwk_a, seen
):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    jwks.warm()
    jwks_server.serve("no", status=503, content_type="text/plain")
    clock.advance(250)
    jwks.get_key("a", "RS256")
    jwks.close()
    assert len(named(seen, "jwks_fetch_failed")) == 1
    assert named(seen, "jwks_stale") == []
    assert jwks.health()["state"] == "ok"
    clock.advance(51)
    jwks.get_key("a", "RS256")
    jwks.close()
    assert len(named(seen, "jwks_stale")) == 1


def test_events_reach_the_jwt_guard_security_logger(jwks_server, make_jwks, jwk_a, caplog):
    jwks_server.serve_keys(jwk_a)
    jwks = make_jwks(jwks_server.url())
    with caplog.at_level(logging.INFO, logger="jwt_guard.security"):
        jwks.warm()
        with pytest.raises(UnknownKid):
            jwks.get_key("zzz", "RS256")
    records = {r.jwt_guard_event: r for r in caplog.records if hasattr(r, "jwt_guard_event")}
    assert records["jwks_fetch_ok"].latency_ms > 0
    assert records["jwks_cooldown"].kid == "zzz"


def test_health_moves_from_cold_to_ok_to_stale_to_unavailable(
    jwks_server, make_jwks, clock, jwk_a, jwk_b
):
    jwks_server.serve_keys(jwk_a, jwk_b, headers=MAX_AGE)
    jwks = make_jwks(jwks_server.url(), stale_ttl=1000, refresh_ahead=0)
    cold = jwks.health()
    assert cold == {
        "state": "cold",
        "url": jwks_server.url(),
        "issuer": None,
        "last_success": None,
        "age": None,
        "expires_in": None,
        "kids": [],
        "last_error": None,
        "failures": 0,
        "retry_in": None,
    }
    jwks.warm()
    fetched_at = clock()
    clock.advance(100)
    ok = jwks.health()
    assert ok["state"] == "ok"
    assert ok["last_success"] == fetched_at
    assert ok["age"] == 100
    assert ok["expires_in"] == 500
    assert ok["kids"] == ["a", "b"]

    jwks_server.serve("no", status=500, content_type="text/plain")
    clock.advance(501)
    jwks.get_key("a", "RS256")
    jwks.close()
    stale = jwks.health()
    assert stale["state"] == "stale"
    assert stale["last_error"] == "http_status: HTTP 500"
    assert stale["failures"] == 1
    assert stale["kids"] == ["a", "b"]

    clock.advance(1000)
    with pytest.raises(KeySourceUnavailable):
        jwks.get_key("a", "RS256")
    down = jwks.health()
    assert down["state"] == "unavailable"
    assert down["failures"] == 2
    assert down["age"] == 1601
    assert json.loads(json.dumps(down)) == down  # ready for a health endpoint


def test_health_is_unavailable_when_the_first_fetch_fails(jwks_server, make_jwks):
    jwks_server.serve("no", status=500, content_type="text/plain")
    jwks = make_jwks(jwks_server.url())
    assert jwks.warm() is False
    health = jwks.health()
    assert health["state"] == "unavailable"
    assert health["retry_in"] > 0
    assert health["kids"] == []
