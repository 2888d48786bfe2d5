"""Django admin pages for the model-backed session store (``SESSIONS["BACKEND"] = "django"``).

Sessions (refresh-token families), refresh tokens, revocation rules and
failed attempts are listed, searched and filtered, never edited: every
field is read-only and rows cannot be added or deleted here, because a
deleted revocation rule would let a revoked token back in and a deleted
family would skip the revocation events. The actions go through the core's
services, as ``manage.py jwt_guard_sessions`` does, so the session
denylist, the subject's "revoked before" time, the security events and the
revocation mirrors see them exactly as a logout:

* sessions: "Revoke the selected sessions", "Log their subjects out
  everywhere";
* failed attempts: "Clear the failed attempts of the selected clients".

Viewing needs the models' view permission; the actions need their change
permission (``jwt_guard.change_refreshfamily``,
``jwt_guard.change_failedattempt``), which a superuser has.

With another backend (``sqlite``, ``memory``, ``redis``) the session state
is not in these tables, so these pages stay empty: use ``manage.py
jwt_guard_sessions`` (or ``flask jwt-guard sessions``), which lists every
backend. Refresh tokens are stored as hashes; not even the hash is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from jwt_guard_core import ConfigurationError, StateUnavailable
from jwt_guard_core import admin as commands
from jwt_guard_core.admin import Line, UsageError, iso

from .models import FailedAttempt, RefreshFamily, RefreshToken, RevocationEntry
from .sessions import Sessions, get_sessions

__all__ = ["FailedAttemptAdmin", "RefreshFamilyAdmin", "RefreshTokenAdmin", "RevocationAdmin"]


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    """View and act, never add, edit or delete: the core's services change session state."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Also what keeps Django's "Delete selected" action off these pages:
        # a raw delete would bypass the core services.
        return False

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """The actions need the model's change permission: viewing is not operating."""
        opts = self.opts
        user: Any = request.user
        return bool(user.has_perm(f"{opts.app_label}.change_{opts.model_name}"))


def _run(
    modeladmin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    each: Iterable[str],
    action: Callable[[Sessions, str], Line],
) -> None:
    """``action(sessions, item)`` for each item, every line shown as an admin message."""
    try:
        sessions = get_sessions()
        for item in dict.fromkeys(each):
            line = action(sessions, item)
            level = messages.SUCCESS if line.tone == "success" else messages.INFO
            modeladmin.message_user(request, line.text, level)
    except ConfigurationError as exc:
        modeladmin.message_user(request, f"configuration error: {exc}", messages.ERROR)
    except UsageError as exc:
        modeladmin.message_user(request, str(exc), messages.ERROR)
    except StateUnavailable as exc:
        modeladmin.message_user(request, f"the session store is unavailable: {exc}", messages.ERROR)


def _time(field: str, label: str) -> Callable[[Any, Any], str]:
    """A column showing the Unix time ``field`` as ISO 8601 UTC, sortable by it."""

    @admin.display(description=label, ordering=field)
    def show(self: Any, obj: Any) -> str:
        return iso(getattr(obj, field))

    return show


class _StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("live", "live"), ("revoked", "revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value() == "live":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(RefreshFamily)
class RefreshFamilyAdmin(_ReadOnly):
    """Sessions: one per login, every refresh token rotated from it."""

    list_display = ("family_id", "subject", "started", "expires", "revoked")
    search_fields = ("=family_id", "subject")
    list_filter = (_StateFilter,)
    ordering = ("-created_at",)
    fields = ("family_id", "subject", "started", "expires", "revoked")
    readonly_fields = fields
    actions = ("revoke_sessions", "log_subjects_out")

    started = _time("created_at", "started")
    expires = _time("expires_at", "expires")
    revoked = _time("revoked_at", "revoked")

    @admin.action(description="Revoke the selected sessions", permissions=["operate"])
    def revoke_sessions(self, request: HttpRequest, queryset: QuerySet[RefreshFamily]) -> None:
        ids = queryset.values_list("family_id", flat=True)
        _run(self, request, ids, lambda s, sid: commands.revoke_family(s.refresh_tokens, sid))

    @admin.action(description="Log their subjects out everywhere", permissions=["operate"])
    def log_subjects_out(self, request: HttpRequest, queryset: QuerySet[RefreshFamily]) -> None:
        subjects = queryset.order_by("subject").values_list("subject", flat=True)
        _run(self, request, subjects, lambda s, sub: commands.logout_subject(s.refresh_tokens, sub))


class _SpentFilter(admin.SimpleListFilter):
    title = "spent"
    parameter_name = "spent"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "unspent"), ("yes", "spent")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value() in ("yes", "no"):
            return queryset.filter(spent_at__isnull=self.value() == "no")
        return queryset


@admin.register(RefreshToken)
class RefreshTokenAdmin(_ReadOnly):
    """Refresh tokens by session; the stored hash is never shown."""

    list_display = ("family_id", "subject", "scopes", "issued", "expires", "spent")
    # No link to a row's page: its URL would carry the primary key, the hash.
    list_display_links = None
    search_fields = ("=family_id", "subject")
    list_filter = (_SpentFilter,)
    ordering = ("-issued_at",)
    fields = ("family_id", "subject", "scopes", "issued", "expires", "spent")
    readonly_fields = fields

    issued = _time("issued_at", "issued")
    expires = _time("expires_at", "expires")
    spent = _time("spent_at", "spent")


@admin.register(RevocationEntry)
class RevocationAdmin(_ReadOnly):
    """Revocation rules: denied tokens (jti), sessions (sid), keys (kid); subjects; the epoch."""

    list_display = ("kind", "key", "until_or_before")
    search_fields = ("key",)
    list_filter = ("kind",)
    ordering = ("kind", "key")
    fields = ("kind", "key", "until_or_before")
    readonly_fields = fields

    until_or_before = _time("value", "until (jti, sid, kid) / before (subject, epoch)")


@admin.register(FailedAttempt)
class FailedAttemptAdmin(_ReadOnly):
    """Failed attempts counted by the rate limiter, by client key."""

    list_display = ("client", "when")
    search_fields = ("client",)
    ordering = ("-at",)
    fields = ("client", "when")
    readonly_fields = fields
    actions = ("clear_attempts",)

    when = _time("at", "at")

    @admin.action(
        description="Clear the failed attempts of the selected clients", permissions=["operate"]
    )
    def clear_attempts(self, request: HttpRequest, queryset: QuerySet[FailedAttempt]) -> None:
        clients = queryset.order_by("client").values_list("client", flat=True)
        _run(self, request, clients, lambda s, c: commands.clear_attempts(s.limiter, c))
