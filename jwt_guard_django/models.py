"""The tables of :class:`~jwt_guard_django.store.DjangoSessionStore` (``manage.py migrate``).

Times are Unix seconds (``FloatField``), the core's unit, so no time-zone
conversion can shift an expiry. A refresh token is stored only as its hash.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models

__all__ = ["TABLES", "FailedAttempt", "RefreshFamily", "RefreshToken", "RevocationEntry"]


class RefreshFamily(models.Model):
    """One login session: every refresh token rotated from one first token."""

    family_id: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    subject: models.CharField[str, str] = models.CharField(max_length=255, db_index=True)
    created_at: models.FloatField[float, float] = models.FloatField()
    expires_at: models.FloatField[float, float] = models.FloatField(db_index=True)
    revoked_at: models.FloatField[float | None, float | None] = models.FloatField(null=True)

    class Meta:
        db_table = "jwt_guard_refresh_family"

    def __str__(self) -> str:
        return f"session {self.family_id} of {self.subject}"


class RefreshToken(models.Model):
    """One refresh token, by hash; ``spent_at`` is set exactly once by an atomic UPDATE."""

    token_hash: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    family_id: models.CharField[str, str] = models.CharField(max_length=64, db_index=True)
    subject: models.CharField[str, str] = models.CharField(max_length=255)
    scopes: models.TextField[str, str] = models.TextField(blank=True)
    issued_at: models.FloatField[float, float] = models.FloatField()
    expires_at: models.FloatField[float, float] = models.FloatField(db_index=True)
    spent_at: models.FloatField[float | None, float | None] = models.FloatField(null=True)

    class Meta:
        db_table = "jwt_guard_refresh_token"

    def __str__(self) -> str:
        # Never the hash: it identifies the token in logs and admin pages.
        return f"refresh token of session {self.family_id}"


class RevocationEntry(models.Model):
    """A revocation rule (``kind``: ``jti``, ``sid``, ``kid``, ``subject``, ``epoch``).

    One table, so a verification reads every rule in one query.
    """

    kind: models.CharField[str, str] = models.CharField(max_length=8)
    key: models.CharField[str, str] = models.CharField(max_length=255)
    value: models.FloatField[float, float] = models.FloatField()

    class Meta:
        db_table = "jwt_guard_revocation"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["kind", "key"], name="jwt_guard_revocation_kind_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class FailedAttempt(models.Model):
    """One failed verification of a client, for the sliding-window rate limit."""

    client: models.CharField[str, str] = models.CharField(max_length=256, db_index=True)
    at: models.FloatField[float, float] = models.FloatField()

    class Meta:
        db_table = "jwt_guard_failed_attempt"

    def __str__(self) -> str:
        return f"failure of {self.client}"


#: The models by the name of the core's table (:mod:`jwt_guard_core.sessions.rows`).
TABLES: dict[str, type[models.Model]] = {
    "family": RefreshFamily,
    "token": RefreshToken,
    "rule": RevocationEntry,
    "failure": FailedAttempt,
}
