"""The adapter reads only what the configuration uses (adapter overhead, issue 14)."""

from __future__ import annotations

from typing import Any

from flask import request

from jwt_guard_flask import current_token, jwt_required
from tests.flask.conftest import MakeApp, Mint, bearer


def _app(make_app: MakeApp, seen: list[bool], **config: Any) -> Any:
    app = make_app(**config)

    @app.get("/me")
    @jwt_required
    def me() -> str:
        # werkzeug's Request.cookies is a cached property: in __dict__ once parsed.
        seen.append("cookies" in request.__dict__)
        return str(current_token.subject)

    return app.test_client()


def test_cookies_are_not_parsed_when_only_the_header_carries_tokens(
    make_app: MakeApp, mint: Mint
) -> None:
    seen: list[bool] = []
    client = _app(make_app, seen)
    client.set_cookie("access_token", "x")
    response = client.get("/me", headers=bearer(mint()))
    assert response.status_code == 200
    assert seen == [False]


def test_the_token_cookie_is_read_when_cookies_are_a_location(
    make_app: MakeApp, mint: Mint
) -> None:
    seen: list[bool] = []
    client = _app(make_app, seen, JWT_GUARD_TOKEN_LOCATION=["cookie"])
    client.set_cookie("access_token", mint())
    response = client.get("/me")
    assert response.status_code == 200
    assert seen == [True]


def test_no_response_hook_without_dpop_nonces(make_app: MakeApp) -> None:
    from jwt_guard_flask._request import add_dpop_nonce

    app = make_app()
    assert add_dpop_nonce not in app.after_request_funcs.get(None, [])
    with_nonces = make_app(JWT_GUARD_DPOP="allowed", JWT_GUARD_DPOP_NONCES=[b"n" * 32])
    assert add_dpop_nonce in with_nonces.after_request_funcs[None]
