"""Assertions shared by the attack catalogue.

Every rejection in tests/security goes through :class:`Rejects`, which checks
the four things the issue asks of each attack, in both the sync and the
async path:

* the exact exception class, ``reason``, RFC 6750 ``error`` and HTTP
  ``status``, and that nothing but a ``TokenError`` ever escapes;
* exactly one ``token_rejected`` security event on ``jwt_guard.security``
  with the same reason (and, where asked, the level, alg and kid);
* neither ``str()``/``repr()`` of the error nor the log record contains the
  token, one of its segments, or any key material the test names;
* the response an adapter builds from it (``jwt_guard_core.http``) has the
  status, an RFC 6750 ``WWW-Authenticate`` with the error code, and never
  the reason, the token or the key material.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from jwt_guard_core import TokenError, VerifiedToken, Verifier
from jwt_guard_core.http import error_response

SECURITY_LOGGER = "jwt_guard.security"
_STANDARD_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({})))


@dataclass(frozen=True)
class Rejection:
    error: TokenError
    record: logging.LogRecord


def _needles(token: object, material: Iterable[str | bytes]) -> list[str]:
    """Substrings that must never appear in an error or a log line."""
    needles: list[str] = []
    if isinstance(token, str) and len(token) >= 8:
        needles.append(token)
        needles.extend(seg for seg in token.split(".") if len(seg) >= 8)
    for item in material:
        if isinstance(item, bytes):
            needles.append(base64.urlsafe_b64encode(item).rstrip(b"=").decode())
            text = item.decode("latin-1")
        else:
            text = item
        # Any long-enough slice of the material would be a leak; a line of a
        # PEM or a window of a secret is enough to catch one.
        needles.extend(line for line in text.splitlines() if len(line) >= 12)
        needles.append(text[:24] if len(text) >= 24 else text)
    return [n for n in needles if n and n.strip()]


def _record_text(record: logging.LogRecord) -> str:
    extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_RECORD_FIELDS}
    return record.getMessage() + " " + repr(extras)


class Rejects:
    """``rejects(verifier, token, ErrorClass, "reason", ...)`` -> :class:`Rejection`."""

    def __init__(self, mode: str, caplog: pytest.LogCaptureFixture) -> None:
        self.mode = mode
        self.caplog = caplog

    def run(self, verifier: Verifier, token: Any) -> VerifiedToken:
        if self.mode == "sync":
            return verifier.verify(token)
        return asyncio.run(verifier.averify(token))

    def accepts(self, verifier: Verifier, token: str) -> VerifiedToken:
        """The positive control: a legitimate token in the same setting verifies."""
        return self.run(verifier, token)

    def __call__(
        self,
        verifier: Verifier,
        token: Any,
        error_type: type[TokenError],
        reason: str,
        *,
        error: str = "invalid_token",
        status: int = 401,
        level: int | None = None,
        alg: Any = ...,
        kid: Any = ...,
        material: Iterable[str | bytes] = (),
    ) -> Rejection:
        self.caplog.clear()
        try:
            self.run(verifier, token)
        except BaseException as exc:
            if not isinstance(exc, TokenError):
                raise AssertionError(
                    f"{type(exc).__name__} escaped {self.mode} verification; only TokenError may"
                ) from exc
            raised = exc
        else:
            pytest.fail(f"the token was accepted ({self.mode}); expected {reason}")

        assert type(raised) is error_type, f"{type(raised).__name__} is not {error_type.__name__}"
        assert raised.reason == reason
        assert raised.error == error
        assert raised.status == status
        assert raised.reason != "verification_error"

        records = [
            r
            for r in self.caplog.records
            if r.name == SECURITY_LOGGER and getattr(r, "jwt_guard_event", None) == "token_rejected"
        ]
        assert len(records) == 1, f"expected one token_rejected event, got {len(records)}"
        record = records[0]
        assert getattr(record, "reason", None) == reason
        if level is not None:
            assert record.levelno == level, logging.getLevelName(record.levelno)
        if alg is not ...:
            assert getattr(record, "alg", None) == alg
        if kid is not ...:
            assert getattr(record, "kid", None) == kid

        response = error_response(raised)
        assert response.status == status
        assert response.headers["WWW-Authenticate"] == f'Bearer realm="api", error="{error}"'
        response_text = repr(response.headers) + repr(response.body)
        assert reason not in response_text, "the response leaks the reason to the client"

        texts = {
            "str(error)": str(raised),
            "repr(error)": repr(raised),
            "log record": _record_text(record),
            "response": response_text,
        }
        for needle in _needles(token, material):
            for where, text in texts.items():
                assert needle not in text, f"{where} leaks token or key material"
        return Rejection(raised, record)
