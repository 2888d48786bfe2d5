"""``app.config`` -> :class:`~jwt_guard_core.GuardConfig`, validated once at ``init_app``.

Every ``JWT_GUARD_*`` key has a default in :data:`DEFAULTS` (the extension
puts them in ``app.config`` with ``setdefault``). :func:`load` turns the
config into the core's :class:`~jwt_guard_core.GuardConfig` plus the
adapter's own :class:`FlaskSettings` (where tokens are found, cookie and
CSRF names, realm). A bad value raises
:class:`~jwt_guard_core.ConfigurationError` whose ``setting`` is the
``JWT_GUARD_*`` key to fix; risky but legal values are returned as warning
texts for the extension to log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from jwt_guard_core import ConfigurationError, GuardConfig, IssuerPolicy, KeySource
from jwt_guard_core.algorithms import HMAC_ALGORITHMS
from jwt_guard_core.sessions.settings import SESSIONS_DEFAULTS
from jwt_guard_core.signing.settings import ISSUING_DEFAULTS
from jwt_guard_core.sources import (
    RemoteOptionError,
    hmac_key_set,
    is_loopback_url,
    remote_key_set,
    static_key_set,
)

__all__ = [
    "DEFAULTS",
    "LOCATION_ALIASES",
    "PREFIX",
    "FlaskSettings",
    "Loaded",
    "is_loopback_url",
    "load",
]

PREFIX = "JWT_GUARD_"

#: Every key with its default, in the order docs/flask.md lists them.
DEFAULTS: Mapping[str, Any] = {
    # What is accepted.
    "JWT_GUARD_ALGORITHMS": None,
    "JWT_GUARD_ISSUER": None,
    "JWT_GUARD_AUDIENCE": None,
    "JWT_GUARD_ISSUERS": None,
    "JWT_GUARD_VERIFY_ISSUER": True,
    "JWT_GUARD_VERIFY_AUDIENCE": True,
    "JWT_GUARD_LEEWAY": 10,
    "JWT_GUARD_REQUIRED_CLAIMS": None,
    "JWT_GUARD_MAX_TOKEN_AGE": None,
    "JWT_GUARD_MAX_TOKEN_LIFETIME": None,
    "JWT_GUARD_EXPECTED_TYPE": None,
    "JWT_GUARD_MAX_TOKEN_BYTES": 8192,
    "JWT_GUARD_REVOCATION": None,
    "JWT_GUARD_CLOCK": None,
    # Where the keys come from (exactly one, or JWT_GUARD_ISSUERS).
    "JWT_GUARD_JWKS_URL": None,
    "JWT_GUARD_OIDC_ISSUER": None,
    "JWT_GUARD_PUBLIC_KEY": None,
    "JWT_GUARD_JWKS": None,
    "JWT_GUARD_SECRET": None,
    "JWT_GUARD_KEYS": None,
    "JWT_GUARD_JWKS_OPTIONS": None,
    "JWT_GUARD_WARM_ON_STARTUP": False,
    # Where the token is found.
    "JWT_GUARD_TOKEN_LOCATION": ("header",),
    "JWT_GUARD_HEADER_TYPE": "Bearer",
    "JWT_GUARD_COOKIE_NAME": "access_token",
    "JWT_GUARD_COOKIE_SECURE": True,
    "JWT_GUARD_COOKIE_SAMESITE": "Lax",
    "JWT_GUARD_COOKIE_DOMAIN": None,
    "JWT_GUARD_COOKIE_PATH": "/",
    "JWT_GUARD_COOKIE_CSRF_PROTECT": True,
    "JWT_GUARD_CSRF_COOKIE_NAME": "csrf_token",
    "JWT_GUARD_CSRF_HEADER_NAME": "X-CSRF-Token",
    # How refusals look.
    "JWT_GUARD_REALM": "api",
    # The issuing side (read on first use by jwt_guard_flask.issuing).
    **{f"JWT_GUARD_ISSUING_{key}": value for key, value in ISSUING_DEFAULTS.items()},
    # Login sessions (read at init_app by jwt_guard_flask.session_routes); no
    # backend means no sessions, so BACKEND alone has no default here.
    **{f"JWT_GUARD_SESSIONS_{key}": value for key, value in SESSIONS_DEFAULTS.items()},
    "JWT_GUARD_SESSIONS_BACKEND": None,
}

_KEY_SOURCES = (
    "JWT_GUARD_JWKS_URL",
    "JWT_GUARD_OIDC_ISSUER",
    "JWT_GUARD_PUBLIC_KEY",
    "JWT_GUARD_JWKS",
    "JWT_GUARD_SECRET",
    "JWT_GUARD_KEYS",
)
_ISSUER_ENTRY_KEYS = frozenset(
    {"JWKS_URL", "OIDC_ISSUER", "PUBLIC_KEY", "JWKS", "SECRET", "KEYS", "JWKS_OPTIONS"}
    | {"AUDIENCE", "ALGORITHMS"}
)
# flask-jwt-extended spells the locations in the plural; accept both.
LOCATION_ALIASES = {
    "header": "header",
    "headers": "header",
    "cookie": "cookie",
    "cookies": "cookie",
}
_SAMESITE = ("Strict", "Lax", "None")
# RFC 7230 token: what a header name, an auth-scheme and (RFC 6265 section
# 4.1.1) a cookie name may contain.
_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Core parameters whose JWT_GUARD_* key is not simply the upper-cased name.
_CORE_NAMES = {"max_lifetime": "JWT_GUARD_MAX_TOKEN_LIFETIME"}


@dataclass(frozen=True)
class FlaskSettings:
    """The adapter's own settings: how a request is read and answered."""

    locations: tuple[str, ...]
    header_types: tuple[str, ...]
    cookie_name: str
    cookie_secure: bool
    cookie_samesite: str | None
    cookie_domain: str | None
    cookie_path: str
    csrf_protect: bool
    csrf_cookie_name: str
    csrf_header_name: str
    realm: str
    warm_on_startup: bool

    @property
    def cookie_attributes(self) -> dict[str, Any]:
        """``path``, ``domain``, ``secure``, ``samesite`` for ``set_cookie``/``delete_cookie``.

        The token and CSRF cookies share them, so what the start-up warnings
        inspect is what every cookie carries.
        """
        return {
            "path": self.cookie_path,
            "domain": self.cookie_domain,
            "secure": self.cookie_secure,
            "samesite": self.cookie_samesite,
        }


@dataclass(frozen=True)
class Loaded:
    """What :func:`load` returns: core config, adapter settings, and warnings to log."""

    config: GuardConfig
    settings: FlaskSettings
    warnings: tuple[str, ...]


def load(config: Mapping[str, Any]) -> Loaded:
    """Validate every ``JWT_GUARD_*`` key of ``config`` and build the core config.

    Raises :class:`~jwt_guard_core.ConfigurationError` naming the key.
    """
    get = _Getter(config)
    settings = _settings(get)
    key_setting: list[str] = []
    try:
        guard_config = _guard_config(get, key_setting)
    except ConfigurationError as exc:
        raise _renamed(exc, key_setting) from None
    warnings = _risky(get, settings, guard_config, config)
    return Loaded(config=guard_config, settings=settings, warnings=tuple(warnings))


# -- helpers -------------------------------------------------------------------


class _Getter:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config

    def __call__(self, key: str) -> Any:
        return self._config.get(key, DEFAULTS[key])


def _renamed(exc: ConfigurationError, key_setting: list[str]) -> ConfigurationError:
    """The core names its own fields; the user needs the ``JWT_GUARD_*`` key."""
    setting = exc.setting
    message = str(exc)[len(setting) + 2 :]
    if setting.startswith(PREFIX):
        return exc
    if setting.startswith("issuers["):
        name = "JWT_GUARD_ISSUERS" + setting[len("issuers") :]
    elif setting == "keys":
        name = key_setting[0] if key_setting else "JWT_GUARD_JWKS_URL"
    else:
        name = _CORE_NAMES.get(setting, PREFIX + setting.upper())
    return ConfigurationError(name, message)


def _flag(get: _Getter, key: str) -> bool:
    value = get(key)
    if not isinstance(value, bool):
        # "False" read from an environment variable is truthy: refuse, never guess.
        raise ConfigurationError(key, f"{value!r} is not True or False")
    return value


def _name(get: _Getter, key: str) -> str:
    value = get(key)
    if not isinstance(value, str) or _HTTP_TOKEN.fullmatch(value) is None:
        raise ConfigurationError(key, f"{value!r} is not a cookie or header name")
    return value


def _strings_or_csv(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = tuple(v.strip() for v in value.split(","))
    elif isinstance(value, (list, tuple)):
        items = tuple(value)
    else:
        raise ConfigurationError(key, f"{value!r} is not a string or a list of strings")
    if not items or not all(isinstance(v, str) and v for v in items):
        raise ConfigurationError(key, f"{value!r} is not a string or a list of strings")
    return items


def _settings(get: _Getter) -> FlaskSettings:
    raw_locations = _strings_or_csv("JWT_GUARD_TOKEN_LOCATION", get("JWT_GUARD_TOKEN_LOCATION"))
    locations: list[str] = []
    for item in raw_locations:
        location = LOCATION_ALIASES.get(item.lower())
        if location is None:
            raise ConfigurationError(
                "JWT_GUARD_TOKEN_LOCATION",
                f"{item!r} is not a token location; use 'header' and/or 'cookie'",
            )
        if location not in locations:
            locations.append(location)

    header_types = _strings_or_csv("JWT_GUARD_HEADER_TYPE", get("JWT_GUARD_HEADER_TYPE"))
    for scheme in header_types:
        if _HTTP_TOKEN.fullmatch(scheme) is None:
            raise ConfigurationError(
                "JWT_GUARD_HEADER_TYPE", f"{scheme!r} is not an HTTP auth-scheme, e.g. 'Bearer'"
            )

    samesite = get("JWT_GUARD_COOKIE_SAMESITE")
    if samesite is not None and samesite not in _SAMESITE:
        raise ConfigurationError(
            "JWT_GUARD_COOKIE_SAMESITE", f"{samesite!r} is not 'Strict', 'Lax', 'None' or None"
        )
    domain = get("JWT_GUARD_COOKIE_DOMAIN")
    if domain is not None and (not isinstance(domain, str) or not domain):
        raise ConfigurationError("JWT_GUARD_COOKIE_DOMAIN", f"{domain!r} is not a domain")
    path = get("JWT_GUARD_COOKIE_PATH")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigurationError("JWT_GUARD_COOKIE_PATH", f"{path!r} is not a path such as '/'")
    realm = get("JWT_GUARD_REALM")
    if not isinstance(realm, str) or not realm or not realm.isprintable():
        raise ConfigurationError("JWT_GUARD_REALM", f"{realm!r} is not a printable string")

    return FlaskSettings(
        locations=tuple(locations),
        header_types=header_types,
        cookie_name=_name(get, "JWT_GUARD_COOKIE_NAME"),
        cookie_secure=_flag(get, "JWT_GUARD_COOKIE_SECURE"),
        cookie_samesite=samesite,
        cookie_domain=domain,
        cookie_path=path,
        csrf_protect=_flag(get, "JWT_GUARD_COOKIE_CSRF_PROTECT"),
        csrf_cookie_name=_name(get, "JWT_GUARD_CSRF_COOKIE_NAME"),
        csrf_header_name=_name(get, "JWT_GUARD_CSRF_HEADER_NAME"),
        realm=realm,
        warm_on_startup=_flag(get, "JWT_GUARD_WARM_ON_STARTUP"),
    )


def _seconds(value: Any) -> Any:
    # flask-jwt-extended users write timedelta(seconds=30); the core wants seconds.
    return value.total_seconds() if isinstance(value, timedelta) else value


def _algorithms(value: Any) -> Any:
    # A comma-separated string is how an allowlist arrives from the environment.
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()] or value
    return value


def _guard_config(get: _Getter, key_setting: list[str]) -> GuardConfig:
    options: dict[str, Any] = {
        "algorithms": _algorithms(get("JWT_GUARD_ALGORITHMS")),
        "audience": get("JWT_GUARD_AUDIENCE"),
        "verify_issuer": get("JWT_GUARD_VERIFY_ISSUER"),
        "verify_audience": get("JWT_GUARD_VERIFY_AUDIENCE"),
        "leeway": _seconds(get("JWT_GUARD_LEEWAY")),
        "required_claims": get("JWT_GUARD_REQUIRED_CLAIMS"),
        "max_token_age": _seconds(get("JWT_GUARD_MAX_TOKEN_AGE")),
        "max_lifetime": _seconds(get("JWT_GUARD_MAX_TOKEN_LIFETIME")),
        "expected_type": get("JWT_GUARD_EXPECTED_TYPE"),
        "max_token_bytes": get("JWT_GUARD_MAX_TOKEN_BYTES"),
    }
    revocation = get("JWT_GUARD_REVOCATION")
    if revocation is not None:
        options["revocation"] = revocation
    clock = get("JWT_GUARD_CLOCK")
    if clock is not None:
        options["clock"] = clock

    issuers = get("JWT_GUARD_ISSUERS")
    if issuers is not None:
        given = [k for k in _KEY_SOURCES if get(k) is not None]
        if given:
            raise ConfigurationError(
                "JWT_GUARD_ISSUERS",
                f"give the key source inside each issuer entry, not {', '.join(given)} as well",
            )
        if get("JWT_GUARD_ISSUER") is not None:
            raise ConfigurationError(
                "JWT_GUARD_ISSUERS", "give either JWT_GUARD_ISSUERS or JWT_GUARD_ISSUER, not both"
            )
        if not isinstance(issuers, Mapping) or not issuers:
            raise ConfigurationError(
                "JWT_GUARD_ISSUERS", "give a non-empty dict of issuer to its settings dict"
            )
        policies: dict[Any, Any] = {}
        for iss, entry in issuers.items():
            setting = f"JWT_GUARD_ISSUERS[{iss!r}]"
            if isinstance(entry, IssuerPolicy):
                policies[iss] = entry
                continue
            if not isinstance(entry, Mapping):
                raise ConfigurationError(
                    setting,
                    "give a dict with JWKS_URL, OIDC_ISSUER, PUBLIC_KEY, ... or an IssuerPolicy",
                )
            unknown = sorted(str(k) for k in entry if k not in _ISSUER_ENTRY_KEYS)
            if unknown:
                raise ConfigurationError(
                    setting,
                    f"unknown key(s) {', '.join(unknown)}; known: "
                    + ", ".join(sorted(_ISSUER_ENTRY_KEYS)),
                )
            algorithms = _algorithms(entry.get("ALGORITHMS"))
            policies[iss] = IssuerPolicy(
                keys=_key_source(
                    setting,
                    {k: entry.get(k) for k in _ISSUER_ENTRY_KEYS},
                    algorithms if algorithms is not None else options["algorithms"],
                    issuer=iss if isinstance(iss, str) else None,
                ),
                audience=entry.get("AUDIENCE"),
                algorithms=algorithms,
            )
        return GuardConfig(issuers=policies, **options)

    entry = {k[len(PREFIX) :]: get(k) for k in (*_KEY_SOURCES, "JWT_GUARD_JWKS_OPTIONS")}
    given = [k for k in _KEY_SOURCES if get(k) is not None]
    key_setting.extend(given)
    keys = _key_source("JWT_GUARD", entry, options["algorithms"], issuer=None)
    issuer = get("JWT_GUARD_ISSUER")
    oidc = get("JWT_GUARD_OIDC_ISSUER")
    if issuer is None and isinstance(oidc, str) and options["verify_issuer"] is True:
        # OIDC Discovery 1.0 section 4.3: the discovery document's issuer is
        # the iss its tokens carry, and the key set checks that it matches.
        issuer = oidc
    return GuardConfig(keys=keys, issuer=issuer, **options)


def _key_source(
    setting: str, entry: Mapping[str, Any], algorithms: Any, *, issuer: str | None
) -> KeySource:
    """One key source from exactly one of JWKS_URL, OIDC_ISSUER, PUBLIC_KEY, JWKS, SECRET, KEYS."""
    names = ("JWKS_URL", "OIDC_ISSUER", "PUBLIC_KEY", "JWKS", "SECRET", "KEYS")

    def where(name: str) -> str:
        return f"{PREFIX}{name}" if setting == "JWT_GUARD" else f"{setting}['{name}']"

    given = [n for n in names if entry.get(n) is not None]
    if len(given) > 1:
        raise ConfigurationError(
            where(given[0]),
            f"give one key source, not {' and '.join(where(n) for n in given)}",
        )
    if not given:
        raise ConfigurationError(
            setting if setting != "JWT_GUARD" else "JWT_GUARD_JWKS_URL",
            "no key source: set one of "
            + ", ".join(where(n) for n in names)
            + (" (or JWT_GUARD_ISSUERS)" if setting == "JWT_GUARD" else ""),
        )
    name = given[0]
    value = entry[name]
    options = entry.get("JWKS_OPTIONS")
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise ConfigurationError(where("JWKS_OPTIONS"), "give a dict of RemoteJWKS options")
    try:
        if name == "JWKS_URL":
            return remote_key_set(where(name), value, options=options)
        if name == "OIDC_ISSUER":
            return remote_key_set(where(name), value, discovery=True, options=options)
        if name == "PUBLIC_KEY":
            return static_key_set(where(name), value, form="pem")
        if name == "JWKS":
            return static_key_set(where(name), value, form="jwks")
        if name == "SECRET":
            return hmac_key_set(where(name), value, algorithms)
    except RemoteOptionError as exc:
        # Flask names a bad option value by the URL key it configures and
        # an unknown option by the options key itself.
        if exc.option is None:
            raise ConfigurationError(where("JWKS_OPTIONS"), exc.detail) from None
        raise ConfigurationError(where(name), f"{exc.option}: {exc.detail}") from None
    if not isinstance(value, KeySource):
        raise ConfigurationError(
            where(name), f"{type(value).__name__} is not a key source (StaticKeySet, ...)"
        )
    return value


# -- risky but legal -----------------------------------------------------------


def _risky(
    get: _Getter, settings: FlaskSettings, config: GuardConfig, raw: Mapping[str, Any]
) -> list[str]:
    found: list[str] = []
    unknown = sorted(k for k in raw if isinstance(k, str) and k.startswith(PREFIX))
    unknown = [k for k in unknown if k not in DEFAULTS]
    if unknown:
        found.append(
            f"unknown config key(s) {', '.join(unknown)} are ignored; a misspelt key silently "
            "keeps its default"
        )
    if not config.verify_issuer:
        found.append(
            "JWT_GUARD_VERIFY_ISSUER is False: tokens from any issuer sharing the keys are "
            "accepted (RFC 8725 section 3.8)"
        )
    if not config.verify_audience:
        found.append(
            "JWT_GUARD_VERIFY_AUDIENCE is False: tokens minted for other APIs are accepted "
            "(RFC 8725 section 3.9)"
        )
    algs = config.all_algorithms
    if algs & HMAC_ALGORITHMS and algs - HMAC_ALGORITHMS:
        found.append(
            "JWT_GUARD_ALGORITHMS mixes HMAC and public-key algorithms "
            f"({', '.join(sorted(algs))}); allow one family unless issuers really differ"
        )
    for label, url in _urls(get):
        if isinstance(url, str) and url.lower().startswith("http:") and not is_loopback_url(url):
            found.append(
                f"{label} {url!r} uses plain http: anyone on the path can replace the keys and "
                "mint tokens you accept; use https"
            )
    if "cookie" in settings.locations:
        if not settings.cookie_secure:
            found.append(
                "JWT_GUARD_COOKIE_SECURE is False: the token cookie is sent over plain http"
            )
        if settings.cookie_samesite == "None":
            found.append(
                "JWT_GUARD_COOKIE_SAMESITE is 'None': browsers send the token cookie with "
                "cross-site requests"
            )
        if not settings.csrf_protect:
            found.append(
                "JWT_GUARD_COOKIE_CSRF_PROTECT is False while tokens are read from a cookie: "
                "unsafe requests are open to cross-site request forgery"
            )
    return found


def _urls(get: _Getter) -> list[tuple[str, Any]]:
    urls: list[tuple[str, Any]] = [
        ("JWT_GUARD_JWKS_URL", get("JWT_GUARD_JWKS_URL")),
        ("JWT_GUARD_OIDC_ISSUER", get("JWT_GUARD_OIDC_ISSUER")),
    ]
    issuers = get("JWT_GUARD_ISSUERS")
    if isinstance(issuers, Mapping):
        for iss, entry in issuers.items():
            if isinstance(entry, Mapping):
                for name in ("JWKS_URL", "OIDC_ISSUER"):
                    urls.append((f"JWT_GUARD_ISSUERS[{iss!r}]['{name}']", entry.get(name)))
    return urls
