"""The issuing side's public routes as a blueprint: the JWKS and a minimal discovery document.

``app.register_blueprint(issuing_blueprint)`` serves the core's answers from
the ``JWT_GUARD_ISSUING_*`` config (docs/flask.md, "Issuing tokens").
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response
from flask.blueprints import BlueprintSetupState

from jwt_guard_core.settings.sides import check_issuing
from jwt_guard_core.signing.routes import RouteReply, jwks_reply, openid_configuration_reply

from .cli import register_cli
from .config import read
from .issuing import get_issuing

__all__ = ["issuing_blueprint"]

logger = logging.getLogger("jwt_guard.flask")

issuing_blueprint = Blueprint("jwt_guard_issuing", __name__)


@issuing_blueprint.record_once
def _on_register(state: BlueprintSetupState) -> None:
    app = state.app
    assert isinstance(app, Flask)
    # A bad JWT_GUARD_ISSUING_* key fails here, at start-up, naming the key,
    # instead of on the first JWKS request. The store is not opened yet.
    check_issuing(read(app.config))
    register_cli(app)


def _response(reply: RouteReply) -> Response:
    # Response would add "; charset=utf-8" to a content type given as
    # mimetype; the JWK Set media type (RFC 7517 section 8.5.1) has none.
    response = Response(reply.body, status=reply.status)
    response.headers.update(dict(reply.headers))  # Werkzeug 2.3 takes dicts, not any mapping
    return response


@issuing_blueprint.route("/.well-known/jwks.json", methods=["GET"])
def jwks() -> Response:
    """The public keys, with the key manager's ``Cache-Control`` and media type."""
    return _response(jwks_reply(get_issuing, logger=logger))


@issuing_blueprint.route("/.well-known/openid-configuration", methods=["GET"])
def openid_configuration() -> Response:
    """``issuer`` and ``jwks_uri`` (configured or the issuer's, never the ``Host`` header's)."""
    return _response(openid_configuration_reply(get_issuing, logger=logger))
