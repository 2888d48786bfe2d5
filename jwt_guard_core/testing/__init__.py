"""A test kit for applications protected by jwt-guard: a real issuer on loopback and bad tokens.

::

    from jwt_guard_core.testing import LocalIssuer

    with LocalIssuer() as issuer:                        # JWKS + discovery on 127.0.0.1
        tokens = issuer.tokens()
        good = tokens.token(sub="alice", scopes=["orders:read"], roles=["staff"])
        bad = [tokens.expired(), tokens.wrong_audience(), tokens.alg_none(), tokens.tampered()]
        settings.JWT_GUARD = issuer.django_settings()    # or app.config.update(issuer.flask_config())

The pytest plugin ``jwt_guard_core.testing.pytest_plugin`` offers the same as
fixtures (``jwt_issuer``, ``jwt_tokens``, ``jwt_guard_django_settings``,
``jwt_guard_flask_config``). Framework-neutral: nothing here imports Django
or Flask; ``jwt_guard_core.testing.django`` and ``.flask`` import them
inside their functions. See docs/testing.md.
"""

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
