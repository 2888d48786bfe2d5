"""The attack endpoints: each forged token goes through the real API and is refused for its reason.

The reason reported is the one jwt-guard emitted while the API handled the
request, so it changes when the server's answer changes (the attacker's
rate limit below), and it never appears in what the API sent back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from jwt_guard_core import SecurityEvent, subscribe
from jwt_guard_core.encoding import b64url_encode
from jwt_guard_demo import DemoServer
from jwt_guard_demo.attacks import ATTACKER_ADDR, ATTACKS, active_public_pem
from jwt_guard_flask import get_key_manager

from .demo_fixtures import csrf_header, log_in

INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"'
EXPECTED = {
    "alg-none": "alg_not_allowed",
    "tampered-signature": "bad_signature",
    "expired": "token_expired",
    "wrong-audience": "bad_audience",
    "hs256-public-key": "alg_not_allowed",
}


def test_every_attack_button_has_a_case_here() -> None:
    assert set(ATTACKS) == set(EXPECTED)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_attack_is_refused_with_its_reason(kind: str, demo: DemoServer) -> None:
    seen: list[SecurityEvent] = []
    unsubscribe = subscribe(seen.append)
    try:
        response = demo.app.test_client().post(f"/demo/attack/{kind}")
    finally:
        unsubscribe()
    assert response.status_code == 200
    report = response.get_json()
    assert report["status"] == 401
    assert report["www_authenticate"] == INVALID_TOKEN
    assert report["reason"] == EXPECTED[kind]
    # The reason is the one jwt-guard's own events carried for this request.
    rejected = [e for e in seen if e.name == "token_rejected"]
    assert [e.reason for e in rejected] == [EXPECTED[kind]]
    assert [e["reason"] for e in report["events"] if e["event"] == "token_rejected"] == [
        EXPECTED[kind]
    ]
    # What the API itself answered carries no reason.
    assert report["body"]["error"] == "invalid_token"
    assert EXPECTED[kind] not in json.dumps(report["body"])


def test_forged_tokens_are_what_their_buttons_say(demo: DemoServer) -> None:
    client = demo.app.test_client()
    reports = {kind: client.post(f"/demo/attack/{kind}").get_json() for kind in EXPECTED}
    keys = get_key_manager(demo.app)
    kid = keys.active_key().kid
    assert reports["alg-none"]["decoded"]["header"] == {"alg": "none", "typ": "at+jwt"}
    assert reports["alg-none"]["token"].endswith(".")
    assert reports["tampered-signature"]["decoded"]["header"]["kid"] == kid
    expired = reports["expired"]["decoded"]["claims"]
    assert expired["exp"] < demo_now(demo)
    assert reports["wrong-audience"]["decoded"]["claims"]["aud"] == "https://other-api.example"
    hs = reports["hs256-public-key"]
    assert hs["decoded"]["header"] == {"alg": "HS256", "typ": "at+jwt", "kid": kid}
    # Signed with the PEM of the active public key as the HMAC secret.
    head, payload, signature = hs["token"].split(".")
    mac = hmac.new(active_public_pem(keys), f"{head}.{payload}".encode(), hashlib.sha256)
    assert signature == b64url_encode(mac.digest())
    assert active_public_pem(keys).startswith(b"-----BEGIN PUBLIC KEY-----")


def demo_now(demo: DemoServer) -> float:
    clock = demo.app.config["JWT_GUARD_CLOCK"]
    return float(clock())


def test_unknown_attack_is_404(demo: DemoServer) -> None:
    response = demo.app.test_client().post("/demo/attack/sql-injection")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found"}


def test_the_attacker_meets_the_rate_limit_not_the_person_at_the_page(
    demo: DemoServer, browser: Any
) -> None:
    assert log_in(browser, demo).status_code == 200
    client = demo.app.test_client()
    reports = [client.post("/demo/attack/tampered-signature").get_json() for _ in range(21)]
    assert [r["status"] for r in reports[:20]] == [401] * 20
    limited = reports[20]
    assert limited["status"] == 429
    assert limited["reason"] == "rate_limited"
    assert any(
        e["event"] == "rate_limited" and e["fields"].get("client") == ATTACKER_ADDR
        for e in limited["events"]
    )
    # The person's own requests come from another address and still work.
    assert browser.get("/api/me").status_code == 200


def test_replayed_refresh_token_revokes_the_session(demo: DemoServer, browser: Any) -> None:
    assert log_in(browser, demo).status_code == 200
    response = browser.post("/auth/refresh/demo-replay", headers=csrf_header(browser))
    assert response.status_code == 200
    report = response.get_json()
    assert (report["status"], report["www_authenticate"]) == (400, None)
    assert report["reason"] == "refresh_token_reused"
    assert report["body"]["error"] == "invalid_grant"
    owner, thief, fresh = report["steps"]
    assert owner["status"] == 200
    assert (thief["status"], thief["reason"]) == (400, "refresh_token_reused")
    assert any(e["event"] == "refresh_token_reuse" for e in thief["events"])
    assert (fresh["status"], fresh["reason"]) == (401, "revoked")
    # The browser got the owner's new cookies, and they are dead: log in again.
    assert browser.get("/api/me").status_code == 401
    again = browser.post("/auth/refresh", headers=csrf_header(browser))
    assert again.status_code == 400
    assert "refresh_token" not in json.dumps(report["steps"][0]["body"] or {})


def test_replay_needs_csrf_proof_and_a_session(demo: DemoServer, browser: Any) -> None:
    assert browser.post("/auth/refresh/demo-replay").status_code == 403
    assert log_in(browser, demo).status_code == 200
    assert browser.post("/auth/refresh/demo-replay").status_code == 403
    anonymous = demo.app.test_client()
    anonymous.set_cookie("csrf_token", "x")
    refused = anonymous.post("/auth/refresh/demo-replay", headers={"X-CSRF-Token": "x"})
    assert refused.status_code == 400
    assert "log in first" in refused.get_json()["error"]
