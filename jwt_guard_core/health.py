"""Liveness and readiness for a load balancer or Kubernetes probes, for both adapters.

:func:`health` answers "can this process verify tokens right now?": each key
source (``fresh``, ``stale`` with its age, ``unavailable``), each Redis
backend (``reachable``, ``unreachable``, ``breaker_open``), and an overall
``status`` (``"ready"`` when every key source can verify and every backend
answers). :func:`liveness` is the answer that needs no I/O. The adapters
serve both as JSON (Django: ``jwt_guard_django.health_urls``; Flask:
``jwt_guard_flask.health.health_blueprint``), 200 when ready, 503 when not.

What a report never holds: a key, a secret, a token, a URL's credentials
or query (a Redis password, an API key), an exception's message (redis-py
and httpx messages can name hosts and users). Errors are a class name or
the fetch's machine reason (``http_status``, ``timeout``, ...).

The JSON shape (docs/production.md)::

    {
      "status": "ready" | "not_ready",
      "key_sources": [
        {"issuer": "https://idp.example/" | "*", "type": "remote" | "static" | <class name>,
         "state": "fresh" | "stale" | "unavailable" | "cold", "can_verify": true,
         "kids": 2, "age": 12.5 | null, "failures": 0, "last_error": "timeout" | null,
         "retry_in": null | 4.0, "url": "https://idp.example/jwks.json" | null}
      ],
      "backends": [
        {"name": "sessions" | "signing_keys" | "jwks_shared_cache",
         "state": "reachable" | "unreachable" | "breaker_open" | "unavailable",
         "breaker": "closed" | "open" | "half_open" | null, "error": null | "ConnectionError"}
      ]
    }

``backends`` lists the Redis stores (pinged) and any store that could not
be opened (``unavailable``); local stores (SQLite, files, memory) are not
listed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .keys import KeySource, StaticKeySet

__all__ = ["PROBES", "health", "liveness", "probe", "readiness", "redact_url"]

logger = logging.getLogger("jwt_guard.health")

READY = "ready"
NOT_READY = "not_ready"

# RemoteJWKS.health() states, as a probe reads them.
_STATES = {"ok": "fresh", "stale": "stale", "unavailable": "unavailable", "cold": "cold"}


def liveness() -> dict[str, str]:
    """``{"status": "alive"}``: the process answers. No I/O, nothing checked."""
    return {"status": "alive"}


#: The probe routes both adapters serve.
PROBES = ("live", "ready")


def probe(
    name: str,
    key_sources: Callable[[], Mapping[str | None, KeySource]],
    backends: Callable[[], Mapping[str, Callable[[], Any]]],
) -> tuple[int, dict[str, Any]]:
    """``(HTTP status, JSON body)`` of the ``live`` or ``ready`` route of :data:`PROBES`.

    ``live`` calls neither argument (no I/O); ``ready`` is :func:`readiness`
    over ``key_sources`` and the store factories ``backends()`` returns.
    """
    if name == "live":
        return 200, liveness()
    return readiness(key_sources, backends())


def health(
    key_sources: Mapping[str | None, KeySource],
    backends: Mapping[str, Any] | None = None,
    *,
    warm: bool = True,
) -> dict[str, Any]:
    """What this process can do now, as plain data (see the module docstring for the shape).

    Args:
        key_sources: the verifier's key source per issuer (``None``: any
            issuer), as the adapters' ``key_sources()`` return them.
        backends: stores by name (``{"sessions": store, "signing_keys": store}``);
            those with a circuit breaker and a ``ping()`` (the Redis stores)
            are pinged, others are left out. The shared JWKS cache of a
            remote key source is added as ``"jwks_shared_cache"``.
        warm: fetch a remote key set that was never fetched (``cold``), or
            whose keys expired and whose failure backoff is over, as a token
            would, so the probe says whether it can be; without it ``cold``
            counts as able to verify (it fetches on the first token).

    A cold fetch is bounded by the key set's timeout; a ping by the Redis
    client's and, once the breaker is open, costs nothing.
    """
    sources = [_key_source(iss, source, warm=warm) for iss, source in key_sources.items()]
    stores = dict(backends or {})
    shared = _shared_cache(key_sources.values())
    if shared is not None:
        stores.setdefault("jwks_shared_cache", shared)
    pinged = [
        _backend(name, store)
        for name, store in stores.items()
        if store is not None and callable(getattr(store, "ping", None))
    ]
    ready = all(s["can_verify"] for s in sources) and all(r["state"] == "reachable" for r in pinged)
    return {
        "status": READY if ready else NOT_READY,
        "key_sources": sources,
        "backends": pinged,
    }


def readiness(
    key_sources: Callable[[], Mapping[str | None, KeySource]],
    backends: Mapping[str, Callable[[], Any]] | None = None,
) -> tuple[int, dict[str, Any]]:
    """``(HTTP status, report)`` for a readiness route: 200 when ready, else 503.

    The adapters pass how to reach their objects: ``key_sources()`` (the
    verifier's) and a factory per backend (``{"sessions": lambda: store}``).
    Whatever one of them raises (a setting refused, a store that cannot be
    opened) makes the answer 503 with the error's class name, never a 500.
    """
    try:
        sources = key_sources()
    except Exception as exc:  # a probe reports, never raises
        logger.warning("readiness: the verifier cannot be built (%s)", type(exc).__name__)
        return 503, {
            "status": NOT_READY,
            "error": type(exc).__name__,
            "key_sources": [],
            "backends": [],
        }
    stores: dict[str, Any] = {}
    broken: list[dict[str, Any]] = []
    for name, factory in (backends or {}).items():
        try:
            stores[name] = factory()
        except Exception as exc:  # a probe reports, never raises
            broken.append(
                {"name": name, "state": "unavailable", "breaker": None, "error": type(exc).__name__}
            )
    report = health(sources, stores)
    if broken:
        report["backends"] = [*report["backends"], *broken]
        report["status"] = NOT_READY
    return (200 if report["status"] == READY else 503), report


def _key_source(issuer: str | None, source: KeySource, *, warm: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"issuer": issuer if issuer is not None else "*"}
    report = getattr(source, "health", None)
    if not callable(report):
        kids = len(source.keys) if isinstance(source, StaticKeySet) else None
        kind = "static" if isinstance(source, StaticKeySet) else type(source).__name__
        # A source without a health() has nothing to fetch that could fail;
        # a store behind it (the issuing keys) is reported as a backend.
        return {**entry, "type": kind, "state": "fresh", "can_verify": True, "kids": kids}
    snapshot = report()
    if warm and _due(snapshot):
        try:
            source.warm()  # type: ignore[attr-defined]
        except Exception as exc:  # a probe reports, never raises
            logger.warning(
                "warming a key set for the readiness probe failed: %s", type(exc).__name__
            )
        snapshot = report()
    state = _STATES.get(str(snapshot.get("state")), "unavailable")
    age = snapshot.get("age")
    retry_in = snapshot.get("retry_in")
    return {
        **entry,
        "type": "remote",
        "state": state,
        "can_verify": state != "unavailable",
        "kids": len(snapshot.get("kids") or ()),
        "age": None if age is None else round(float(age), 3),
        "failures": int(snapshot.get("failures") or 0),
        "last_error": _error_reason(snapshot.get("last_error")),
        "retry_in": None if retry_in is None else round(float(retry_in), 3),
        "url": redact_url(snapshot.get("url")),
    }


def _due(snapshot: Mapping[str, Any]) -> bool:
    """Never fetched, or expired and out of the failure backoff: fetch before answering."""
    if snapshot.get("state") == "cold":
        return True
    expires_in, retry_in = snapshot.get("expires_in"), snapshot.get("retry_in")
    expired = isinstance(expires_in, (int, float)) and expires_in <= 0
    return expired and not retry_in


def _error_reason(last_error: object) -> str | None:
    """``"timeout: the key set ... at https://..."`` -> ``"timeout"`` (the machine reason only)."""
    if not isinstance(last_error, str) or not last_error:
        return None
    reason = last_error.partition(":")[0].strip()
    return reason if reason.replace("_", "").isalnum() else "error"


def redact_url(url: object) -> str | None:
    """``scheme://host[:port]/path`` of ``url``: no user, password, query or fragment."""
    if not isinstance(url, str) or not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _shared_cache(sources: Iterable[KeySource]) -> Any:
    """The shared JWKS cache the remote key sources use (one per configuration)."""
    for source in sources:
        shared = getattr(source, "shared_cache", None)
        if shared is not None:
            return shared
    return None


def _backend(name: str, store: Any) -> dict[str, Any]:
    breaker = getattr(store, "breaker", None)
    before = getattr(breaker, "state", None)
    if before == "open":
        # Failing fast: a ping would be refused without reaching Redis.
        return {"name": name, "state": "breaker_open", "breaker": "open", "error": None}
    try:
        error = store.ping()
    except Exception as exc:  # a probe reports, never raises
        error = type(exc).__name__
    after = getattr(breaker, "state", None)
    if error is None:
        state = "reachable"
    elif error == "circuit_open":
        state, error = "breaker_open", None
    else:
        state = "unreachable"
    return {"name": name, "state": state, "breaker": after, "error": error}
