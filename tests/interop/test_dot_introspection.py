"""Introspection against django-oauth-toolkit's real endpoint, under gunicorn on loopback.

``tests/interop/dot_server`` is a tiny Django project running
django-oauth-toolkit (see its README). The fixture builds its SQLite
database in a temporary directory, serves it with gunicorn on a free
loopback port, and tokens come from DOT's own token endpoint: they are the
opaque strings DOT issues by default, which the JWT pipeline refuses as
``malformed`` and an :class:`IntrospectionSource` accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jwt_guard_core import TokenError
from jwt_guard_core.introspection import (
    ClientSecretBasic,
    ClientSecretPost,
    IntrospectionSource,
    IntrospectionUnavailable,
    route,
)
from tests.interop.dot import running_dot
from tests.tools import require_module

require_module("oauth2_provider", "django-oauth-toolkit is not installed (the test extra)")

API = "https://api.example/orders"
RESOURCE_SERVER = ("orders-api", "orders-api-secret")


@pytest.fixture(scope="module")
def dot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running DOT server with fresh data."""
    with running_dot(tmp_path_factory.mktemp("dot")) as url:
        yield url


def issue(dot: str, client: tuple[str, str], **form: str) -> dict[str, Any]:
    """A token from DOT's token endpoint (client authenticated with HTTP Basic)."""
    response = httpx.post(f"{dot}/o/token/", data=form, auth=client, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def user_token(dot: str, **form: str) -> str:
    answer = issue(
        dot,
        ("mobile-app", "mobile-secret"),
        grant_type="password",
        username="alice",
        password="alice-password",
        scope="orders:read orders:write",
        **form,
    )
    return str(answer["access_token"])


@pytest.fixture
def make_source(dot: str) -> Iterator[Any]:
    made: list[IntrospectionSource] = []

    def _make(**options: Any) -> IntrospectionSource:
        options.setdefault("client_auth", ClientSecretBasic(*RESOURCE_SERVER))
        if "audience" not in options:
            options["verify_audience"] = False
        source = IntrospectionSource(f"{dot}/o/introspect/", issuer=dot, **options)
        made.append(source)
        return source

    yield _make
    for source in made:
        source.close()


def test_a_dot_token_is_opaque_to_the_jwt_pipeline(dot):
    assert route(user_token(dot)) == "opaque"


def test_an_active_user_token_is_accepted_with_its_scope_client_and_username(dot, make_source):
    token = make_source().verify(user_token(dot))
    assert token.scopes == {"orders:read", "orders:write"}
    assert token.claims["client_id"] == "mobile-app"
    assert token.claims["username"] == "alice"
    assert token.issuer == dot
    assert token.expires_at is not None


def test_a_client_credentials_token_has_no_username(dot, make_source):
    answer = issue(
        dot, ("service-app", "service-secret"), grant_type="client_credentials", scope="orders:read"
    )
    token = make_source(client_auth=ClientSecretPost(*RESOURCE_SERVER)).verify(
        answer["access_token"]
    )
    assert (token.claims["client_id"], token.scopes) == ("service-app", {"orders:read"})
    assert "username" not in token.claims


async def test_averify_against_dot(dot, make_source):
    source = make_source()
    token = await source.averify(user_token(dot))
    await source.aclose()
    assert token.claims["username"] == "alice"


def test_a_revoked_token_is_refused_as_inactive(dot, make_source):
    access = user_token(dot)
    source = make_source(positive_ttl=0)
    assert source.verify(access).claims["username"] == "alice"
    revoked = httpx.post(
        f"{dot}/o/revoke_token/",
        data={"token": access},
        auth=("mobile-app", "mobile-secret"),
        timeout=10,
    )
    assert revoked.status_code == 200
    with pytest.raises(TokenError) as caught:
        source.verify(access)
    assert (caught.value.reason, caught.value.status) == ("token_inactive", 401)


def test_an_unknown_token_is_refused_as_inactive(make_source):
    with pytest.raises(TokenError) as caught:
        make_source().verify("not-a-token-dot-ever-issued")
    assert caught.value.reason == "token_inactive"


def test_a_resource_bound_token_is_audience_checked(dot, make_source):
    access = user_token(dot, resource=API)
    assert make_source(audience=API).verify(access).audience == (API,)
    with pytest.raises(TokenError) as caught:
        make_source(audience="https://api.example/billing").verify(access)
    assert caught.value.reason == "bad_audience"


def test_wrong_resource_server_credentials_are_an_outage_not_a_401(dot, make_source):
    source = make_source(client_auth=ClientSecretBasic("orders-api", "wrong"))
    with pytest.raises(IntrospectionUnavailable) as caught:
        source.verify(user_token(dot))
    assert (caught.value.status, caught.value.failure) == (503, "http_status")


def test_the_endpoint_is_discovered_from_dots_rfc_8414_metadata(dot):
    source = IntrospectionSource.from_issuer(
        dot, client_auth=ClientSecretBasic(*RESOURCE_SERVER), verify_audience=False
    )
    try:
        assert source.verify(user_token(dot)).claims["username"] == "alice"
        assert source.endpoint == f"{dot}/o/introspect/"
    finally:
        source.close()
