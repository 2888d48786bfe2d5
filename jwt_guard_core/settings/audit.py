"""Start-up findings: what is wrong or risky in a configuration, decided once for both adapters.

:func:`findings` looks at a :class:`~jwt_guard_core.settings.GuardSettings`
without building anything (no key is parsed, nothing is fetched) and
returns :class:`Finding` objects with a stable ``code``. The Django adapter
turns them into system checks (``code`` -> ``jwt_guard.E0xx`` /
``jwt_guard.W0xx``), the Flask adapter logs the risky ones at ``init_app``
(errors there are raised by building the configuration instead). Texts name
the settings in the user's own spelling.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError
from .loaded import KEY_SOURCES as _KEY_SOURCES
from .loaded import SCALE_SETTINGS, GuardSettings
from .schema import SESSIONS_DEFAULTS, by_name

__all__ = ["Finding", "findings"]


@dataclass(frozen=True)
class Finding:
    """One problem: ``error`` (the configuration cannot work) or a risky value."""

    code: str
    error: bool
    message: str
    hint: str = ""


def findings(settings: GuardSettings, *, development: bool = False) -> list[Finding]:
    """Every finding for ``settings``, in a stable order.

    ``development`` (Django's ``DEBUG``) forgives cookie attributes that
    only matter over the internet (``Secure``, ``HttpOnly``).
    """
    found: list[Finding] = []
    found += _unknown_keys(settings)
    found += _algorithms(settings)
    found += _key_sources(settings)
    found += _validation(settings)
    found += _claims_policy(settings)
    found += _locations(settings)
    found += _cookie(settings, development)
    found += _sender(settings)
    found += _users(settings)
    found += _scale(settings)
    found += _sessions_async(settings)
    found += _revocation_mirror(settings)
    found += _beyond_jws(settings)
    return found


def _unknown_keys(s: GuardSettings) -> Iterator[Finding]:
    if s.unknown:
        yield Finding(
            "unknown_keys",
            False,
            f"unknown config key(s) {', '.join(s.unknown)} are ignored; a misspelt key silently "
            "keeps its default",
            "Known keys are listed in the settings table of the docs.",
        )


def _entries(s: GuardSettings) -> list[tuple[str, Any, Mapping[str, Any]]]:
    """``(where, algorithms, {canonical key source: value})`` per issuer (one without ISSUERS)."""
    issuers = s.get("issuers")
    algorithms = s.get("algorithms")
    if isinstance(issuers, Mapping) and issuers:
        entries: list[tuple[str, Any, Mapping[str, Any]]] = []
        for iss, entry in issuers.items():
            if not isinstance(entry, Mapping):
                continue
            keys = {n: entry.get(s.entry_key(n)) for n in _sources(s)}
            keys["jwks_options"] = entry.get(s.entry_key("jwks_options"))
            where = f"{s.name('issuers')}[{iss!r}]"
            entries.append((where, entry.get(s.entry_key("algorithms"), algorithms), keys))
        return entries
    keys = {n: s.get(n) for n in (*_sources(s), "jwks_options")}
    return [("", algorithms, keys)]


def _sources(s: GuardSettings) -> tuple[str, ...]:
    return tuple(n for n in _KEY_SOURCES if by_name(n).key(s.adapter) is not None)


def _algorithms(s: GuardSettings) -> Iterator[Finding]:
    from ..algorithms import ALGORITHMS, HMAC_ALGORITHMS

    union: set[str] = set()
    for where, given, keys in _entries(s):
        name = f"{where}['ALGORITHMS']" if where else s.name("algorithms")
        algs = by_name("algorithms").read(given, name)
        if isinstance(algs, str) or not isinstance(algs, Sequence) or not algs:
            yield Finding(
                "no_algorithms",
                True,
                f"{name} is not set: no algorithm is allowed.",
                "List the algorithms your issuer signs with, e.g. ['RS256']. There is no "
                "default: accepting whatever a token names is how alg-confusion starts.",
            )
            continue
        union.update(a for a in algs if isinstance(a, str))
        hmac_algs = [a for a in algs if a in HMAC_ALGORITHMS]
        if hmac_algs and len(hmac_algs) != len(algs):
            yield Finding(
                "hmac_mixed",
                True,
                f"{name} mixes HMAC ({', '.join(hmac_algs)}) with asymmetric algorithms.",
                "Allow either HMAC (shared secret) or public-key algorithms. Mixing them "
                "invites algorithm confusion (RFC 8725 section 2.1).",
            )
        secret = keys.get("secret")
        if hmac_algs and isinstance(secret, (str, bytes)):
            size = len(secret.encode("utf-8") if isinstance(secret, str) else secret)
            needed = max(ALGORITHMS[a].hash_bytes for a in hmac_algs)
            if size < needed:
                secret_name = f"{where}[{s.entry_key('secret')!r}]" if where else s.name("secret")
                yield Finding(
                    "hmac_secret_short",
                    True,
                    f"{secret_name} is {size} bytes; {', '.join(hmac_algs)} needs at least "
                    f"{needed}.",
                    "RFC 7518 section 3.2: the secret must be at least as long as the hash. "
                    "Generate one with secrets.token_urlsafe(64).",
                )
    if union & HMAC_ALGORITHMS and union - HMAC_ALGORITHMS:
        yield Finding(
            "algorithms_mixed",
            False,
            f"{s.name('algorithms')} mixes HMAC and public-key algorithms "
            f"({', '.join(sorted(union))}); allow one family unless issuers really differ",
        )


def _key_sources(s: GuardSettings) -> Iterator[Finding]:
    from ..sources import is_loopback_url

    for where, _, keys in _entries(s):
        if not any(keys.get(n) is not None for n in _sources(s)):
            yield Finding(
                "no_key_source",
                True,
                f"{where or 'JWT_GUARD'} has no key source.",
                "Set one of " + ", ".join(s.short(n) for n in _sources(s)) + ".",
            )
        for n in ("jwks_url", "oidc_issuer"):
            url = keys.get(n)
            if (
                isinstance(url, str)
                and url.lower().startswith("http:")
                and not is_loopback_url(url)
            ):
                label = f"{where}[{s.entry_key(n)!r}]" if where else s.name(n)
                yield Finding(
                    "plain_http",
                    False,
                    f"{label} {url!r} uses plain http: anyone on the path can replace the keys "
                    "and mint tokens you accept; use https",
                    "Use https (http is allowed only on loopback, for development).",
                )


def _validation(s: GuardSettings) -> Iterator[Finding]:
    from ..config import MAX_LEEWAY

    if s.get("verify_issuer") is False:
        yield Finding(
            "issuer_unverified",
            False,
            f"{s.name('verify_issuer')} is False: tokens from any issuer sharing the keys are "
            "accepted (RFC 8725 section 3.8)",
            f"Set {s.short('issuer')} to the iss your tokens carry.",
        )
    if s.get("verify_audience") is False:
        yield Finding(
            "audience_unverified",
            False,
            f"{s.name('verify_audience')} is False: tokens minted for other APIs are accepted "
            "(RFC 8725 section 3.9)",
            f"Set {s.short('audience')} to this API's identifier.",
        )
    leeway = by_name("leeway").read(s.get("leeway"), s.name("leeway"))
    if (
        isinstance(leeway, bool)
        or not isinstance(leeway, (int, float))
        or not 0 <= leeway <= MAX_LEEWAY
    ):
        yield Finding(
            "leeway_range",
            True,
            f"{s.name('leeway')} {leeway!r} is not from 0 to {MAX_LEEWAY:g} seconds.",
            "Leeway absorbs clock skew between servers (seconds, default 10); a larger one "
            "keeps expired tokens alive. Fix the clocks with NTP instead.",
        )


def _claims_policy(s: GuardSettings) -> Iterator[Finding]:
    """The claims policy's risky values (issue 13; docs/claims.md)."""
    relaxed = s.get("optional_claims")
    if relaxed:
        names = relaxed if isinstance(relaxed, str) else ", ".join(map(str, relaxed))
        yield Finding(
            "claims_relaxed",
            False,
            f"{s.name('optional_claims')} relaxes {names}: tokens without them are accepted",
            "Keep iat and sub required unless your issuer never writes them.",
        )
    check = s.get("claims_check")
    if s.adapter == "django" and (
        _is_async(check) or (isinstance(check, str) and _is_async(_imported(s, "claims_check")))
    ):
        yield Finding(
            "claims_check_async",
            False,
            f"{s.name('claims_check')} is an async function: only async requests (the "
            "middleware under ASGI) can run it; sync requests and DRF views fail with a "
            "configuration error",
            "Give a plain function unless every protected request is served asynchronously.",
        )
    if s.get("token_kind") == "any":
        yield Finding(
            "token_kind_any",
            False,
            f"{s.name('token_kind')} is 'any': ID and refresh tokens of your issuer are "
            "accepted as access tokens",
            "Keep 'access' (the default) unless this API is meant to take ID tokens.",
        )


def _is_async(value: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(value) or inspect.iscoroutinefunction(
        getattr(value, "__call__", None)  # noqa: B004 - async __call__ objects count too
    )


def _imported(s: GuardSettings, name: str) -> Any:
    try:
        return s.resolved(name)
    except ConfigurationError:
        return None  # reported when the configuration is built


def _read(s: GuardSettings, name: str) -> tuple[Any, ConfigurationError | None]:
    try:
        return s.read(name), None
    except ConfigurationError as exc:
        return s.get(name), exc


def _locations(s: GuardSettings) -> Iterator[Finding]:
    locations, error = _read(s, "token_locations")
    if error is not None:
        yield Finding(
            "bad_locations",
            True,
            f"{s.name('token_locations')} {s.get('token_locations')!r} is not a list of "
            "'header' and/or 'cookie'.",
            "e.g. ['header'] or ['header', 'cookie'] (tried in that order).",
        )
        return
    _, error = _read(s, "header_types")
    if "header" in locations and error is not None:
        yield Finding(
            "bad_header_types",
            True,
            f"{s.name('header_types')} is empty or not a list of auth-schemes while tokens are "
            "read from the header.",
            "Use the default ['Bearer'] (RFC 6750).",
        )


def _cookie(s: GuardSettings, development: bool) -> Iterator[Finding]:
    locations, error = _read(s, "token_locations")
    if error is not None or "cookie" not in locations:
        return
    if not development and s.get("cookie_secure") is False:
        yield Finding(
            "cookie_insecure",
            False,
            f"{s.name('cookie_secure')} is False: the token cookie is sent over plain http",
            "Keep it True (the default) so the token never leaves TLS.",
        )
    if not development and s.get("cookie_httponly") is False:
        yield Finding(
            "cookie_script_readable",
            False,
            f"{s.name('cookie_httponly')} is False: page scripts can read the token",
            "Keep it True (the default) so an XSS cannot steal it.",
        )
    samesite = s.get("cookie_samesite")
    if isinstance(samesite, str) and samesite.lower() == "none":
        yield Finding(
            "cookie_samesite_none",
            False,
            f"{s.name('cookie_samesite')} is 'None': browsers send the token cookie with "
            "cross-site requests",
            "Use 'Lax' (the default) or 'Strict' unless another site must send it.",
        )
    if s.get("cookie_csrf") is False:
        yield Finding(
            "cookie_csrf_off",
            False,
            f"{s.name('cookie_csrf')} is False while tokens are read from a cookie: unsafe "
            "requests are open to cross-site request forgery",
            "Keep CSRF protection on (the default).",
        )


def _sender(s: GuardSettings) -> Iterator[Finding]:
    # Issue 15 (DPoP): a replay store per process lets a replayed proof through.
    mode = s.get("dpop")
    if mode in ("allowed", "required") and s.get("dpop_replay_store") is None:
        yield Finding(
            "dpop_memory_replay_store",
            False,
            f"{s.name('dpop')} is {mode!r} with the in-memory DPoP replay store: each worker "
            "process remembers only its own proofs, so a proof replayed to another worker is "
            "accepted",
            f"With several workers set {s.short('dpop_replay_store')} to a redis:// URL or "
            "'sqlite:///path' they share (docs/dpop.md).",
        )


def _users(s: GuardSettings) -> Iterator[Finding]:
    """Local users matched across issuers (OpenID Connect Core 5.7: a user is iss and sub)."""
    try:
        mapping = s.users
    except ConfigurationError as exc:
        yield Finding(
            "user_issuers_invalid",
            True,
            str(exc),
            f"{s.short('user_issuers')} lists the issuers (keys of {s.short('issuers')}) whose "
            "subjects are local users.",
        )
        return
    issuers = s.get("issuers")
    field, resolver = s.get("user_id_field"), s.get("user_resolver")
    if field is None and resolver is None:
        return
    by = s.short("user_resolver") if resolver is not None else s.short("user_id_field")
    if isinstance(issuers, Mapping) and len(issuers) > 1 and s.get("user_issuers") is None:
        yield Finding(
            "user_issuers_unset",
            False,
            f"{s.short('issuers')} has {len(issuers)} issuers and {by} is set, but "
            f"{s.short('user_issuers')} is not: no issuer's tokens are matched to local users "
            "(request.user is a TokenUser)",
            f"Set {s.short('user_issuers')} to the issuers whose subjects are your users.",
        )
    if resolver is None and mapping.several:
        listed = ", ".join(repr(i) for i in sorted(mapping.issuers or ()))
        yield Finding(
            "user_issuers_shared",
            False,
            f"{s.short('user_issuers')} maps {listed} to local users by {by}, which matches the "
            "subject alone: a sub from one issuer becomes the local user with that sub from "
            "another (OpenID Connect Core 5.7)",
            f"Map one issuer, or give a {s.short('user_resolver')} that matches "
            "token.issuer and token.subject.",
        )


def _scale(s: GuardSettings) -> Iterator[Finding]:
    """Production at scale (issue 17): the Redis breakers and the shared JWKS cache."""
    for setting in SCALE_SETTINGS:
        try:
            s.read(setting)
        except ConfigurationError as exc:
            yield Finding(
                "scale_setting_invalid",
                True,
                str(exc),
                "See the settings table and docs/production.md for the accepted values.",
            )
            return
    shared = s.read("jwks_shared_cache")
    redis_backends = [
        name
        for name, used in (
            (s.name("sessions.redis_url"), _group_value(s, "sessions", "BACKEND") == "redis"),
            (s.name("issuing.redis_url"), _group_value(s, "issuing", "REDIS_URL") is not None),
            (s.name("jwks_shared_cache"), shared is not None and shared[0] == "redis"),
        )
        if used
    ]
    if s.get("redis_breaker") is False and redis_backends:
        yield Finding(
            "redis_breaker_off",
            False,
            f"{s.name('redis_breaker')} is False while {', '.join(redis_backends)} use Redis: "
            "during a Redis outage every request waits for its socket timeout, and the workers "
            "pile up behind it",
            f"Keep {s.short('redis_breaker')} on (the default); tune "
            f"{s.short('redis_breaker_failures')} and {s.short('redis_breaker_cool_down')}.",
        )
    if shared is not None and not _has_remote_source(s):
        yield Finding(
            "shared_jwks_unused",
            False,
            f"{s.name('jwks_shared_cache')} is set but no key source is fetched "
            f"({s.short('jwks_url')} or {s.short('oidc_issuer')}): it is not used",
            "Remove it, or configure a remote key set.",
        )


def _group_value(s: GuardSettings, group: str, key: str) -> Any:
    """A nested group's value as given (Django's default sessions backend is sqlite)."""
    try:
        values = s.group(group)
    except ConfigurationError:
        return None
    if not isinstance(values, Mapping) or (s.adapter == "django" and not values):
        return None
    return values.get(key)


def _has_remote_source(s: GuardSettings) -> bool:
    return any(
        keys.get(name) is not None
        for _, _, keys in _entries(s)
        for name in ("jwks_url", "oidc_issuer")
    )


def _sessions_async(s: GuardSettings) -> Iterator[Finding]:
    """Async session views over Django's ORM store: every store call queues on one thread."""
    try:
        group = s.group("sessions")
    except ConfigurationError:
        return  # reported when the sessions are built
    if not group or group.get("ASYNC") is not True or group.get("BACKEND") != "django":
        return
    yield Finding(
        "sessions_async_orm",
        False,
        f"{s.nested_name('sessions', 'ASYNC')} is True with {s.nested_name('sessions', 'BACKEND')} "
        "'django': the async session views reach the database through "
        "sync_to_async(thread_sensitive=True), so every session store call of every request "
        "waits its turn on one thread",
        f"Use {s.nested_name('sessions', 'BACKEND')} 'redis' (redis.asyncio) or 'sqlite' (a "
        "worker thread per call) with async views, or keep "
        f"{s.nested_name('sessions', 'ASYNC')} False.",
    )


# -- speed (issue 14): the Redis revocation mirror

#: Above this bound a logout takes long enough to be seen elsewhere to warn.
_MIRROR_LAG_WARNING = 5.0


def _revocation_mirror(s: GuardSettings) -> Iterator[Finding]:
    try:
        values = s.group("sessions")
    except ConfigurationError:
        return  # reported where the sessions are built
    if not values:
        return
    name = s.name_for("sessions")
    backend = values.get("BACKEND", SESSIONS_DEFAULTS["BACKEND"])
    mirror = values.get("REVOCATION_MIRROR", SESSIONS_DEFAULTS["REVOCATION_MIRROR"])
    if backend is None and s.adapter == "flask":
        return  # sessions off (and the session side not imported)
    from ..sessions.settings import revocation_mirror_problem

    problem = revocation_mirror_problem(backend, mirror)
    if problem is not None:
        yield Finding(
            "revocation_mirror_backend",
            True,
            f"{name('REVOCATION_MIRROR')}: {problem}",
            f"Set {name('BACKEND')} to 'redis' (with {name('REDIS_URL')}) or turn the mirror off.",
        )
        return
    default = SESSIONS_DEFAULTS["REVOCATION_MAX_STALENESS"]
    bound = by_name("sessions.revocation_max_staleness").read(
        values.get("REVOCATION_MAX_STALENESS", default),
        name("REVOCATION_MAX_STALENESS"),
    )
    if mirror and isinstance(bound, (int, float)) and bound > _MIRROR_LAG_WARNING:
        yield Finding(
            "revocation_mirror_lag",
            False,
            f"{name('REVOCATION_MAX_STALENESS')} is {bound:g} s: a logout or revocation made in "
            "one process is honoured by the others only that much later.",
            f"Keep it at a few seconds at most (default {default:g} s); each process then "
            "refreshes its copy four times per bound.",
        )


def _beyond_jws(s: GuardSettings) -> Iterator[Finding]:
    """INTROSPECTION and JWE (issue 16): their shape without I/O, and their risky values."""
    from .introspection import check_introspection, introspection_risks
    from .jwe import check_jwe, jwe_risks

    for setting, check, risks, docs in (
        ("introspection", check_introspection, introspection_risks, "docs/introspection.md"),
        ("jwe", check_jwe, jwe_risks, "docs/jwe.md"),
    ):
        where = s.name(setting)
        try:
            value = check(s.get(setting), where)
        except ConfigurationError as exc:
            yield Finding(f"{setting}_invalid", True, str(exc), f"See {docs} for every key.")
            continue
        if setting == "jwe" and value is not None and not _issuing_decrypts(s, value):
            yield Finding(
                "jwe_invalid",
                True,
                f"{where}['KEYS'] is 'ISSUING' but the issuing side keeps no decryption key.",
                "Set ENCRYPTION_ALGORITHM in ISSUING (see docs/jwe.md), or give key files.",
            )
        for risk in risks(value, where):
            yield Finding(f"{setting}_risky", False, risk, f"See {docs}.")


def _issuing_decrypts(s: GuardSettings, jwe: Mapping[str, Any]) -> bool:
    """Whether ``KEYS: "ISSUING"`` has a key to use (``True`` when KEYS names files)."""
    from .jwe import from_issuing

    if not from_issuing(jwe["KEYS"]):
        return True
    try:
        group = s.group("issuing") or {}
    except ConfigurationError:
        return True  # reported on its own (E011)
    return group.get("ENCRYPTION_ALGORITHM") is not None
