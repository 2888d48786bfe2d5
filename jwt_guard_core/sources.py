"""Key sources from settings values, and their warm-up and health, for both adapters.

The Django and Flask adapters spell their settings differently
(``JWT_GUARD['JWKS_URL']`` vs ``JWT_GUARD_JWKS_URL``) but turn a value into a
key source the same way. They map their own names to these functions and
pass the setting's name, so every :class:`~jwt_guard_core.ConfigurationError`
raised here names the setting the user has to fix, never a core parameter
(``keys``, ``url``).

Nothing here touches the network except :func:`warm_key_sources` and
:func:`awarm_key_sources`; a remote key set is built lazily and fetches on
first use.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Literal, TypeGuard
from urllib.parse import urlsplit

from ._remote_policy import is_loopback_host
from .algorithms import HMAC_ALGORITHMS
from .config import GuardConfig
from .errors import ConfigurationError, KeySourceUnavailable, TokenError
from .keys import KeySource, StaticKeySet, VerificationKey, key_from_secret

__all__ = [
    "IssuingKeys",
    "KeyForm",
    "RemoteOptionError",
    "WarmFailure",
    "awarm_config",
    "awarm_key_sources",
    "config_health",
    "config_key_sources",
    "hmac_key_set",
    "is_loopback_url",
    "issuing_key_set",
    "key_set_health",
    "log_warm_failures",
    "remote_key_set",
    "static_key_set",
    "warm_config",
    "warm_key_sources",
    "warmable_key_sources",
]

# A provider that is down or refuses: logged by the caller, never raised at start-up.
_WARM_ERRORS = (TokenError, OSError)

#: How :func:`static_key_set` reads a value: ``"pem"`` (PEM text or a dict of
#: kid to PEM), ``"jwks"`` (a JWKS dict or JSON text), or ``"auto"`` (a dict
#: with ``"keys"`` or text starting with ``{`` is a JWKS, anything else PEM).
KeyForm = Literal["auto", "pem", "jwks"]

_WHAT = {
    "auto": "a PEM key, a JWKS or a path to either",
    "pem": "a PEM key, a dict of kid to PEM, or a path",
    "jwks": "a JWKS dict, JSON text or a path",
}


class RemoteOptionError(ConfigurationError):
    """A remote key set option is refused; ``option`` is ``None`` for the options as a whole.

    Raised by :func:`remote_key_set` with ``setting`` already naming the
    option (``JWT_GUARD['JWKS_URL'] (JWKS_OPTIONS['timeout'])``); an adapter
    with another naming scheme catches it and renames from ``option`` and
    ``detail``.
    """

    def __init__(self, setting: str, message: str, *, option: str | None) -> None:
        super().__init__(setting, message)
        self.option = option
        self.detail = message


def is_loopback_url(url: str) -> bool:
    """True when ``url``'s host is ``localhost`` or a loopback address."""
    # The same test RemoteJWKS applies before it accepts plain http.
    return is_loopback_host(urlsplit(url).hostname or "")


def _renamed(exc: ConfigurationError, setting: str) -> ConfigurationError:
    # The key-set constructors name their own parameter ("keys"); the user
    # needs the setting they wrote.
    return ConfigurationError(setting, str(exc).removeprefix(f"{exc.setting}: "))


def _is_path(value: object) -> TypeGuard[str | PathLike[str]]:
    # PEM starts with "-----", a JWKS with "{": any other string is a file name.
    return isinstance(value, PathLike) or (
        isinstance(value, str) and not value.lstrip().startswith(("-----", "{"))
    )


def _read_key_file(setting: str, value: str | PathLike[str]) -> str:
    path = Path(value)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(setting, f"cannot read key file {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigurationError(
            setting, f"cannot read key file {path}: it is not UTF-8 text (PEM or JSON)"
        ) from None


def static_key_set(setting: str, value: object, *, form: KeyForm = "auto") -> StaticKeySet:
    """A :class:`~jwt_guard_core.StaticKeySet` from a setting's value.

    ``value`` is PEM text or bytes, a dict of kid to PEM, a JWKS dict or
    JSON text, or a path (``str`` or ``PathLike``) to a file holding either;
    ``form`` (:data:`KeyForm`) says which of these the setting accepts.
    Raises :class:`~jwt_guard_core.ConfigurationError` naming ``setting``
    for an unreadable file or any bad key.
    """
    if _is_path(value):
        value = _read_key_file(setting, value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, (Mapping, str)):
        raise ConfigurationError(setting, f"a {type(value).__name__} is not {_WHAT[form]}")
    if form == "auto":
        jwks = "keys" in value if isinstance(value, Mapping) else value.lstrip().startswith("{")
        form = "jwks" if jwks else "pem"
    try:
        if form == "jwks":
            return StaticKeySet.from_jwks(value)
        return StaticKeySet.from_pem(value)
    except ConfigurationError as exc:
        raise _renamed(exc, setting) from None


def hmac_key_set(setting: str, secret: object, algorithms: object = None) -> StaticKeySet:
    """A key set holding the HMAC ``secret`` once per HMAC algorithm in ``algorithms``.

    ``algorithms`` is the configured allowlist (non-HMAC names are skipped;
    none at all means HS256). Each key is bound to one algorithm, and the
    secret must be at least as long as that algorithm's hash (RFC 7518
    section 3.2), so a short secret fails here, at start-up.
    """
    if not isinstance(secret, (str, bytes)) or not secret:
        raise ConfigurationError(setting, "give the HMAC secret as a non-empty str or bytes")
    if isinstance(algorithms, str):
        algorithms = (algorithms,)
    allowed = tuple(algorithms) if isinstance(algorithms, Iterable) else ()
    wanted = [a for a in allowed if a in HMAC_ALGORITHMS] or ["HS256"]
    keys = []
    for alg in wanted:
        try:
            keys.append(key_from_secret(secret, algorithm=alg))
        except ValueError as exc:
            raise ConfigurationError(setting, str(exc)) from None
    return StaticKeySet(keys, setting=setting)


def remote_key_set(
    setting: str,
    url: object,
    *,
    discovery: bool = False,
    options: Mapping[str, Any] | None = None,
    options_setting: str = "JWKS_OPTIONS",
) -> KeySource:
    """A :class:`~jwt_guard_core.remote.RemoteJWKS` for ``url``; nothing is fetched yet.

    With ``discovery=True`` ``url`` is an OpenID Connect issuer and the key
    set is found through its discovery document. ``options`` are the
    ``RemoteJWKS`` keyword options. A bad URL raises
    :class:`~jwt_guard_core.ConfigurationError` naming ``setting``; a bad
    option raises :class:`RemoteOptionError` named
    ``f"{setting} ({options_setting}[option])"``.
    """
    if not isinstance(url, str) or not url:
        raise ConfigurationError(setting, f"{url!r} is not a URL")
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise RemoteOptionError(
            f"{setting} ({options_setting})", "give a dict of RemoteJWKS options", option=None
        )
    # Imported here so that a static-key configuration never loads the
    # remote machinery and its HTTP client.
    from .remote import RemoteJWKS

    try:
        if discovery:
            return RemoteJWKS.from_issuer(url, **options)
        return RemoteJWKS(url, **options)
    except ConfigurationError as exc:
        if exc.setting in ("url", "issuer"):
            raise _renamed(exc, setting) from None
        message = str(exc).removeprefix(f"{exc.setting}: ")
        raise RemoteOptionError(
            f"{setting} ({options_setting}[{exc.setting!r}])", message, option=exc.setting
        ) from None
    except TypeError as exc:
        raise RemoteOptionError(
            f"{setting} ({options_setting})", f"not accepted by RemoteJWKS: {exc}", option=None
        ) from None
    except ValueError as exc:
        raise ConfigurationError(setting, str(exc)) from None


class IssuingKeys:
    """This service's own issuing key manager as its verifier's key source.

    A service that signs its tokens (``ISSUING``) verifies them against the
    keys its :class:`~jwt_guard_core.signing.KeyManager` publishes, in
    process: no HTTP request to its own JWKS route, which a one-worker
    server could not answer while it waits for it. ``manager`` returns the
    adapter's shared key manager and is called on every lookup, so a
    manager rebuilt after a settings change is the one used, and a key
    rotated by another process (a management command, cron) is seen at
    once (the manager re-reads its store when the store's revision moves).

    The store is opened on the first token, not when the configuration is
    built: a start-up check never reads a key, and a store that cannot be
    opened (a wrong passphrase) answers 503 ``key_source_unavailable``, never
    a 500.
    """

    def __init__(
        self, manager: Callable[[], KeySource], *, allows_hmac: bool, setting: str
    ) -> None:
        self._manager = manager
        self._allows_hmac = allows_hmac
        self._setting = setting

    def __repr__(self) -> str:
        return f"IssuingKeys({self._setting})"

    @property
    def allows_hmac(self) -> bool:
        return self._allows_hmac

    def get_key(self, kid: str | None, alg: str) -> VerificationKey:
        # Imported here: a verifier of remote tokens never loads the signing side.
        from .signing.errors import KeyStoreError

        try:
            manager = self._manager()
        except (ConfigurationError, KeyStoreError) as exc:
            raise KeySourceUnavailable(
                f"{self._setting}: the issuing key store cannot be opened: {exc}"
            ) from None
        return manager.get_key(kid, alg)

    async def aget_key(self, kid: str | None, alg: str) -> VerificationKey:
        # Opening the store and reading it are file or Redis I/O: off the loop.
        return await asyncio.to_thread(self.get_key, kid, alg)


def issuing_key_set(
    setting: str, manager: Callable[[], KeySource] | None, *, allows_hmac: bool
) -> IssuingKeys:
    """:class:`IssuingKeys` over ``manager``; ``None`` (no issuing side) names ``setting``."""
    if manager is None:
        raise ConfigurationError(
            setting,
            "'ISSUING' verifies with this service's own issuing keys: configure the "
            "issuing side too",
        )
    return IssuingKeys(manager, allows_hmac=allows_hmac, setting=setting)


def config_key_sources(config: GuardConfig) -> dict[str | None, KeySource]:
    """The key source of each configured issuer (``None``: any issuer)."""
    return {iss: policy.keys for iss, policy in config.policies.items()}


def warmable_key_sources(sources: Iterable[KeySource]) -> list[Any]:
    """The distinct key sources that fetch remotely (they have ``warm``), in order.

    Several issuers may share one remote key set; it is listed once so that
    it is warmed and closed once.
    """
    seen: list[Any] = []
    for source in sources:
        if hasattr(source, "warm") and not any(source is s for s in seen):
            seen.append(source)
    return seen


@dataclass(frozen=True)
class WarmFailure:
    """A key set that could not be warmed: ``error`` raised, or ``None`` when no keys came."""

    source: Any
    error: Exception | None


def warm_key_sources(sources: Iterable[KeySource]) -> list[WarmFailure]:
    """Fetch every remote key set among ``sources`` now; the ones that failed.

    Never raises for an unreachable provider: the key set keeps retrying on
    demand and requests get 503 until it succeeds, so a service can start
    while its identity provider is down. The caller logs the failures.
    """
    return _failures([(s, _outcome(s.warm)) for s in warmable_key_sources(sources)])


async def awarm_key_sources(sources: Iterable[KeySource]) -> list[WarmFailure]:
    """Like :func:`warm_key_sources`, without blocking the event loop."""
    return _failures([(s, await _aoutcome(s.awarm)) for s in warmable_key_sources(sources)])


def _outcome(warm: Callable[[], bool]) -> bool | Exception:
    try:
        return warm()
    except _WARM_ERRORS as exc:
        return exc


async def _aoutcome(awarm: Callable[[], Awaitable[bool]]) -> bool | Exception:
    try:
        return await awarm()
    except _WARM_ERRORS as exc:
        return exc


def _failures(outcomes: list[tuple[Any, bool | Exception]]) -> list[WarmFailure]:
    # warm() answers False when no usable keys came without an exception
    # (the fetch failed and was reported as an event).
    return [
        WarmFailure(source, outcome if isinstance(outcome, Exception) else None)
        for source, outcome in outcomes
        if outcome is False or isinstance(outcome, Exception)
    ]


def log_warm_failures(failures: Iterable[WarmFailure], logger: logging.Logger) -> None:
    """Log each key set that could not be warmed, as a ``warm_failed`` event on ``logger``."""
    for failure in failures:
        logger.warning(
            "jwt-guard could not warm the key set %r at start-up: %s",
            failure.source,
            failure.error or "no usable keys yet; requests get 503 until it can be fetched",
            extra={"jwt_guard_event": "warm_failed"},
        )


def key_set_health(sources: Mapping[str | None, KeySource]) -> dict[str, Any]:
    """Health of every key source, for a health-check endpoint.

    ``{"ok": bool, "key_sets": {issuer or "*": {...}}}``: a remote key set
    reports ``{"type": "remote", **its health()}``, a static one
    ``{"type": "static", "keys": n}``, any other ``{"type": class name}``.
    ``ok`` is false while a key set is ``unavailable`` (requests it serves
    get 503).
    """
    report: dict[str, Any] = {}
    ok = True
    for iss, source in sources.items():
        health = getattr(source, "health", None)
        if callable(health):
            entry = {"type": "remote", **health()}
            # "cold" (not fetched yet) and "stale" (serving cached keys
            # during an outage) still verify; only "unavailable" gives 503s.
            ok = ok and entry.get("state") != "unavailable"
        elif isinstance(source, StaticKeySet):
            entry = {"type": "static", "keys": len(source.keys)}
        else:
            entry = {"type": type(source).__name__}
        report[iss if iss is not None else "*"] = entry
    return {"ok": ok, "key_sets": report}


# -- what an adapter's warm, awarm and health do with its verifier's config


def warm_config(config: GuardConfig, logger: logging.Logger) -> None:
    """Fetch every remote key set of ``config`` now; each failure is logged on ``logger``.

    Never raises: the key set keeps retrying on demand, and requests get 503
    until it succeeds, so a service can start while its provider is down.
    """
    log_warm_failures(warm_key_sources(config_key_sources(config).values()), logger)


async def awarm_config(config: GuardConfig, logger: logging.Logger) -> None:
    """Like :func:`warm_config`, without blocking the event loop."""
    log_warm_failures(await awarm_key_sources(config_key_sources(config).values()), logger)


def config_health(config: GuardConfig) -> dict[str, Any]:
    """:func:`key_set_health` of every key source of ``config``."""
    return key_set_health(config_key_sources(config))
