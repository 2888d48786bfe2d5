"""System checks: a dangerous ``JWT_GUARD`` is reported at start-up (ids in docs/django.md).

Each check, its id and its message are the core's
(:mod:`jwt_guard_core.system_checks`); this module wraps them in Django's
``Error`` / ``Warning`` and walks the URLconf.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.urls import URLResolver, get_resolver

from jwt_guard_core.system_checks import Check, view_checks

from .conf import conf, served


def _messages(checks: Iterable[Check]) -> list[CheckMessage]:
    return [(Error if c.error else Warning)(c.message, hint=c.hint, id=c.id) for c in checks]


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every check of the settings themselves."""
    raw = getattr(settings, "JWT_GUARD", None)
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    return _messages(
        served.settings_checks(raw, development=bool(settings.DEBUG), middleware=middleware)
    )


def check_key_sets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The remote key sets warmed by ``ready()`` when ``WARM_ON_STARTUP`` is on."""
    return _messages(served.key_set_checks(deploy=False))


def check_key_sets_deploy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The same under ``check --deploy`` when warm-up is off: fetches now."""
    return _messages(served.key_set_checks(deploy=True))


def check_routes(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Views of the URLconf that cannot work; no request is made."""
    return _messages(view_checks(conf.parsed, _views(get_resolver())))


def _views(resolver: Any, prefix: str = "", namespace: str = "") -> Iterator[Any]:
    """``(label, view, view class or None, as_view kwargs)`` of every view under ``resolver``."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _views(entry, route, inner)
            continue
        view = entry.callback
        # DRF's view class, or Django's.
        view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
        name = f" (name {namespace + entry.name!r})" if entry.name else ""
        target = view_class or view
        label = f"URL pattern {route!r}{name}, view {target.__module__}.{target.__qualname__},"
        yield label, view, view_class, getattr(view, "initkwargs", None) or {}
