"""The demo page in a real headless Chromium, through the whole story, and a screenshot.

The demo is served exactly as ``jwt_guard_demo.serve`` serves it (bound to
127.0.0.1 first, the issuer named after the real port), with the clock
injected. A test-only page at ``/test/story`` holds the real demo page in a
same-origin iframe and presses its buttons one after another, waiting for
each action (``window.jwtGuardDemo.pending``), and writes what the page
showed into its DOM for ``--dump-dom``. The story: log in, call the API
(the claims shown), the scope routes, refresh, rotate the signing key (new
kid in the JWKS, the next token signed with it), every attack refused with
its reason, the replayed refresh token ending the session, log in, log
out, log in again, sign in a second device, log out everywhere: the
browser's cookies are gone and the second device's token is refused
(``revoked``).

A second Chromium run plays the story again and saves a screenshot to
``$JWT_GUARD_TEST_ARTIFACTS/demo.png`` (default ``test-artifacts/demo.png``
in the checkout).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Response, request

from jwt_guard_demo import DemoServer
from tests.demo.demo_fixtures import open_demo, serving, start_clock
from tests.e2e.test_browser_cookies import CHROMIUM
from tests.factories import FakeClock

ROOT = Path(__file__).resolve().parents[2]

STORY = """<!doctype html>
<html><head><style>
body { margin: 0 } iframe { border: 0; width: 100%; height: 900px } #result { display: none }
</style></head>
<body><iframe id="demo" src="/"></iframe><pre id="result">pending</pre><script>
async function story() {
  const frame = document.getElementById("demo");
  if (!frame.contentWindow.jwtGuardDemo || frame.contentDocument.readyState !== "complete") {
    await new Promise(resolve => frame.addEventListener("load", resolve, {once: true}));
  }
  const w = frame.contentWindow, d = frame.contentDocument, demo = w.jwtGuardDemo;
  await demo.pending;
  const seen = {};
  const advance = seconds => fetch("/test/advance?seconds=" + seconds, {method: "POST"});
  const press = async (selector) => {
    d.querySelector(selector).click();
    await demo.pending;
  };
  const act = async (name, key) => {
    await press('button[data-action="' + name + '"]');
    return JSON.parse(JSON.stringify(demo.results[key || name]));
  };
  const shown = id => { const e = d.getElementById(id); return e ? e.textContent : null; };

  seen.jwks_at_start = demo.results.jwks;
  d.getElementById("password").value = "__PASSWORD__";
  seen.login = await act("login");
  seen.me = await act("me");
  seen.me_card = shown("card-me");
  seen.orders = await act("orders");
  seen.admin = await act("admin");
  seen.admin_card = shown("card-admin");
  await advance(1);
  seen.refresh = await act("refresh");
  seen.rotate = await act("rotate");
  seen.jwks_after_rotate = demo.results.jwks;
  seen.jwks_table = shown("jwks-keys");
  seen.me_after_rotate = await act("me");
  await advance(1);
  seen.refresh_after_rotate = await act("refresh");
  seen.me_new_key = await act("me");
  seen.attacks = {};
  seen.attack_cards = {};
  for (const kind of __ATTACKS__) {
    await press('button[data-kind="' + kind + '"]');
    seen.attacks[kind] = demo.results["attack:" + kind];
    seen.attack_cards[kind] = shown("card-attack-" + kind);
  }
  await advance(1);
  seen.replay = await act("replay");
  seen.replay_card = shown("card-replay");
  seen.me_after_replay = await act("me");
  seen.refresh_after_replay = await act("refresh");
  await advance(1);
  seen.login_after_replay = await act("login");
  seen.logout = await act("logout");
  seen.me_after_logout = await act("me");
  await advance(1);
  seen.login_again = await act("login");
  seen.me_after_login_again = await act("me");
  seen.device_login = await act("deviceLogin");
  seen.device_call = await act("deviceCall");
  await advance(1);
  seen.everywhere = await act("everywhere");
  seen.me_after_everywhere = await act("me");
  seen.device_after_everywhere = await act("deviceCall");
  seen.device_card = shown("card-deviceCall");
  seen.visible_cookies_at_end = shown("visible-cookies");
  seen.server_log = shown("events");
  seen.page_height = d.documentElement.scrollHeight;
  frame.style.height = seen.page_height + "px";
  return seen;
}
story().then(
  seen => { document.getElementById("result").textContent = JSON.stringify(seen); },
  err => { document.getElementById("result").textContent = "error: " + err + "\\n" + err.stack; },
);
</script></body></html>
"""

ATTACK_REASONS = {
    "alg-none": "alg_not_allowed",
    "tampered-signature": "bad_signature",
    "expired": "token_expired",
    "wrong-audience": "bad_audience",
    "hs256-public-key": "alg_not_allowed",
}
INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"'


def _add_story_routes(demo: DemoServer, clock: FakeClock) -> None:
    app = demo.app

    @app.get("/test/story")
    def story() -> Response:
        page = STORY.replace("__PASSWORD__", demo.password)
        page = page.replace("__ATTACKS__", json.dumps(sorted(ATTACK_REASONS)))
        response = Response(page, mimetype="text/html")
        # The driver's own script is inline; the demo page keeps its strict policy.
        response.headers["Content-Security-Policy"] = "script-src 'unsafe-inline'"
        return response

    @app.post("/test/advance")
    def advance() -> Response:
        clock.advance(float(request.args["seconds"]))
        return Response(status=204)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    clock = start_clock()
    demo = open_demo(tmp_path, clock)
    _add_story_routes(demo, clock)
    with serving(demo) as url:
        yield url


def _chromium(profile: Path, *mode: str) -> list[str]:
    return [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        # The story's fetches finish before the DOM is dumped or the picture taken.
        "--virtual-time-budget=30000",
        *mode,
    ]


def run_story(url: str, profile: Path) -> dict[str, Any]:
    command = [*_chromium(profile, "--dump-dom"), url + "/test/story"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    match = re.search(r'<pre id="result">(.*?)</pre>', done.stdout, re.DOTALL)
    assert match is not None, f"no result in Chromium's DOM:\n{done.stdout}\n{done.stderr[-2000:]}"
    text = match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    text = text.replace("&amp;", "&")
    assert text.startswith("{"), f"the story did not finish: {text}\n{done.stderr[-2000:]}"
    seen: dict[str, Any] = json.loads(text)
    return seen


def artifact_dir() -> Path:
    """``$JWT_GUARD_TEST_ARTIFACTS``, else ``test-artifacts/`` in the checkout."""
    return Path(os.environ.get("JWT_GUARD_TEST_ARTIFACTS") or ROOT / "test-artifacts")


def screenshot(url: str, profile: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    command = [
        *_chromium(profile, f"--screenshot={path}", "--window-size=1280,5300"),
        url + "/test/story",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert path.is_file(), f"Chromium saved no screenshot:\n{done.stderr[-2000:]}"


def _reasons(result: dict[str, Any]) -> list[str]:
    return [e["reason"] for e in result["events"] if e["reason"]]


def test_the_demo_story_in_a_real_browser(served: str, tmp_path: Path) -> None:
    seen = run_story(served, tmp_path / "profile")

    # The page found the issuer's one key through discovery and the JWKS.
    first_kid = seen["jwks_at_start"]["active"]
    assert seen["jwks_at_start"]["kids"] == [first_kid]
    assert seen["jwks_at_start"]["discovery"] == {
        "issuer": served,
        "jwks_uri": served + "/.well-known/jwks.json",
    }

    # Login: the tokens are HttpOnly; the page's script sees only the CSRF cookie.
    assert seen["login"]["status"] == 200
    assert seen["login"]["visible_cookies"] == ["csrf_token"]
    assert "access_token" not in seen["login"]["body"]

    # The API saw a token the issuer signed; the page shows its claims.
    me = seen["me"]
    assert me["status"] == 200
    assert me["body"]["claims"]["sub"] == "user-demo"
    assert me["body"]["claims"]["iss"] == served
    assert me["body"]["header"] == {"alg": "ES256", "kid": first_kid, "typ": "at+jwt"}
    assert '"sub": "user-demo"' in seen["me_card"]

    # Scopes: granted orders:read, refused admin with its WWW-Authenticate and reason.
    assert seen["orders"]["status"] == 200
    assert seen["admin"]["status"] == 403
    assert seen["admin"]["www_authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="admin"'
    )
    assert seen["admin"]["reason"] == "insufficient_scope"
    assert "insufficient_scope" in seen["admin_card"]

    assert seen["refresh"]["status"] == 200

    # Rotation: a new kid signs; the old one stays published for its tokens.
    rotate = seen["rotate"]
    assert rotate["status"] == 200
    new_kid = rotate["body"]["active_kid"]
    assert rotate["body"]["previous_kid"] == first_kid
    assert new_kid != first_kid
    assert seen["jwks_after_rotate"]["active"] == new_kid
    assert sorted(seen["jwks_after_rotate"]["kids"]) == sorted([first_kid, new_kid])
    assert new_kid in seen["jwks_table"]
    assert seen["me_after_rotate"]["body"]["header"]["kid"] == first_kid
    assert seen["refresh_after_rotate"]["status"] == 200
    assert seen["me_new_key"]["body"]["header"]["kid"] == new_kid

    # Every attack refused: the API's status and header, jwt-guard's reason.
    for kind, reason in ATTACK_REASONS.items():
        attack = seen["attacks"][kind]
        assert attack["status"] == 401, kind
        assert attack["www_authenticate"] == INVALID_TOKEN, kind
        assert attack["reason"] == reason, kind
        assert reason in _reasons(attack), kind
        assert reason in seen["attack_cards"][kind], kind
        assert "refused 401" in seen["attack_cards"][kind], kind

    # The replayed refresh token: reuse detected, the session revoked.
    replay = seen["replay"]
    assert replay["status"] == 400
    assert replay["www_authenticate"] is None
    assert replay["reason"] == "refresh_token_reused"
    owner, thief, fresh = replay["steps"]
    assert owner["status"] == 200
    assert (thief["status"], thief["reason"]) == (400, "refresh_token_reused")
    assert (fresh["status"], fresh["reason"]) == (401, "revoked")
    assert "refresh_token_reused" in seen["replay_card"]
    # ... so the browser's own session is over: log in again.
    assert seen["me_after_replay"]["status"] == 401
    assert seen["me_after_replay"]["reason"] == "revoked"
    assert seen["refresh_after_replay"]["status"] == 400
    assert seen["refresh_after_replay"]["reason"] == "refresh_family_revoked"
    assert seen["login_after_replay"]["status"] == 200
    assert seen["logout"]["status"] == 204
    assert seen["login_again"]["status"] == 200
    assert seen["me_after_logout"]["status"] == 401
    assert seen["me_after_login_again"]["status"] == 200

    # Log out everywhere: cookies gone, the API refuses.
    assert seen["everywhere"]["status"] == 204
    assert seen["me_after_everywhere"]["status"] == 401
    assert seen["me_after_everywhere"]["www_authenticate"] == 'Bearer realm="api"'
    assert seen["visible_cookies_at_end"] == "none"
    # ... and so does it for the other device's token, still within its lifetime.
    assert seen["device_login"]["status"] == 200
    assert seen["device_call"]["status"] == 200
    assert seen["device_call"]["body"]["subject"] == "user-demo"
    device = seen["device_after_everywhere"]
    assert (device["status"], device["reason"]) == (401, "revoked")
    assert device["www_authenticate"] == INVALID_TOKEN
    assert "revoked" in seen["device_card"]

    # The server log on the page holds what jwt-guard recorded.
    for name in ("login_succeeded", "key_rotated", "refresh_token_reuse", "subject_revoked"):
        assert name in seen["server_log"], name


def test_the_demo_story_screenshot_is_saved(served: str, tmp_path: Path) -> None:
    path = artifact_dir() / "demo.png"
    screenshot(served, tmp_path / "profile", path)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    print(f"demo screenshot: {path}")
