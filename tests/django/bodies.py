"""Response bodies the Django tests expect, written once.

The error bodies are the core's ``error_response`` shapes (RFC 6750 error
codes); ``USER_1_ME`` is what the test views answer for the default token.
"""

from __future__ import annotations

NO_CREDENTIALS_BODY = {"error": "unauthorized", "error_description": "Authentication is required."}
INVALID_TOKEN_BODY = {
    "error": "invalid_token",
    "error_description": "The access token is invalid or expired.",
}
SCOPE_BODY = {
    "error": "insufficient_scope",
    "error_description": "The access token does not grant the required scope.",
}
# What /plain/, /plain-async/ and /drf/me/ answer for bearer()'s token.
USER_1_ME = {
    "sub": "user-1",
    "scopes": ["orders:read", "profile"],
    "authenticated": True,
    "user": "TokenUser",
    "username": "user-1",
}
