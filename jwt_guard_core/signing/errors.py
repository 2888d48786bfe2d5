"""Errors of the signing side.

Like every jwt-guard error, the messages name the problem and never carry
key material, a passphrase or a claim value.
"""

from __future__ import annotations

__all__ = ["IssuanceError", "KeyStoreError"]


class KeyStoreError(RuntimeError):
    """The key store cannot be read or written right now, or its content is damaged.

    Raised at run time (a Redis outage, a corrupt or tampered key file, a
    lock that could not be taken in time). Configuration mistakes found at
    start-up are :class:`~jwt_guard_core.ConfigurationError` instead.
    """


class IssuanceError(ValueError):
    """``issue_access_token`` was called with arguments it refuses.

    ``argument`` names the offending parameter (``claims``, ``lifetime``,
    ``scopes``, ...); the message says what would be accepted.
    """

    def __init__(self, argument: str, message: str) -> None:
        self.argument = argument
        super().__init__(f"{argument}: {message}")
