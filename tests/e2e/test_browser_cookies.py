"""A real headless Chromium against a real server: HttpOnly session cookies and CSRF.

The Flask adapter's session routes in cookie mode, served by werkzeug's
WSGI server on loopback, are driven by a page the server itself serves
(same origin, as an application's front end would be). Chromium runs the
page's script with ``--dump-dom``; the script records what it saw into the
DOM, which the test reads back:

* after login the access and refresh tokens are in HttpOnly cookies that
  the page's JavaScript cannot read (``document.cookie`` has only the CSRF
  cookie);
* a cookie-authenticated ``POST`` without the CSRF header is refused (403),
  with it it succeeds, and a refresh works the same way;
* the refresh cookie is path-scoped: the browser does not send it to the API;
* after "log out everywhere" from a second client (a real HTTP client on
  loopback), the browser's revoked access cookie does not lock it out: it
  logs out (cookies cleared), logs in again and gets fresh, working cookies.

``http://localhost`` is a secure context, so Chromium keeps ``Secure``
cookies there without TLS.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

from tests.factories import FakeClock
from tests.flask.session_fixtures import PASSWORD, build_sessions_app

# A missing browser is a failure, not a skip: scripts/test installs it.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ISSUER = "https://issuer.browser.example"
AUDIENCE = "https://api.browser.example"


def page(steps: str) -> str:
    """A page whose script runs ``steps`` (JavaScript filling ``seen``) and shows ``seen``."""
    return """<!doctype html>
<html><body><pre id="result">pending</pre><script>
async function run() {
  const seen = {};
  const post = (url, body, headers) => fetch(url, {
    method: "POST",
    headers: Object.assign({"Content-Type": "application/json"}, headers || {}),
    body: JSON.stringify(body || {}),
  });
  const csrf = () => {
    const m = document.cookie.match(/(?:^|; )csrf_token=([^;]*)/);
    return m ? m[1] : "";
  };
  const credentials = {username: "alice", password: "__PASSWORD__"};
__STEPS__
  return seen;
}
run().then(
  seen => { document.getElementById("result").textContent = JSON.stringify(seen); },
  err => { document.getElementById("result").textContent = "error: " + err; },
);
</script></body></html>
""".replace("__STEPS__", steps).replace("__PASSWORD__", PASSWORD)


PAGE = page("""
  const login = await post("/auth/token", credentials);
  seen.login = login.status;
  seen.login_body = await login.json();
  seen.cookie_names = document.cookie.split("; ").map(c => c.split("=")[0]).sort();
  seen.me = (await fetch("/api/me")).status;
  seen.order_without_csrf = (await post("/api/orders")).status;
  seen.order_with_csrf = (await post("/api/orders", {}, {"X-CSRF-Token": csrf()})).status;
  seen.sent_to_api = await (await fetch("/api/cookies")).json();
  seen.refresh_without_csrf = (await post("/auth/refresh")).status;
  const before = csrf();
  seen.refresh_with_csrf = (await post("/auth/refresh", {}, {"X-CSRF-Token": before})).status;
  seen.csrf_rotated = csrf() !== before && csrf() !== "";
  seen.me_after_refresh = (await fetch("/api/me")).status;
  seen.logout = (await post("/auth/refresh/logout", {}, {"X-CSRF-Token": csrf()})).status;
  seen.cookie_names_after_logout = document.cookie ? document.cookie.split("; ").length : 0;
  seen.me_after_logout = (await fetch("/api/me")).status;
""")

AFTER_EVERYWHERE_PAGE = page("""
  seen.login = (await post("/auth/token", credentials)).status;
  seen.me = (await fetch("/api/me")).status;
  seen.second_device = await (await post("/test/second-device")).json();
  seen.me_after_everywhere = (await fetch("/api/me")).status;
  seen.logout = (await post("/auth/refresh/logout", {}, {"X-CSRF-Token": csrf()})).status;
  seen.cookies_after_logout = document.cookie;
  seen.login_again = (await post("/auth/token", credentials)).status;
  seen.cookie_names_after_login_again = document.cookie.split("; ").map(c => c.split("=")[0]);
  seen.me_after_login_again = (await fetch("/api/me")).status;
  const again = await post("/auth/refresh", {}, {"X-CSRF-Token": csrf()});
  seen.refresh_after_login_again = again.status;
""")


def second_device(base: str) -> dict[str, int]:
    """Another device of alice over real HTTP: log in, then log out everywhere."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    login = urllib.request.Request(
        base + "auth/token",
        data=json.dumps({"username": "alice", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with opener.open(login, timeout=10) as response:
        login_status = response.status
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
    everywhere = urllib.request.Request(
        base + "auth/logout-everywhere",
        data=b"{}",
        headers={
            "Content-Type": "application/json",
            "Cookie": f"access_token={jar['access_token'].value}; "
            f"csrf_token={jar['csrf_token'].value}",
            "X-CSRF-Token": jar["csrf_token"].value,
        },
        method="POST",
    )
    with opener.open(everywhere, timeout=10) as response:
        return {"login": login_status, "everywhere": response.status}


def make_app(key_dir: Path) -> Flask:
    # Injected time, started at the real time: the second device acts one
    # (fake) second after the browser's login, since "log out everywhere"
    # refuses tokens issued before the whole second it happened in.
    clock = FakeClock(float(int(time.time())))
    app = build_sessions_app(
        "jwt_guard_browser_test",
        key_dir,
        clock,
        {
            "JWT_GUARD_TOKEN_LOCATION": ["cookie"],
            "JWT_GUARD_SESSIONS_BACKEND": "memory",
            "JWT_GUARD_SESSIONS_MODE": "cookie",
        },
    )

    @app.get("/")
    def page() -> Response:
        return Response(PAGE, mimetype="text/html")

    @app.get("/after-everywhere")
    def after_everywhere_page() -> Response:
        return Response(AFTER_EVERYWHERE_PAGE, mimetype="text/html")

    @app.post("/test/second-device")
    def second_device_route() -> Any:
        # The page waits on this answer, so the second device acts exactly
        # between the browser's two steps, without sleeping.
        clock.advance(1)
        return jsonify(second_device(f"http://127.0.0.1:{request.environ['SERVER_PORT']}/"))

    return app


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("JWT_GUARD_KEY_PASSPHRASE", "browser test passphrase 0123456789")
    server = make_server("127.0.0.1", 0, make_app(tmp_path / "keys"), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def run_page(url: str, profile: Path) -> dict[str, Any]:
    """Load ``url`` in headless Chromium and return what the page's script recorded."""
    command = [
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
        f"--user-data-dir={profile}",
        # localhost is loopback; never let the resolver pick anything else.
        "--host-resolver-rules=MAP localhost 127.0.0.1",
        # Let the page's fetches finish before the DOM is dumped.
        "--virtual-time-budget=10000",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    match = re.search(r'<pre id="result">(.*?)</pre>', done.stdout, re.DOTALL)
    assert match is not None, f"no result in Chromium's DOM:\n{done.stdout}\n{done.stderr[-2000:]}"
    text = match.group(1)
    assert text.startswith("{"), f"the page did not finish: {text}\n{done.stderr[-2000:]}"
    return json.loads(text.replace("&quot;", '"').replace("&amp;", "&"))


def test_browser_keeps_tokens_out_of_script_reach_and_needs_csrf(
    served: str, tmp_path: Path
) -> None:
    seen = run_page(served, tmp_path / "profile")
    assert seen["login"] == 200
    # The body carries no token in cookie mode ...
    assert "access_token" not in seen["login_body"]
    assert "refresh_token" not in seen["login_body"]
    # ... and the HttpOnly cookies are invisible to the page's script.
    assert seen["cookie_names"] == ["csrf_token"]
    assert seen["me"] == 200
    assert seen["order_without_csrf"] == 403
    assert seen["order_with_csrf"] == 200
    # The path-scoped refresh cookie is not sent to the API.
    assert seen["sent_to_api"] == ["access_token", "csrf_token"]
    assert seen["refresh_without_csrf"] == 403
    assert seen["refresh_with_csrf"] == 200
    assert seen["csrf_rotated"] is True
    assert seen["me_after_refresh"] == 200
    assert seen["logout"] == 204
    assert seen["cookie_names_after_logout"] == 0
    assert seen["me_after_logout"] == 401


def test_after_logout_everywhere_elsewhere_the_browser_logs_out_and_in_again(
    served: str, tmp_path: Path
) -> None:
    seen = run_page(served + "after-everywhere", tmp_path / "profile")
    assert seen["login"] == 200
    assert seen["me"] == 200
    assert seen["second_device"] == {"login": 200, "everywhere": 204}
    # The browser's access cookie is revoked now ...
    assert seen["me_after_everywhere"] == 401
    # ... yet it does not lock the browser out of its own session routes.
    assert seen["logout"] == 204
    assert seen["cookies_after_logout"] == ""
    assert seen["login_again"] == 200
    assert seen["cookie_names_after_login_again"] == ["csrf_token"]
    assert seen["me_after_login_again"] == 200
    assert seen["refresh_after_login_again"] == 200
