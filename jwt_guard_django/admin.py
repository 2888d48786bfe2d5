"""Django admin pages for the model-backed session store (``SESSIONS["BACKEND"] = "django"``).

Read-only pages; their actions run the core's session commands, as ``manage.py
jwt_guard_sessions`` does (docs/sessions.md, "The Django admin").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from jwt_guard_core import admin_commands as table
from jwt_guard_core.admin import iso

from .models import TABLES
from .sessions import get_sessions

__all__ = ["FailedAttemptAdmin", "RefreshFamilyAdmin", "RefreshTokenAdmin", "RevocationAdmin"]


def _never(self: Any, request: HttpRequest, obj: Any = None) -> bool:
    return False


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    """View and act, never add, edit or delete: the core's services change session state."""

    # No delete also keeps Django's "Delete selected" action off these pages:
    # a raw delete would bypass the core services (a deleted revocation rule
    # would let a revoked token back in).
    has_add_permission = has_change_permission = has_delete_permission = _never

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

    attrs = {"title": name, "parameter_name": name, "queryset": queryset}
    attrs["lookups"] = lambda self, request, model_admin: [null, other]
    return type(f"{name}Filter", (admin.SimpleListFilter,), attrs)


def _page(view: table.RecordView) -> Any:
    """The read-only page the core describes in ``view``."""
    columns = view.columns.split()
    names = [f"{field}_shown" if field in table.TIME_LABELS else field for field in columns]
    attrs: dict[str, Any] = {
        "__doc__": view.doc,
        **dict.fromkeys(("list_display", "fields", "readonly_fields"), names),
        "search_fields": tuple(f"={field}" for field in view.exact) + view.search,
        "ordering": view.order,
        "list_filter": ((_null_filter(*view.state),) if view.state else ()) + view.choices,
        "actions": tuple(_action(*action) for action in view.actions),
    }
    for field in set(columns) & set(table.TIME_LABELS):
        attrs[f"{field}_shown"] = _time(field, table.TIME_LABELS[field])
    if view.secret_key:
        # No link to a row's page: its URL would carry the primary key, the hash.
        attrs["list_display_links"] = None
    model = TABLES[view.table]
    return admin.register(model)(type(f"{model.__name__}Admin", (_ReadOnly,), attrs))


RefreshFamilyAdmin, RefreshTokenAdmin, RevocationAdmin, FailedAttemptAdmin = map(
    _page, table.RECORD_VIEWS
)
