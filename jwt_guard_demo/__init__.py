"""jwt-guard's local demo: an issuer, a protected API and a page to attack it with.

::

    python -m jwt_guard_demo --port 8000        # or: jwt-guard demo --serve

One process on 127.0.0.1 serves the issuer (``/.well-known/jwks.json``,
``/.well-known/openid-configuration``), cookie login sessions under
``/auth``, an API protected by the Flask adapter (``/api/me``,
``/api/orders``) and a page at ``/`` (plain HTML, JavaScript and CSS from
this package) that logs in, calls the API, refreshes, rotates the signing
key, logs out everywhere and sends attack tokens, showing for each refusal
the status, ``WWW-Authenticate`` and the reason jwt-guard recorded.

Needs Flask: ``pip install 'jwt-guard[flask]'``.
"""

from __future__ import annotations

try:
    import flask  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError("the jwt-guard demo runs on Flask: pip install 'jwt-guard[flask]'") from exc

from .app import create_app
from .data import DEFAULT_DATA_DIR, DemoData, DemoUser, prepare_data_dir
from .server import DemoServer, check_host, main, open_server, serve

__all__ = [
    "DEFAULT_DATA_DIR",
    "DemoData",
    "DemoServer",
    "DemoUser",
    "check_host",
    "create_app",
    "main",
    "open_server",
    "prepare_data_dir",
    "serve",
]
