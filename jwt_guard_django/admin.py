"""Django admin pages for the model-backed session store (``SESSIONS["BACKEND"] = "django"``).

Read-only pages; their actions run the core's session commands, as ``manage.py
jwt_guard_sessions`` does (docs/sessions.md, "The Django admin").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from jwt_guard_core import admin_commands as table
from jwt_guard_core.admin import iso

from .models import FailedAttempt, RefreshFamily, RefreshToken, RevocationEntry
from .sessions import get_sessions

__all__ = ["FailedAttemptAdmin", "RefreshFamilyAdmin", "RefreshTokenAdmin", "RevocationAdmin"]


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    """View and act, never add, edit or delete: the core's services change session state."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Also what keeps Django's "Delete selected" action off these pages:
        # a raw delete would bypass the core services (a deleted revocation
        # rule would let a revoked token back in).
        return False

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """The actions need the model's change permission: viewing is not operating."""
        user: Any = request.user
        return bool(user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}"))


def _action(name: str, description: str, verb: str, field: str) -> Callable[..., None]:
    """An action running the core's sessions command ``verb`` on each selected row's ``field``."""
    command = table.named("sessions", {"verb": verb})

    @admin.action(description=description, permissions=["operate"])
    def act(modeladmin: _ReadOnly, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        try:
            for item in dict.fromkeys(queryset.order_by(field).values_list(field, flat=True)):
                given = {command.options[0].dest: item}
                for line in table.run(command, lambda _: get_sessions().side, "", given):
                    level = messages.SUCCESS if line.tone == "success" else messages.INFO
                    modeladmin.message_user(request, line.text, level)
        except table.Failed as exc:
            modeladmin.message_user(request, str(exc), messages.ERROR)

    act.__name__ = name
    return act


def _time(field: str, label: str) -> Callable[[Any, Any], str]:
    """A column showing the Unix time ``field`` as ISO 8601 UTC, sortable by it."""

    @admin.display(description=label, ordering=field)
    def show(self: Any, obj: Any) -> str:
        return iso(getattr(obj, field))

    return show


def _null_filter(
    field: str, name: str, null: tuple[str, str], other: tuple[str, str]
) -> type[admin.SimpleListFilter]:
    """A filter ``?name=`` on whether ``field`` is null; choices are ``(value, label)``."""

    def queryset(self: Any, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if self.value() in (null[0], other[0]):
            return queryset.filter(**{f"{field}__isnull": self.value() == null[0]})
        return queryset

    choices = {"lookups": lambda self, request, model_admin: [null, other], "queryset": queryset}
    return type(
        f"{name}Filter",
        (admin.SimpleListFilter,),
        {"title": name, "parameter_name": name, **choices},
    )


#: The time columns and their labels; a time shows as ISO 8601 UTC.
_TIMES = {
    "created_at": "started",
    "issued_at": "issued",
    "expires_at": "expires",
    "revoked_at": "revoked",
    "spent_at": "spent",
    "value": "until (jti, sid, kid) / before (subject, epoch)",
    "at": "at",
}


def _page(model: type[Model], fields: str, doc: str, **options: Any) -> Any:
    """A read-only page of ``model`` showing ``fields`` (space-separated)."""
    attrs: dict[str, Any] = {"__doc__": doc, **options}
    names = []
    for field in fields.split():
        if field in _TIMES:
            attrs[f"{field}_shown"] = _time(field, _TIMES[field])
        names.append(f"{field}_shown" if field in _TIMES else field)
    attrs.update(list_display=tuple(names), fields=tuple(names), readonly_fields=tuple(names))
    return admin.register(model)(type(f"{model.__name__}Admin", (_ReadOnly,), attrs))


RefreshFamilyAdmin = _page(
    RefreshFamily,
    "family_id subject created_at expires_at revoked_at",
    "Sessions: one per login, every refresh token rotated from it.",
    search_fields=("=family_id", "subject"),
    list_filter=(_null_filter("revoked_at", "state", ("live", "live"), ("revoked", "revoked")),),
    ordering=("-created_at",),
    actions=(
        _action("revoke_sessions", "Revoke the selected sessions", "revoke-family", "family_id"),
        _action(
            "log_subjects_out", "Log their subjects out everywhere", "logout-subject", "subject"
        ),
    ),
)
RefreshTokenAdmin = _page(
    RefreshToken,
    "family_id subject scopes issued_at expires_at spent_at",
    "Refresh tokens by session; the stored hash is never shown.",
    # No link to a row's page: its URL would carry the primary key, the hash.
    list_display_links=None,
    search_fields=("=family_id", "subject"),
    list_filter=(_null_filter("spent_at", "spent", ("no", "unspent"), ("yes", "spent")),),
    ordering=("-issued_at",),
)
RevocationAdmin = _page(
    RevocationEntry,
    "kind key value",
    "Revocation rules: denied tokens (jti), sessions (sid), keys (kid); subjects; the epoch.",
    search_fields=("key",),
    list_filter=("kind",),
    ordering=("kind", "key"),
)
FailedAttemptAdmin = _page(
    FailedAttempt,
    "client at",
    "Failed attempts counted by the rate limiter, by client key.",
    search_fields=("client",),
    ordering=("-at",),
    actions=(
        _action(
            "clear_attempts",
            "Clear the failed attempts of the selected clients",
            "clear-attempts",
            "client",
        ),
    ),
)
