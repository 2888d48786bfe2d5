"""The public routes' table and the RFC 9728 metadata reply (jwt_guard_core.signing.routes)."""

from __future__ import annotations

import json
import logging
import re
from types import SimpleNamespace
from typing import Any

import pytest

from jwt_guard_core.resource_metadata import ProtectedResourceMetadata
from jwt_guard_core.signing.routes import PUBLIC_ROUTES, metadata_reply, public_reply

LOGGER = logging.getLogger("tests.public_routes")
METADATA = ProtectedResourceMetadata(resource="https://api.example/v1")


def _matches(route: str, path: str) -> bool:
    return re.fullmatch(PUBLIC_ROUTES[route], path.lstrip("/")) is not None


def test_the_table_names_each_well_known_path() -> None:
    assert _matches("jwks", "/.well-known/jwks.json")
    assert not _matches("jwks", "/.well-known/jwksXjson")
    assert _matches("openid_configuration", "/.well-known/openid-configuration")
    # RFC 9728 section 3.1: the resource's path follows the well-known segment.
    assert _matches("protected_resource_metadata", "/.well-known/oauth-protected-resource")
    assert _matches("protected_resource_metadata", "/.well-known/oauth-protected-resource/v1")
    assert not _matches("protected_resource_metadata", "/.well-known/oauth-protected-resourcex")


def test_the_metadata_is_served_at_its_own_path_only() -> None:
    assert METADATA.path == "/.well-known/oauth-protected-resource/v1"
    reply = metadata_reply(METADATA, METADATA.path)
    assert reply is not None
    assert reply.status == 200
    assert reply.headers == {"Content-Type": "application/json"}
    assert json.loads(reply.body) == METADATA.document()
    assert metadata_reply(METADATA, "/.well-known/oauth-protected-resource") is None
    assert metadata_reply(None, METADATA.path) is None


def test_public_reply_builds_only_what_the_route_needs() -> None:
    def no_issuing() -> Any:
        raise AssertionError("the metadata route never builds the issuing side")

    def resource() -> Any:
        return SimpleNamespace(metadata=METADATA)

    reply = public_reply(
        "protected_resource_metadata", METADATA.path, no_issuing, resource, logger=LOGGER
    )
    assert reply is not None
    assert json.loads(reply.body)["resource"] == "https://api.example/v1"


@pytest.mark.parametrize("route", ["jwks", "openid_configuration"])
def test_the_issuing_routes_never_build_the_resource_policy(route: str) -> None:
    from jwt_guard_core import ConfigurationError

    def issuing() -> Any:
        raise ConfigurationError("ISSUING", "not configured")

    def no_resource() -> Any:
        raise AssertionError("the issuing routes never read the resource policy")

    reply = public_reply(route, "/", issuing, no_resource, logger=LOGGER)
    assert reply is not None
    assert reply.status == 503


def test_an_unknown_route_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not one of the public routes"):
        public_reply("jwks.json", "/", lambda: None, lambda: None, logger=LOGGER)
