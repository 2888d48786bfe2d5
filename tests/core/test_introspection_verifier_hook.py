"""The verifier's hook: opaque tokens go to the issuer's IntrospectionSource, JWTs stay local.

These tests run once the hook described in docs/introspection.md ("Wiring
into the verifier") is in place: ``GuardConfig(introspection=...)`` /
``IssuerPolicy(introspection=...)`` and two lines in ``Verifier.verify`` and
``averify``. Until then they are skipped, naming why.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from werkzeug import Request, Response

from jwt_guard_core import GuardConfig, IssuerPolicy, TokenError, Verifier
from jwt_guard_core.errors import ConfigurationError
from jwt_guard_core.introspection import ClientSecretBasic, IntrospectionSource
from tests.core.remote_servers import named
from tests.factories import AUDIENCE, ISSUER, NOW, claims, sign

pytest_plugins = ["tests.core.remote_fixtures"]

pytestmark = pytest.mark.skipif(
    "introspection" not in {f.name for f in dataclasses.fields(GuardConfig)},
    reason="the verifier hook (GuardConfig.introspection) is not wired yet",
)

PATH = "/introspect"
OPAQUE = "dot-style-opaque-token-123"


@pytest.fixture
def introspection(jwks_server, clock):
    answers: dict[str, dict[str, Any]] = {
        OPAQUE: {"active": True, "exp": int(NOW) + 600, "sub": "u-9", "aud": AUDIENCE}
    }

    def handler(request: Request) -> Response:
        token = request.form.get("token", "")
        return Response(
            json.dumps(answers.get(token, {"active": False})), content_type="application/json"
        )

    jwks_server.handle(handler, path=PATH)
    source = IntrospectionSource(
        jwks_server.url(PATH),
        issuer=ISSUER,
        client_auth=ClientSecretBasic("rs", "secret"),
        audience=AUDIENCE,
        clock=clock,
    )
    yield source
    source.close()


@pytest.fixture
def verifier(introspection, rsa_keys, clock):
    return Verifier(
        GuardConfig(
            algorithms=["RS256"],
            keys=rsa_keys,
            issuer=ISSUER,
            audience=AUDIENCE,
            introspection=introspection,
            clock=clock,
        )
    )


def test_an_opaque_token_is_introspected_and_a_jwt_is_verified_locally(
    verifier, keyring, jwks_server
):
    assert verifier.verify(OPAQUE).subject == "u-9"
    jws = sign({"alg": "RS256", "kid": "rsa-1"}, claims(), keyring.rsa)
    assert verifier.verify(jws).subject == "user-1"
    assert jwks_server.count(PATH) == 1


async def test_averify_routes_the_same_way(verifier):
    assert (await verifier.averify(OPAQUE)).subject == "u-9"


def test_an_inactive_opaque_token_is_reported_like_any_rejection(verifier, seen):
    with pytest.raises(TokenError) as caught:
        verifier.verify("unknown-opaque-token")
    assert caught.value.reason == "token_inactive"
    (event,) = named(seen, "token_rejected")
    assert event.reason == "token_inactive"


def test_without_introspection_an_opaque_token_stays_malformed(rsa_keys, clock):
    plain = Verifier(
        GuardConfig(
            algorithms=["RS256"], keys=rsa_keys, issuer=ISSUER, audience=AUDIENCE, clock=clock
        )
    )
    with pytest.raises(TokenError) as caught:
        plain.verify(OPAQUE)
    assert caught.value.reason == "malformed"


def test_two_introspecting_issuers_are_refused(introspection, rsa_keys):
    with pytest.raises(ConfigurationError) as caught:
        GuardConfig(
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuers={
                ISSUER: IssuerPolicy(keys=rsa_keys, introspection=introspection),
                "https://other.example": IssuerPolicy(keys=rsa_keys, introspection=introspection),
            },
        )
    assert caught.value.setting == "introspection"
