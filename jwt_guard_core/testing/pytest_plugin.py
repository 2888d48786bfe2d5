"""pytest fixtures of the jwt-guard test kit.

Registered by the ``pytest11`` entry point when jwt-guard is installed, or
with ``-p jwt_guard_core.testing.pytest_plugin``. The plugin only declares
fixtures: nothing is imported, generated or served until a test asks for one.

* ``jwt_issuer`` (session): a :class:`~jwt_guard_core.testing.LocalIssuer`
  serving its JWKS and discovery on 127.0.0.1, built from
  ``jwt_issuer_options`` (a session fixture returning ``LocalIssuer``
  keyword arguments, ``{}`` unless your conftest overrides it).
* ``jwt_tokens``: its :class:`~jwt_guard_core.testing.TokenFactory`.
* ``jwt_guard_django_settings``: sets pytest-django's ``settings.JWT_GUARD``
  for the issuer and returns the dict.
* ``jwt_guard_flask_config``: the ``JWT_GUARD_*`` keys for ``app.config``.

Both settings fixtures take their keyword arguments from
``jwt_guard_settings_options`` (``{}`` unless overridden), e.g.
``{"source": "static", "EXPECTED_TYPE": "at+jwt"}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from jwt_guard_core.testing import LocalIssuer, TokenFactory


@pytest.fixture(scope="session")
def jwt_issuer_options() -> dict[str, Any]:
    """Keyword arguments for the session's ``LocalIssuer``; override it in your conftest."""
    return {}


@pytest.fixture(scope="session")
def jwt_issuer(jwt_issuer_options: dict[str, Any]) -> Iterator[LocalIssuer]:
    """A ``LocalIssuer`` serving on 127.0.0.1 for the whole session."""
    from jwt_guard_core.testing import LocalIssuer

    with LocalIssuer(**jwt_issuer_options) as issuer:
        yield issuer


@pytest.fixture
def jwt_tokens(jwt_issuer: LocalIssuer) -> TokenFactory:
    """The session issuer's ``TokenFactory``: ``jwt_tokens.token(sub=..., scopes=[...])``."""
    return jwt_issuer.tokens()


@pytest.fixture
def jwt_guard_settings_options() -> dict[str, Any]:
    """Keyword arguments for the settings fixtures; override it in your conftest."""
    return {}


@pytest.fixture
def jwt_guard_django_settings(
    request: pytest.FixtureRequest,
    jwt_issuer: LocalIssuer,
    jwt_guard_settings_options: dict[str, Any],
) -> dict[str, Any]:
    """``settings.JWT_GUARD`` for the session issuer (needs pytest-django); returns the dict."""
    from jwt_guard_core.testing.django import apply_settings

    try:
        settings = request.getfixturevalue("settings")
    except pytest.FixtureLookupError:
        pytest.fail(
            "jwt_guard_django_settings needs pytest-django's settings fixture: "
            "pip install pytest-django",
            pytrace=False,
        )
    return apply_settings(settings, jwt_issuer, **jwt_guard_settings_options)


@pytest.fixture
def jwt_guard_flask_config(
    jwt_issuer: LocalIssuer, jwt_guard_settings_options: dict[str, Any]
) -> dict[str, Any]:
    """``JWT_GUARD_*`` keys for the session issuer, for ``app.config`` before ``JWTGuard``."""
    return jwt_issuer.flask_config(**jwt_guard_settings_options)
