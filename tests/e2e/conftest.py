"""Fixtures shared by the end-to-end tests; each test module defines ``served``.

The identity provider is the test kit's :class:`~jwt_guard_core.testing.LocalIssuer`
(the same one users get from ``jwt_guard_core.testing``): its JWKS and OpenID
discovery document are served on loopback, and its :class:`TokenFactory`
mints the good and the bad tokens. ``served`` yields ``(base_url, issuer)`` of
an example project running under a real server (see :mod:`tests.e2e.servers`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jwt_guard_core.testing import LocalIssuer, TokenFactory

from .servers import AUDIENCE

SUBJECT = "customer-42"


@pytest.fixture(scope="module")
def e2e_issuer() -> Iterator[LocalIssuer]:
    """An RS256 issuer on loopback: ``/.well-known/jwks.json`` and the discovery document."""
    with LocalIssuer(algorithm="RS256", audience=AUDIENCE) as issuer:
        yield issuer


@pytest.fixture
def base_url(served: tuple[str, str]) -> str:
    return served[0]


@pytest.fixture
def tokens(e2e_issuer: LocalIssuer, served: tuple[str, str]) -> TokenFactory:
    """The kit's token factory for the served example's issuer."""
    assert served[1] == e2e_issuer.url
    return e2e_issuer.tokens()


@pytest.fixture
def token(tokens: TokenFactory) -> Any:
    """``token(scope="a b", sub=...)``: a valid token for the served example."""

    def _token(scope: str = "", sub: str = SUBJECT) -> str:
        return tokens.token(sub, scopes=scope.split())

    return _token
