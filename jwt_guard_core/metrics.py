"""Metrics through the OpenTelemetry API: ``uninstall = instrument(meter_provider)``.

Nothing here imports OpenTelemetry until :func:`instrument` is called
(``pip install jwt-guard[otel]`` brings ``opentelemetry-api``; an SDK and an
exporter are the application's choice). The metrics come from two places:

* the security events (:mod:`jwt_guard_core.events`), through a subscriber:
  rejections, JWKS fetches and failures, stale keys, shared-cache copies,
  refresh-token reuse, rate-limited requests, circuit breakers, and a count
  of every event by name;
* three measuring wrappers that OpenTelemetry instrumentors would call
  "patches", installed on the classes and removed by the uninstall function:
  ``Verifier.verify``/``averify`` (accepted verifications and latency),
  ``RevocationService.check`` (revocation checks by outcome) and the key-set
  cache's lookup (hits and misses). They add a clock read and a counter
  increment per call, and nothing at all when not installed.

Instruments (Prometheus names add ``_total`` to counters and the unit):

==========================================  =========  =====================================
``jwt_guard.verifications``                 counter    ``outcome`` (accepted, rejected),
                                                       ``reason`` (rejected), ``issuer``
``jwt_guard.verification.duration``         histogram  seconds; ``outcome``
``jwt_guard.key_cache.lookups``             counter    ``result`` (hit, miss)
``jwt_guard.jwks.fetches``                  counter    ``outcome`` (ok, not_modified,
                                                       failed), ``reason`` (failed)
``jwt_guard.jwks.shared_copies``            counter    key sets taken from the shared cache
``jwt_guard.jwks.stale``                    counter    times cached keys served past expiry
``jwt_guard.jwks.age``                      gauge      seconds since each URL's key set was
                                                       fetched (by anyone: shared copies
                                                       count); ``url``
``jwt_guard.revocation.checks``             counter    ``result`` (clear, jti, session,
                                                       subject, emergency_epoch, key,
                                                       unavailable)
``jwt_guard.refresh.reuse_detected``        counter    refresh tokens presented twice
``jwt_guard.rate_limited``                  counter    requests refused by the rate limiter
``jwt_guard.breaker.transitions``           counter    ``breaker``, ``state``
``jwt_guard.security_events``               counter    ``event``, ``level``
==========================================  =========  =====================================

Attribute values are bounded: reasons and event names are the library's
own codes; an ``issuer`` on a rejection is kept only if a token of that
issuer was accepted before (else ``other``), since a rejected token's
``iss`` is whatever an attacker wrote.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from . import events
from ._remote_cache import KeySetCache
from .errors import StateUnavailable, TokenError
from .sessions.revocation import RevocationService
from .verifier import Verifier

__all__ = ["instrument"]

_DURATION_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip
_MAX_ISSUERS = 100

_installed = threading.Lock()
_active = False


def instrument(meter_provider: Any = None) -> Callable[[], None]:
    """Start recording jwt-guard's metrics; returns the function that stops it.

    ``meter_provider`` is an OpenTelemetry ``MeterProvider`` (default: the
    global one, ``opentelemetry.metrics.get_meter_provider()``). Raises
    ``RuntimeError`` when already instrumented (call the returned function
    first) and ``ImportError`` naming the extra when ``opentelemetry-api``
    is missing.
    """
    global _active
    try:
        from opentelemetry import metrics as otel_metrics
    except ImportError:
        raise ImportError(
            "jwt_guard_core.metrics needs opentelemetry-api: pip install 'jwt-guard[otel]'"
        ) from None
    with _installed:
        if _active:
            raise RuntimeError(
                "jwt-guard metrics are already instrumented; call the uninstall function first"
            )
        provider = (
            meter_provider if meter_provider is not None else otel_metrics.get_meter_provider()
        )
        recorder = _Recorder(provider.get_meter("jwt_guard"))
        unsubscribe = events.subscribe(recorder.on_event)
        undo = [
            _wrap(Verifier, "verify", recorder.measure_verify),
            _wrap(Verifier, "averify", recorder.measure_averify),
            _wrap(RevocationService, "check", recorder.measure_revocation),
            _wrap(KeySetCache, "plan", recorder.measure_plan),
        ]
        _active = True

    def uninstall() -> None:
        global _active
        with _installed:
            if recorder.stopped:
                return
            recorder.stopped = True
            unsubscribe()
            for restore in reversed(undo):
                restore()
            _active = False

    return uninstall


def _wrap(owner: type, name: str, make: Callable[[Any], Any]) -> Callable[[], None]:
    original = owner.__dict__[name]
    wrapper = functools.wraps(original)(make(original))
    setattr(owner, name, wrapper)

    def restore() -> None:
        setattr(owner, name, original)

    return restore


class _Recorder:
    """The instruments, the event subscriber and the measuring wrappers."""

    def __init__(self, meter: Any) -> None:
        self.stopped = False
        self._issuers: set[str] = set()
        self._fetched: dict[str, float] = {}
        self._lock = threading.Lock()
        self._outage = threading.local()
        self.verifications = meter.create_counter(
            "jwt_guard.verifications", unit="{token}", description="Tokens verified, by outcome"
        )
        self.duration = _histogram(
            meter,
            "jwt_guard.verification.duration",
            unit="s",
            description="Time to verify a token, key lookup and revocation check included",
        )
        self.lookups = meter.create_counter(
            "jwt_guard.key_cache.lookups",
            unit="{lookup}",
            description="Key lookups answered from the cached key set (hit) or needing a fetch",
        )
        self.fetches = meter.create_counter(
            "jwt_guard.jwks.fetches", unit="{fetch}", description="JWKS fetches, by outcome"
        )
        self.shared = meter.create_counter(
            "jwt_guard.jwks.shared_copies",
            unit="{copy}",
            description="Key sets taken from the shared cache instead of fetched",
        )
        self.stale = meter.create_counter(
            "jwt_guard.jwks.stale",
            unit="{event}",
            description="Times cached keys were served past their expiry because refreshing failed",
        )
        meter.create_observable_gauge(
            "jwt_guard.jwks.age",
            callbacks=[self._ages],
            unit="s",
            description="Seconds since each key set was last fetched successfully",
        )
        self.revocations = meter.create_counter(
            "jwt_guard.revocation.checks",
            unit="{check}",
            description="Revocation checks, by result",
        )
        self.reuse = meter.create_counter(
            "jwt_guard.refresh.reuse_detected",
            unit="{token}",
            description="Spent refresh tokens presented again (their family was revoked)",
        )
        self.rate_limited = meter.create_counter(
            "jwt_guard.rate_limited",
            unit="{request}",
            description="Requests refused by the rate limiter",
        )
        self.breakers = meter.create_counter(
            "jwt_guard.breaker.transitions",
            unit="{transition}",
            description="Circuit breaker state changes",
        )
        self.events = meter.create_counter(
            "jwt_guard.security_events", unit="{event}", description="Security events, by name"
        )

    # -- the security-event subscriber

    def on_event(self, event: events.SecurityEvent) -> None:
        self.events.add(
            1, {"event": event.name, "level": logging.getLevelName(event.level).lower()}
        )
        handler = _HANDLERS.get(event.name)
        if handler is not None:
            handler(self, event)

    def _rejected(self, event: events.SecurityEvent) -> None:
        iss = event.fields.get("iss")
        issuer = iss if isinstance(iss, str) and iss in self._issuers else "other"
        attributes = {"outcome": "rejected", "reason": event.reason or "unknown", "issuer": issuer}
        self.verifications.add(1, attributes)

    def _fetched_ok(self, event: events.SecurityEvent) -> None:
        outcome = "not_modified" if event.fields.get("status") == 304 else "ok"
        self.fetches.add(1, {"outcome": outcome})
        self._seen_fetch(event.fields.get("url"), 0.0)

    def _fetch_failed(self, event: events.SecurityEvent) -> None:
        self.fetches.add(1, {"outcome": "failed", "reason": event.reason or "unknown"})

    def _shared_copy(self, event: events.SecurityEvent) -> None:
        self.shared.add(1)
        age = event.fields.get("age")
        self._seen_fetch(event.fields.get("url"), age if isinstance(age, (int, float)) else 0.0)

    def _seen_fetch(self, url: Any, age: float) -> None:
        if isinstance(url, str):
            with self._lock:
                self._fetched[url] = time.time() - age

    def _ages(self, options: Any) -> Iterable[Any]:
        from opentelemetry.metrics import Observation

        now = time.time()
        with self._lock:
            fetched = list(self._fetched.items())
        return [Observation(max(0.0, now - at), {"url": url}) for url, at in fetched]

    def _revocation_outage(self, event: events.SecurityEvent) -> None:
        # Failing open, check() returns "not revoked": remember it was an outage.
        self._outage.seen = True

    def _breaker(self, event: events.SecurityEvent) -> None:
        state = event.name.removeprefix("breaker_")
        self.breakers.add(1, {"breaker": str(event.fields.get("breaker")), "state": state})

    # -- the measuring wrappers

    def _accepted(self, result: Any, started: float) -> None:
        issuer = getattr(result, "issuer", None)
        if isinstance(issuer, str):
            if issuer not in self._issuers and len(self._issuers) < _MAX_ISSUERS:
                self._issuers.add(issuer)
        else:
            issuer = "none"
        self.verifications.add(1, {"outcome": "accepted", "issuer": issuer})
        self.duration.record(time.perf_counter() - started, {"outcome": "accepted"})

    def _failed(self, started: float) -> None:
        # The count comes from the token_rejected event, which carries iss.
        self.duration.record(time.perf_counter() - started, {"outcome": "rejected"})

    def measure_verify(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def verify(verifier: Verifier, token: str) -> Any:
            started = time.perf_counter()
            try:
                result = original(verifier, token)
            except TokenError:
                self._failed(started)
                raise
            self._accepted(result, started)
            return result

        return verify

    def measure_averify(self, original: Callable[..., Any]) -> Callable[..., Any]:
        async def averify(verifier: Verifier, token: str) -> Any:
            started = time.perf_counter()
            try:
                result = await original(verifier, token)
            except TokenError:
                self._failed(started)
                raise
            self._accepted(result, started)
            return result

        return averify

    def measure_revocation(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def check(service: RevocationService, claims: Any, *, kid: str | None = None) -> Any:
            self._outage.seen = False
            try:
                rule = original(service, claims, kid=kid)
            except StateUnavailable:
                self.revocations.add(1, {"result": "unavailable"})
                raise
            outage = getattr(self._outage, "seen", False)
            result = "unavailable" if outage else (rule or "clear")
            self.revocations.add(1, {"result": result})
            return rule

        return check

    def measure_plan(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def plan(cache: KeySetCache, kid: str | None, alg: str, *, fetching: bool) -> Any:
            try:
                answer = original(cache, kid, alg, fetching=fetching)
            except TokenError:
                # Refused from the cache's own knowledge (cooldown, backoff).
                self.lookups.add(1, {"result": "hit"})
                raise
            self.lookups.add(1, {"result": "hit" if answer[0] is not None else "miss"})
            return answer

        return plan


def _histogram(meter: Any, name: str, **options: Any) -> Any:
    try:
        # opentelemetry-api 1.23+: seconds need finer buckets than the defaults.
        return meter.create_histogram(
            name, explicit_bucket_boundaries_advisory=list(_DURATION_BUCKETS), **options
        )
    except TypeError:
        return meter.create_histogram(name, **options)


_HANDLERS: dict[str, Callable[[_Recorder, events.SecurityEvent], None]] = {
    "token_rejected": _Recorder._rejected,
    "jwks_fetch_ok": _Recorder._fetched_ok,
    "jwks_fetch_failed": _Recorder._fetch_failed,
    "jwks_shared_copy_used": _Recorder._shared_copy,
    "jwks_stale": lambda recorder, event: recorder.stale.add(1),
    "refresh_token_reuse": lambda recorder, event: recorder.reuse.add(1),
    "rate_limited": lambda recorder, event: recorder.rate_limited.add(1),
    "revocation_unavailable": _Recorder._revocation_outage,
    "breaker_opened": _Recorder._breaker,
    "breaker_half_open": _Recorder._breaker,
    "breaker_closed": _Recorder._breaker,
}
