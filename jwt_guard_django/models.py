"""The tables of :class:`~jwt_guard_django.store.DjangoSessionStore` (docs/sessions.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from django.db import models


def _shown(text: str) -> Callable[[models.Model], str]:
    """A ``__str__``: ``text`` formatted with the ``row``."""
    return lambda row: text.format(row=row)


class RefreshFamily(models.Model):
    """One login session: every refresh token rotated from one first token."""

    family_id: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    subject: models.CharField[str, str] = models.CharField(max_length=255, db_index=True)
    created_at: models.FloatField[float, float] = models.FloatField()
    expires_at: models.FloatField[float, float] = models.FloatField(db_index=True)
    revoked_at: models.FloatField[float | None, float | None] = models.FloatField(null=True)
    __str__ = _shown("session {row.family_id} of {row.subject}")

    class Meta:
        db_table = "jwt_guard_refresh_family"


class RefreshToken(models.Model):
    """One refresh token, by hash; ``spent_at`` is set exactly once by an atomic UPDATE."""

    token_hash: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    family_id: models.CharField[str, str] = models.CharField(max_length=64, db_index=True)
    subject: models.CharField[str, str] = models.CharField(max_length=255)
    scopes: models.TextField[str, str] = models.TextField(blank=True)
    issued_at: models.FloatField[float, float] = models.FloatField()
    expires_at: models.FloatField[float, float] = models.FloatField(db_index=True)
    spent_at: models.FloatField[float | None, float | None] = models.FloatField(null=True)
    # Never the hash: it identifies the token in logs and admin pages.
    __str__ = _shown("refresh token of session {row.family_id}")

    class Meta:
        db_table = "jwt_guard_refresh_token"


class RevocationEntry(models.Model):
    """A revocation rule (``kind``: jti, sid, kid, subject, epoch); one query reads them all."""

    kind: models.CharField[str, str] = models.CharField(max_length=8)
    key: models.CharField[str, str] = models.CharField(max_length=255)
    value: models.FloatField[float, float] = models.FloatField()
    __str__ = _shown("{row.kind} {row.key}")

    class Meta:
        db_table = "jwt_guard_revocation"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["kind", "key"], name="jwt_guard_revocation_kind_key")
        ]


class FailedAttempt(models.Model):
    """One failed verification of a client, for the sliding-window rate limit."""

    client: models.CharField[str, str] = models.CharField(max_length=256, db_index=True)
    at: models.FloatField[float, float] = models.FloatField()
    __str__ = _shown("failure of {row.client}")

    class Meta:
        db_table = "jwt_guard_failed_attempt"


#: The models by the name of the core's table (:mod:`jwt_guard_core.sessions.rows`).
TABLES: dict[str, type[models.Model]] = {
    "family": RefreshFamily,
    "token": RefreshToken,
    "rule": RevocationEntry,
    "failure": FailedAttempt,
}
