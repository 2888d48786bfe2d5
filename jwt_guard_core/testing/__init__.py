"""A test kit for applications protected by jwt-guard: a real issuer on loopback and bad tokens.

::

    from jwt_guard_core.testing import LocalIssuer

    with LocalIssuer() as issuer:                        # JWKS + discovery on 127.0.0.1
        tokens = issuer.tokens()
        good = tokens.token(sub="alice", scopes=["orders:read"], roles=["staff"])
        bad = [tokens.expired(), tokens.wrong_audience(), tokens.alg_none(), tokens.tampered()]
        settings.JWT_GUARD = issuer.django_settings()    # Flask: issuer.flask_config()

The pytest plugin ``jwt_guard_core.testing.pytest_plugin`` offers the same as
fixtures (``jwt_issuer``, ``jwt_tokens``, ``jwt_guard_django_settings``,
``jwt_guard_flask_config``). Framework-neutral: nothing here imports Django
or Flask; ``jwt_guard_core.testing.django`` and ``.flask`` import them
inside their functions. See docs/testing.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .issuer import DEFAULT_AUDIENCE, LocalIssuer
    from .tokens import DEFAULT_SUBJECT, WRONG_AUDIENCE, WRONG_ISSUER, TokenFactory

__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_SUBJECT",
    "WRONG_AUDIENCE",
    "WRONG_ISSUER",
    "LocalIssuer",
    "TokenFactory",
]

_HOMES = {
    "DEFAULT_AUDIENCE": "issuer",
    "LocalIssuer": "issuer",
    "DEFAULT_SUBJECT": "tokens",
    "WRONG_AUDIENCE": "tokens",
    "WRONG_ISSUER": "tokens",
    "TokenFactory": "tokens",
}


def __getattr__(name: str) -> Any:
    # Loaded on first use: the pytest plugin imports this package in every
    # test run of an installation, and a run that never asks for a token
    # should not pay for the signing side.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{home}"), name)
