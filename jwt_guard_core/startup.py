"""Start-up findings about the remote key sets: fetched now, reported naming the setting.

A discovery document for another issuer, a JWKS URL that answers 404 or
a provider that cannot be reached are otherwise found by the first request
with a token (503 ``key_source_unavailable``, or 401 ``bad_issuer`` for
every token). :func:`key_set_findings` fetches each remote key set of the
verifier's configuration through the key set itself (its discovery, its
limits, its cache: the first request then finds the keys) and returns
:class:`~jwt_guard_core.settings.Finding` objects for the adapters: Django
turns them into system checks (``jwt_guard.E013``, ``E014``, ``E021``, ``W012``),
Flask logs them at ``init_app`` and in ``flask jwt-guard check``.

The decision, :func:`key_set_finding`, is a plain function of a
:class:`KeySetProbe` (what the settings say) and the key set's
``health()`` (what the fetch found); only :func:`key_set_findings` does
I/O.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .issuer_templates import discovery_issuer, is_template
from .settings.audit import Finding
from .sources import warm_key_sources

if TYPE_CHECKING:
    from .config import GuardConfig
    from .settings.loaded import GuardSettings

__all__ = [
    "KeySetProbe",
    "key_set_finding",
    "key_set_findings",
    "key_set_probes",
    "log_findings",
    "report_once_more",
]

#: Failures that say nothing about the configuration: the provider or the
#: path to it is down. A warning, not an error: the service may start while
#: its provider is down (requests get 503 until a fetch succeeds), and a
#: deploy step without network (``migrate`` in a build container) must not fail.
UNREACHABLE = frozenset(
    {"connect_error", "connection_error", "timeout", "protocol_error", "shared_fetch_failed"}
)
# A provider answering 5xx or 429 is down or busy, not misconfigured.
_PROVIDER_TROUBLE = re.compile(r"HTTP (5\d\d|429)\b")


@dataclass(frozen=True)
class KeySetProbe:
    """One remote key set as the settings describe it: plain data for :func:`key_set_finding`.

    Args:
        setting: the setting that configures the key set, in the user's
            spelling (``JWT_GUARD['OIDC_ISSUER']``, ``JWT_GUARD_JWKS_URL``).
        value: that setting's value (the JWKS URL, or the issuer discovered from).
        discovery_issuer: the ``issuer`` the discovery document must name;
            ``None`` for a JWKS URL (no discovery).
        issuers: the ``iss`` values tokens must carry for this key set
            (empty when the issuer is not verified).
        issuer_setting: where those are configured.
    """

    setting: str
    value: str
    discovery_issuer: str | None = None
    issuers: tuple[str, ...] = ()
    issuer_setting: str | None = None


def key_set_finding(probe: KeySetProbe, health: Mapping[str, Any]) -> Finding | None:
    """What is wrong with a key set after a fetch, from its ``health()``; ``None``: nothing.

    ``discovery_issuer_mismatch`` (error): the discovery document is for
    another issuer, or it matches but the configured issuer differs, so
    every token is refused. ``key_set_invalid`` (error): the URL answers,
    but not with a usable discovery document or key set.
    ``key_set_unreachable`` (warning): the provider cannot be reached or
    answers 5xx/429.
    """
    state = health.get("state")
    if state in ("ok", "stale"):
        return _issuer_differs(probe)
    # health()'s last_error is "reason: message" (the fetch's reason code first).
    error = str(health.get("last_error") or "no usable keys were fetched")
    reason = error.partition(": ")[0] if ": " in error else None
    where = _failed_at(probe, health)
    subject = f"{probe.setting} ({probe.value!r})"
    if reason == "issuer_mismatch":
        return Finding(
            "discovery_issuer_mismatch",
            True,
            f"{subject}: {error.removeprefix('issuer_mismatch: ')}. The key set is never "
            "loaded: every request with a token gets 503 (key_source_unavailable).",
            _mismatch_hint(probe),
        )
    if reason in UNREACHABLE or state == "cold" or _PROVIDER_TROUBLE.search(error):
        return Finding(
            "key_set_unreachable",
            False,
            f"could not warm the key set of {subject} at start-up: {error} "
            f"(at {where}). Requests with a token get 503 until a fetch succeeds.",
            f"Check that this host reaches {where} (DNS, firewall, proxy) and that the "
            "provider is up; the key set retries on demand, so the service recovers by itself.",
        )
    return Finding(
        "key_set_invalid",
        True,
        f"{subject} does not give a usable key set: {error} (at {where}). Every request "
        "with a token gets 503 (key_source_unavailable).",
        _invalid_hint(probe),
    )


def _failed_at(probe: KeySetProbe, health: Mapping[str, Any]) -> str:
    """The URL that failed: the key set's, or the discovery document before a jwks_uri is known."""
    url = health.get("url")
    if isinstance(url, str):
        return url
    if probe.discovery_issuer is not None:
        return probe.value.rstrip("/") + "/.well-known/openid-configuration"
    return probe.value


def _published(issuer: str) -> str:
    """The ``issuer`` a discovery document publishes for a configured issuer (or template)."""
    return discovery_issuer(issuer) if is_template(issuer) else issuer


def _issuer_differs(probe: KeySetProbe) -> Finding | None:
    """The document matched the URL it came from, but tokens are expected from another issuer."""
    found = probe.discovery_issuer
    if found is None or not probe.issuers or any(_published(i) == found for i in probe.issuers):
        return None
    configured = probe.issuers[0] if len(probe.issuers) == 1 else list(probe.issuers)
    return Finding(
        "discovery_issuer_mismatch",
        True,
        f"{probe.issuer_setting} is {configured!r}, but the discovery document of "
        f"{probe.setting} is for issuer {found!r}: its tokens carry iss {found!r}, so every "
        "one is refused (bad_issuer). The comparison is exact, trailing slash included.",
        f"Set {probe.issuer_setting} to {found!r}, or leave it out: with {probe.setting} "
        "alone the discovered issuer is the expected one.",
    )


def _mismatch_hint(probe: KeySetProbe) -> str:
    if probe.issuers and any(is_template(i) for i in probe.issuers):
        return (
            f"{probe.issuer_setting} is an issuer template: {probe.setting} must be the "
            "multi-tenant discovery URL whose document publishes that template (Entra: "
            "https://login.microsoftonline.com/common/v2.0 or .../organizations/v2.0)."
        )
    return (
        f"Give {probe.setting} exactly as the provider writes 'issuer' in its discovery "
        "document (the iss of its tokens), trailing slash included."
    )


def _invalid_hint(probe: KeySetProbe) -> str:
    if probe.discovery_issuer is not None:
        return (
            f"{probe.setting} is the issuer URL: its /.well-known/openid-configuration must "
            "be the provider's discovery document with a jwks_uri. Open it in a browser "
            "from this host to see what it answers."
        )
    return (
        f"{probe.setting} must be the provider's JWKS URL (a JSON document with a 'keys' "
        "list, e.g. the jwks_uri of its discovery document)."
    )


# --- the settings' remote key sets ------------------------------------------------

_REMOTE = ("jwks_url", "oidc_issuer")


def key_set_probes(settings: GuardSettings, config: GuardConfig) -> list[tuple[KeySetProbe, Any]]:
    """Each remote key set of ``config`` (built from ``settings``) with its probe.

    Key sets that are not remote (static keys, the issuing keys, a user's
    own key source without ``warm``) are left out.
    """
    probes: list[tuple[KeySetProbe, Any]] = []
    issuers = settings.get("issuers")
    if isinstance(issuers, Mapping):
        for iss, entry in issuers.items():
            policy = config.policies.get(iss)
            if policy is None or not _remote(policy.keys):
                continue
            where = f"{settings.name('issuers')}[{iss!r}]"
            # An IssuerPolicy entry is named by its issuer alone.
            setting, value = where, _described(policy.keys)
            if isinstance(entry, Mapping):
                for name in _REMOTE:
                    key = settings.entry_key(name)
                    if entry.get(key) is not None:
                        setting, value = f"{where}[{key!r}]", str(entry[key])
            probes.append((_probe(setting, value, policy.keys, (str(iss),), where), policy.keys))
        return probes
    sources = {id(p.keys): p.keys for p in config.policies.values()}
    expected = tuple(str(i) for i in config.policies if i is not None)
    for source in sources.values():
        if not _remote(source):
            continue
        setting, value = _single_setting(settings, source)
        issuer_setting = (
            _named(settings, "issuer") if settings.get("issuer") is not None else setting
        )
        probes.append((_probe(setting, value, source, expected, issuer_setting), source))
    return probes


def _remote(source: Any) -> bool:
    return callable(getattr(source, "warm", None)) and callable(getattr(source, "health", None))


def _single_setting(settings: GuardSettings, source: Any) -> tuple[str, str]:
    """The setting that configures the one key set, and its value as the user knows it."""
    for name in (*_REMOTE, "keys"):
        value = settings.get(name)
        if value is None:
            continue
        shown = value if isinstance(value, str) else _described(source)
        return _named(settings, name), shown
    return "the key source", _described(source)


def _named(settings: GuardSettings, name: str) -> str:
    """The setting in the user's spelling; one from the ``PROVIDER`` preset says so."""
    if settings.given.get(name) is None:
        return f"{settings.name(name)} (from {settings.name('provider')})"
    return settings.name(name)


def _described(source: Any) -> str:
    """A key set object given as a setting (``JWT_GUARD_KEYS``): its issuer or URL."""
    for attribute in ("issuer", "url"):
        value = getattr(source, attribute, None)
        if isinstance(value, str):
            return value
    return repr(source)


def _probe(
    setting: str, value: str, source: Any, issuers: tuple[str, ...], issuer_setting: str
) -> KeySetProbe:
    found = getattr(source, "issuer", None)
    return KeySetProbe(
        setting=setting,
        value=value,
        discovery_issuer=found if isinstance(found, str) else None,
        issuers=issuers,
        issuer_setting=issuer_setting,
    )


def key_set_findings(settings: GuardSettings, config: GuardConfig) -> list[Finding]:
    """Fetch every remote key set of ``config`` not fetched yet, and report what is wrong.

    ``config`` is the verifier's own (so the keys fetched here serve the
    first request). A key set already fetched or tried (an earlier warm-up)
    is judged on that result without another request. Never raises for a
    provider that is down.
    """
    found: list[Finding] = []
    for probe, source in key_set_probes(settings, config):
        if source.health().get("state") == "cold":
            # Through the adapters' warm-up: a key source's own error is
            # swallowed there and shows in its health.
            warm_key_sources([source])
        finding = key_set_finding(probe, source.health())
        if finding is not None:
            found.append(finding)
    return found


def log_findings(found: Iterable[Finding], logger: logging.Logger) -> None:
    """Log each finding as a warning on ``logger`` (Flask's start-up report), hint included."""
    for finding in found:
        logger.warning(
            "jwt-guard: %s %s",
            finding.message,
            finding.hint,
            extra={"jwt_guard_event": "startup_check", "jwt_guard_check": finding.code},
        )


def report_once_more(
    check: Callable[[], list[Finding]], logger: logging.Logger
) -> Callable[[], None]:
    """Log ``check()``'s findings now; the function returned logs the new ones once more.

    Flask's routes: checked at ``init_app`` for those registered by then, and
    before the first request (the function returned, whichever thread calls
    it first) for those added since, each finding reported once.
    """
    found = check()
    log_findings(found, logger)
    reported = {f.message for f in found}
    lock = threading.Lock()
    done = threading.Event()

    def once_more() -> None:
        # One Event test per request once done.
        if done.is_set():
            return
        with lock:
            if done.is_set():
                return
            done.set()
        log_findings([f for f in check() if f.message not in reported], logger)

    return once_more
