"""Naming settings as the user wrote them, for the settings modules of the core.

The core's classes name their parameters in a
:class:`~jwt_guard_core.ConfigurationError` (``lifetime``, ``window``);
a user fixes a setting (``JWT_GUARD['SESSIONS']['REFRESH_TOKEN_LIFETIME']``,
``JWT_GUARD_SESSIONS_RATE_LIMIT_WINDOW``). The settings modules
(:mod:`jwt_guard_core.signing.settings`, :mod:`jwt_guard_core.sessions.settings`)
translate with these helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .errors import ConfigurationError

__all__ = ["NameFor", "refuse_unknown_keys", "renamed", "setting_name"]

#: How an adapter spells a setting's upper-case key (``JWT_GUARD_SESSIONS_MODE``).
NameFor = Callable[[str], str]


def setting_name(field_name: str, name_for: NameFor | None) -> str:
    """The adapter's name for a settings field (the field name without ``name_for``)."""
    return name_for(field_name.upper()) if name_for else field_name


def refuse_unknown_keys(
    values: Mapping[Any, Any], known: Collection[str], name_for: NameFor | None
) -> None:
    """Refuse a key not in ``known``: a misspelt one would silently keep a default."""
    unknown = sorted(str(k) for k in values if k not in known)
    if unknown:
        name = name_for or str
        raise ConfigurationError(
            name(unknown[0]),
            f"unknown key; known: {', '.join(name(k) for k in sorted(known))}",
        )


@contextmanager
def renamed(
    fields: Collection[str], parameters: Mapping[str, str], name_for: NameFor | None
) -> Iterator[None]:
    """Re-raise a core error under the name the user wrote the setting with.

    ``parameters`` maps a core parameter name to the settings field it
    comes from; an error naming neither a field nor a mapped parameter
    (something the adapter passed itself) is re-raised as it is.
    """
    try:
        yield
    except ConfigurationError as exc:
        field_name = parameters.get(exc.setting, exc.setting)
        if field_name not in fields:
            raise
        message = str(exc)[len(exc.setting) + 2 :]
        raise ConfigurationError(setting_name(field_name, name_for), message) from None
