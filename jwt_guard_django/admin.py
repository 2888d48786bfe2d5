"""Read-only admin pages of the session tables, as the core's ``RECORD_VIEWS`` describe them."""

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

_LEVELS = {"success": messages.SUCCESS, "warning": messages.WARNING}


def _never(self: Any, request: HttpRequest, obj: Any = None) -> bool:
    return False


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    """View and act, never add, edit or delete: the core's services change session state."""

    # No delete also keeps Django's "Delete selected" action off these pages:
    # a raw delete would bypass the core services (a deleted revocation rule
    # would let a revoked token back in).
    has_add_permission = has_change_permission = has_delete_permission = _never

    def has_operate_permission(self, request: HttpRequest) -> bool:
        # The actions need the model's change permission: viewing is not operating.
        user: Any = request.user
        return bool(user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}"))


def _action(name: str, description: str, verb: str, field: str) -> Callable[..., None]:
    """An action running the core's sessions command ``verb`` on each selected row's ``field``."""

    @admin.action(description=description, permissions=["operate"])
    def act(modeladmin: _ReadOnly, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        selected = queryset.order_by(field).values_list(field, flat=True)
        try:
            for line in table.run_each(verb, selected, lambda _: get_sessions().side):
                modeladmin.message_user(request, line.text, _LEVELS.get(line.tone, messages.INFO))
        except table.Failed as exc:
            modeladmin.message_user(request, str(exc), messages.ERROR)

    act.__name__ = name
    return act


def _column(field: str) -> Any:
    """``field``, or for a time a column showing it as ISO 8601 UTC, sortable by it."""
    label = table.TIME_LABELS.get(field)
    if label is None:
        return field
    show = admin.display(description=label, ordering=field)(lambda row: iso(getattr(row, field)))
    show.__name__ = f"{field}_shown"
    return show


def _state_filter(
    view: table.RecordView, field: str, name: str, *choices: tuple[str, str]
) -> type[admin.SimpleListFilter]:
    """The filter ``?name=`` of ``view.state``: whether the time ``field`` is set."""

    def queryset(self: Any, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        unset = view.unset_wanted(self.value())
        return queryset if unset is None else queryset.filter(**{f"{field}__isnull": unset})

    attrs = {"title": name, "parameter_name": name, "queryset": queryset}
    attrs["lookups"] = lambda self, request, model_admin: choices
    return type(f"{name}Filter", (admin.SimpleListFilter,), attrs)


def _page(view: table.RecordView) -> Any:
    """The read-only page the core describes in ``view``."""
    columns = [_column(field) for field in view.columns.split()]
    attrs: dict[str, Any] = {
        "__doc__": view.doc,
        **dict.fromkeys(("list_display", "fields", "readonly_fields"), columns),
        "search_fields": tuple(f"={field}" for field in view.exact) + view.search,
        "ordering": view.order,
        "list_filter": ((_state_filter(view, *view.state),) if view.state else ()) + view.choices,
        "actions": tuple(_action(*action) for action in view.actions),
        # No link to a row's page when its URL would carry a secret primary key (a hash).
        "list_display_links": None if view.secret_key else (),
    }
    model = TABLES[view.table]
    return admin.register(model)(type(f"{model.__name__}Admin", (_ReadOnly,), attrs))


RefreshFamilyAdmin, RefreshTokenAdmin, RevocationAdmin, FailedAttemptAdmin = map(
    _page, table.RECORD_VIEWS
)
