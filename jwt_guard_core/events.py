"""The security-event channel.

Every rejection, and every notable thing a key source does, becomes a
:class:`SecurityEvent`. It is logged on the ``jwt_guard.security`` logger with
structured ``extra`` fields (``jwt_guard_event``, ``reason``, ``alg``, ``kid``,
``iss``, ``jti``, ...) and handed to every subscribed hook, so an application
can feed its SIEM, metrics or alerting without parsing log lines.

Hooks run synchronously in the verifying thread: keep them fast. An exception
raised by a hook is logged and swallowed; it never changes a verification
result.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["SecurityEvent", "emit", "subscribe", "unsubscribe"]

logger = logging.getLogger("jwt_guard.security")

EventHook = Callable[["SecurityEvent"], None]

_hooks: tuple[EventHook, ...] = ()
_hooks_lock = threading.Lock()


@dataclass(frozen=True)
class SecurityEvent:
    """One security-relevant happening.

    Attributes:
        name: what happened (``token_rejected``, ``jwks_fetch_failed``, ...).
        level: the :mod:`logging` level it was logged at.
        reason: the machine reason of a rejection, or ``None``.
        fields: further structured data (alg, kid, iss, jti, url, ...). Never
            holds a token or key material.
    """

    name: str
    level: int = logging.INFO
    reason: str | None = None
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def subscribe(hook: EventHook) -> Callable[[], None]:
    """Call ``hook(event)`` for every security event; returns an unsubscribe function.

    Subscribing a hook that is already subscribed does nothing, so an
    application set-up that runs twice (Django's ``ready()``, an app factory
    in tests) does not deliver every event twice.
    """
    global _hooks
    with _hooks_lock:
        # == rather than "is": each access to obj.method makes a new bound
        # method object, and those compare equal, not identical.
        if hook not in _hooks:
            _hooks = (*_hooks, hook)

    def _unsubscribe() -> None:
        unsubscribe(hook)

    return _unsubscribe


def unsubscribe(hook: EventHook) -> None:
    """Stop calling ``hook``. Unknown hooks are ignored."""
    global _hooks
    with _hooks_lock:
        _hooks = tuple(h for h in _hooks if h != hook)


def emit(
    name: str,
    /,
    *,
    level: int = logging.INFO,
    reason: str | None = None,
    message: str | None = None,
    **fields: Any,
) -> SecurityEvent:
    """Log an event on ``jwt_guard.security`` and pass it to every hook.

    ``fields`` become the event's fields and the log record's ``extra``
    (``None`` values are dropped; names that clash with ``LogRecord``
    attributes, such as ``name`` or ``module``, get a ``jwt_`` prefix in the
    record only). Never pass a token or key material as a field.
    """
    clean = {k: v for k, v in fields.items() if v is not None}
    event = SecurityEvent(name=name, level=level, reason=reason, fields=MappingProxyType(clean))
    if logger.isEnabledFor(level):
        extra: dict[str, Any] = {"jwt_guard_event": name, "reason": reason}
        # LogRecord attribute names such as "name" or "msg" would clash.
        extra.update({f"jwt_{k}" if k in _RESERVED else k: v for k, v in clean.items()})
        text = message or name
        logger.log(level, "%s%s", text, f" ({reason})" if reason else "", extra=extra)
    for hook in _hooks:
        try:
            hook(event)
        except Exception:
            logger.exception("jwt-guard security event hook %r failed", hook)
    return event


_RESERVED = frozenset(
    {
        "name",
        "msg",
        "args",
        "levelname",
        "levelno",
        "pathname",
        "filename",
        "module",
        "exc_info",
        "exc_text",
        "stack_info",
        "lineno",
        "funcName",
        "created",
        "msecs",
        "relativeCreated",
        "thread",
        "threadName",
        "processName",
        "process",
        "message",
        "asctime",
        "taskName",
    }
)
