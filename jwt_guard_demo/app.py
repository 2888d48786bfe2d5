"""The demo application: an issuer, a protected API and the page, in one Flask app.

Built only from jwt-guard's public pieces, the way a user would build it:

* the issuing side from ``JWT_GUARD_ISSUING_*`` keys over a file key store
  in the data folder (``/.well-known/jwks.json``,
  ``/.well-known/openid-configuration``);
* login sessions in cookie mode over SQLite (``/auth/token``,
  ``/auth/refresh``, ``/auth/refresh/logout``, ``/auth/logout-everywhere``):
  HttpOnly, ``SameSite=Strict`` token cookies and a double-submit CSRF cookie;
* a protected API (``/api/me``, ``/api/orders`` needing ``orders:read``,
  ``/api/admin`` needing ``admin``, which the demo user lacks), verified by
  the Flask adapter with the key manager itself as the key source, so the
  verifier needs no HTTP round trip to its own JWKS;
* demo-only routes under ``/demo`` (and ``/auth/refresh/demo-replay``) for
  what a real API never offers: key rotation from a button, the attack
  buttons, a second device of the user and the server's security events.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, abort, jsonify, request

from jwt_guard_core import subscribe
from jwt_guard_core.cli import key_rows
from jwt_guard_core.signing import KeyStoreError
from jwt_guard_flask import (
    JWTGuard,
    current_token,
    get_key_manager,
    get_sessions,
    issuing_blueprint,
    jwt_required,
    require_scopes,
)

from . import attacks
from .data import DemoData, DemoUser
from .device import SecondDevice
from .recorder import EventLog

__all__ = ["PASSPHRASE_ENV", "DemoState", "create_app", "get_state"]

#: The variable the demo hands its key-store passphrase through, inside this process only.
PASSPHRASE_ENV = "JWT_GUARD_DEMO_KEY_PASSPHRASE"  # noqa: S105 - a variable name
EXTENSION = "jwt_guard_demo"
ALGORITHM = "ES256"

# The page and its assets come from this package and nowhere else; the
# browser enforces it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


@dataclass(frozen=True)
class DemoState:
    """What the demo routes need: the user, the data folder, the event log and its issuer."""

    user: DemoUser
    data: DemoData
    log: EventLog
    issuer: str
    audience: str
    unsubscribe: Callable[[], None]
    device: SecondDevice


def get_state(app: Flask) -> DemoState:
    state = app.extensions[EXTENSION]
    assert isinstance(state, DemoState)
    return state


@contextmanager
def _passphrase(value: str) -> Iterator[None]:
    """Offer the store passphrase where the issuing settings read it, then take it back."""
    previous = os.environ.get(PASSPHRASE_ENV)
    os.environ[PASSPHRASE_ENV] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[PASSPHRASE_ENV]
        else:
            os.environ[PASSPHRASE_ENV] = previous


def create_app(
    data: DemoData,
    user: DemoUser,
    *,
    issuer: str,
    clock: Callable[[], float] | None = None,
) -> Flask:
    """The demo app for the prepared ``data`` folder, signing as ``issuer`` (this server's URL).

    ``clock`` (Unix time) is injected by tests; the demo runs on real time.
    The app subscribes an :class:`EventLog` to jwt-guard's security events;
    ``get_state(app).unsubscribe()`` ends that when the app is done.
    """
    audience = f"{issuer}/api"
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    app.config.update(
        JWT_GUARD_ISSUING_KEY_DIR=str(data.key_dir),
        JWT_GUARD_ISSUING_ISSUER=issuer,
        JWT_GUARD_ISSUING_AUDIENCE=audience,
        JWT_GUARD_ISSUING_ALGORITHM=ALGORITHM,
        JWT_GUARD_ISSUING_PASSPHRASE_ENV=PASSPHRASE_ENV,
        JWT_GUARD_ALGORITHMS=[ALGORITHM],
        JWT_GUARD_ISSUER=issuer,
        JWT_GUARD_AUDIENCE=audience,
        JWT_GUARD_EXPECTED_TYPE="at+jwt",
        JWT_GUARD_TOKEN_LOCATION=["header", "cookie"],
        JWT_GUARD_SESSIONS_BACKEND="sqlite",
        JWT_GUARD_SESSIONS_SQLITE_PATH=str(data.sessions_path),
        JWT_GUARD_SESSIONS_MODE="cookie",
    )
    if clock is not None:
        app.config["JWT_GUARD_CLOCK"] = clock
    with _passphrase(data.passphrase):
        # The store is opened here, once; nothing reads the variable later.
        keys = get_key_manager(app)
        keys.active_key()
        app.config["JWT_GUARD_KEYS"] = keys
        guard = JWTGuard(app)
        app.register_blueprint(issuing_blueprint)

    @guard.credentials_loader
    def check_credentials(username: str, password: str) -> Any:
        if not user.check(username, password):
            return None
        return user.subject, list(user.scopes)

    app.register_blueprint(guard.sessions_blueprint(), url_prefix="/auth")

    log = EventLog()
    app.extensions[EXTENSION] = DemoState(
        user=user,
        data=data,
        log=log,
        issuer=issuer,
        audience=audience,
        unsubscribe=subscribe(log),
        device=SecondDevice(),
    )
    _api_routes(app)
    _demo_routes(app)

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    return app


def _api_routes(app: Flask) -> None:
    @app.get("/api/me")
    @jwt_required
    def me() -> Any:
        """What the API saw: the verified token's header and claims."""
        token = current_token
        return jsonify(
            subject=token.subject,
            kid=token.kid,
            scopes=sorted(token.scopes),
            header=dict(token.header),
            claims=dict(token.claims),
        )

    @app.get("/api/orders")
    @require_scopes("orders:read")
    def orders() -> Any:
        return jsonify(scope_needed="orders:read", orders=[{"id": 1, "item": "demo widget"}])

    @app.get("/api/admin")
    @require_scopes("admin")
    def admin() -> Any:
        return jsonify(scope_needed="admin", secret_setting=True)


def _demo_routes(app: Flask) -> None:
    @app.get("/")
    def page() -> Response:
        return app.send_static_file("index.html")

    @app.get("/demo/info")
    def info() -> Any:
        state = get_state(app)
        return jsonify(
            username=state.user.username,
            issuer=state.issuer,
            audience=state.audience,
            data_dir=str(state.data.root),
            attacks=[
                {"kind": a.kind, "title": a.title, "tries": a.tries}
                for a in attacks.ATTACKS.values()
            ],
            events_seq=state.log.last_seq,
        )

    @app.get("/demo/keys")
    def keys() -> Any:
        """Every stored key's kid, state and times (never key material)."""
        manager = get_key_manager(app)
        return jsonify(active=manager.active_key().kid, keys=key_rows(manager.list_keys()))

    @app.post("/demo/rotate")
    @jwt_required
    def rotate() -> Any:
        """Rotate the signing key now; a cookie caller needs the CSRF header like any POST."""
        manager = get_key_manager(app)
        previous = manager.active_key().kid
        try:
            info = manager.rotate()
        except KeyStoreError:
            return jsonify(error="the key store cannot be written"), 503
        return jsonify(
            previous_kid=previous,
            active_kid=info.kid,
            keys=key_rows(manager.list_keys()),
        )

    @app.post("/demo/attack/<kind>")
    def attack(kind: str) -> Any:
        if kind not in attacks.ATTACKS:
            abort(404)
        state = get_state(app)
        return jsonify(attacks.run(app, state.log, state.user, kind))

    # Under the refresh path, so the browser sends the path-scoped refresh cookie.
    @app.post("/auth/refresh/demo-replay")
    def replay() -> Any:
        sessions = get_sessions(app)
        policy = sessions.cookie_policy()
        if not policy.csrf_valid(request.cookies, dict(request.headers)):
            return jsonify(error="csrf_failed"), 403
        token = request.cookies.get(policy.refresh_cookie)
        if not token:
            return jsonify(error="no refresh cookie: log in first"), 400
        outcome = attacks.replay_refresh_token(
            app,
            get_state(app).log,
            refresh_token=token,
            victim_addr=sessions.client_key(request),
        )
        response = jsonify(outcome.report)
        for header in outcome.set_cookies:
            response.headers.add("Set-Cookie", header)
        return response

    @app.post("/demo/device/login")
    def device_login() -> Any:
        state = get_state(app)
        return jsonify(state.device.login(app, state.user))

    @app.post("/demo/device/call")
    def device_call() -> Any:
        state = get_state(app)
        result = state.device.call(app, state.log)
        if result is None:
            return jsonify(error="sign the second device in first"), 409
        return jsonify(result)

    @app.get("/demo/events")
    def events() -> Any:
        """The security events after sequence number ``after`` (the server log, for the page)."""
        after = request.args.get("after", "0")
        state = get_state(app)
        seq = int(after) if after.isdigit() else 0
        return jsonify(events=state.log.since(seq), last=state.log.last_seq)

    @app.errorhandler(404)
    def not_found(_: Exception) -> Any:
        return jsonify(error="not_found"), 404
