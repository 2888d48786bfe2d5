"""``JWT_GUARD["ISSUING"]`` to one shared core ``KeyManager`` and ``TokenIssuer`` (docs/django.md).

Built on first use, rebuilt when ``JWT_GUARD`` changes. The key passphrase
comes from the environment (``PASSPHRASE_ENV``), never from settings.
"""

from __future__ import annotations

from jwt_guard_core.signing.settings import ISSUING_DEFAULTS as ISSUING_DEFAULTS

from .conf import served

#: The shared issuing side, its key manager and token issuer: built on first use.
get_issuing = served.issuing
get_key_manager = served.issuing.keys
get_token_issuer = served.issuing.issuer
#: Forget them; the next use reads the settings again.
reset_issuing = served.issuing.reset
#: Validate ``JWT_GUARD["ISSUING"]`` without opening the key store (system check E011).
check_issuing = served.check_issuing
#: A new key manager and token issuer; opens the key store (``ConfigurationError``: a key).
build_issuing = served.open_issuing
