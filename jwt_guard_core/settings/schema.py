"""Every jwt-guard setting, once: name, spellings, default, how it is read, one-line doc.

gunicorn's ``config.py`` is the model: one table, many readers. The Django
adapter reads ``JWT_GUARD["LEEWAY"]`` (issuing and sessions as the nested
dicts ``JWT_GUARD["ISSUING"]`` / ``JWT_GUARD["SESSIONS"]``), the Flask
adapter ``app.config["JWT_GUARD_LEEWAY"]`` (``JWT_GUARD_ISSUING_*``,
``JWT_GUARD_SESSIONS_*``): two spellings of one :class:`Setting`. From this
table come

* the defaults (:data:`DEFAULTS` here, the Django adapter's ``conf.DEFAULTS``,
  the Flask adapter's ``config.DEFAULTS``, :data:`SESSIONS_DEFAULTS`,
  :data:`ISSUING_DEFAULTS`);
* how a value is read (``read``: a ``timedelta`` becomes seconds, a
  comma-separated string a list, a flag must be a real bool ...) and which
  rule validates it (``read`` itself, or the core class named in ``checked_by``
  whose constructor holds the rule, so it is written once);
* the settings tables of docs/django.md and docs/flask.md
  (``scripts/settings_tables.py`` renders them; a test compares).

Nothing here imports more than the standard library: reading this table
costs nothing at start-up.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from ..errors import ConfigurationError

__all__ = [
    "ADAPTERS",
    "DEFAULTS",
    "GROUPS",
    "ISSUING_DEFAULTS",
    "SESSIONS_DEFAULTS",
    "SETTINGS",
    "Adapter",
    "Setting",
    "adapter_defaults",
    "by_name",
    "group_defaults",
]

Adapter = Literal["django", "flask"]
ADAPTERS: tuple[Adapter, ...] = ("django", "flask")
#: Read a value given under ``name`` (the user's spelling): normalised, or ConfigurationError.
Reader = Callable[[Any, str], Any]

#: The groups, in the order the docs list them. ``issuing`` and ``sessions``
#: are nested dicts in Django (``JWT_GUARD["ISSUING"]``) and prefixes in Flask.
GROUPS = ("verify", "keys", "token", "user", "response", "issuing", "sessions", "redis")
NESTED = ("issuing", "sessions")

_SAME = object()


# -- readers: how a value is read, and what is refused -------------------------


def as_is(value: Any, name: str) -> Any:
    """The value unchanged; the core class in ``checked_by`` validates it."""
    return value


def seconds(value: Any, name: str) -> Any:
    """A ``timedelta`` as seconds (the core checks the number)."""
    return value.total_seconds() if isinstance(value, timedelta) else value


def flag(value: Any, name: str) -> bool:
    """A real bool: ``"False"`` from an environment variable is truthy, so refuse, never guess."""
    if not isinstance(value, bool):
        raise ConfigurationError(name, f"{value!r} is not True or False")
    return value


def string_list(value: Any, name: str) -> Any:
    """A comma-separated string (how a list arrives from the environment) as a list."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()] or value
    return value


def strings(value: Any, name: str) -> tuple[str, ...]:
    """One string, a comma-separated string or a list of non-empty strings, as a tuple."""
    if isinstance(value, str):
        items: tuple[Any, ...] = tuple(v.strip() for v in value.split(","))
    elif isinstance(value, (list, tuple)):
        items = tuple(value)
    else:
        raise ConfigurationError(name, f"{value!r} is not a string or a list of strings")
    if not items or not all(isinstance(v, str) and v for v in items):
        raise ConfigurationError(name, f"{value!r} is not a string or a list of strings")
    return items


def issuing_source(value: Any, name: str) -> str:
    """``"ISSUING"`` (any case): the issuing side's key manager is the key source."""
    if not isinstance(value, str) or value.strip().upper() != "ISSUING":
        raise ConfigurationError(
            name, f"{value!r} is not a key source name; use 'ISSUING' (this service's own keys)"
        )
    return "issuing"


def dpop_mode(value: Any, name: str) -> str:
    """``"off"``, ``"allowed"`` or ``"required"``."""
    if value not in ("off", "allowed", "required"):
        raise ConfigurationError(name, f"{value!r} is not 'off', 'allowed' or 'required'")
    return value  # type: ignore[no-any-return]


def optional_strings(value: Any, name: str) -> tuple[str, ...] | None:
    """``None``, or one string, a comma-separated string or a list of non-empty strings."""
    return None if value is None else strings(value, name)


def role_permissions(value: Any, name: str) -> Mapping[str, frozenset[str]]:
    """``{role: [permission, ...]}``; ``None`` is no permissions."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(name, f"{value!r} is not a dict of role to permissions")
    found: dict[str, frozenset[str]] = {}
    for role, perms in value.items():
        if not isinstance(role, str) or not role:
            raise ConfigurationError(name, f"{role!r} is not a role name")
        items = strings(perms, f"{name}[{role!r}]")
        for perm in items:
            if perm.count(".") < 1:
                raise ConfigurationError(
                    f"{name}[{role!r}]", f"{perm!r} is not a permission 'app_label.codename'"
                )
        found[role] = frozenset(items)
    return found


# flask-jwt-extended spells the locations in the plural; accept both.
LOCATION_ALIASES = {
    "header": "header",
    "headers": "header",
    "cookie": "cookie",
    "cookies": "cookie",
}


def locations(value: Any, name: str) -> tuple[str, ...]:
    """``"header"`` and/or ``"cookie"``, in order, each once."""
    found: list[str] = []
    for item in strings(value, name):
        location = LOCATION_ALIASES.get(item.lower())
        if location is None:
            raise ConfigurationError(
                name, f"{item!r} is not a token location; use 'header' and/or 'cookie'"
            )
        if location not in found:
            found.append(location)
    return tuple(found)


# RFC 7230 token: what a header name, an auth-scheme and (RFC 6265 section
# 4.1.1) a cookie name may contain.
_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def auth_schemes(value: Any, name: str) -> tuple[str, ...]:
    """HTTP auth-schemes such as ``Bearer``."""
    schemes = strings(value, name)
    for scheme in schemes:
        if _HTTP_TOKEN.fullmatch(scheme) is None:
            raise ConfigurationError(name, f"{scheme!r} is not an HTTP auth-scheme, e.g. 'Bearer'")
    return schemes


def http_name(value: Any, name: str) -> str:
    """A cookie or header name (an RFC 7230 token)."""
    if not isinstance(value, str) or _HTTP_TOKEN.fullmatch(value) is None:
        raise ConfigurationError(name, f"{value!r} is not a cookie or header name")
    return value


def same_site(value: Any, name: str) -> str | None:
    """``"Strict"``, ``"Lax"``, ``"None"`` or ``None`` (no attribute)."""
    if value is not None and value not in ("Strict", "Lax", "None"):
        raise ConfigurationError(name, f"{value!r} is not 'Strict', 'Lax', 'None' or None")
    return value  # type: ignore[no-any-return]


def domain(value: Any, name: str) -> str | None:
    """A cookie ``Domain`` or ``None`` (host-only)."""
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigurationError(name, f"{value!r} is not a domain")
    return value


def path(value: Any, name: str) -> str:
    """A cookie ``Path`` such as ``/``."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise ConfigurationError(name, f"{value!r} is not a path such as '/'")
    return value


def printable(value: Any, name: str) -> str:
    """A non-empty printable string (it goes into a response header)."""
    if not isinstance(value, str) or not value or not value.isprintable():
        raise ConfigurationError(name, f"{value!r} is not a printable string")
    return value


def issuer_names(value: Any, name: str) -> tuple[str, ...] | None:
    """``None``, or issuers as a list (or a comma-separated string); an empty list is allowed."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple, set, frozenset)) or not all(
        isinstance(v, str) and v for v in value
    ):
        raise ConfigurationError(name, f"{value!r} is not None or a list of issuers")
    return tuple(value)


def text(value: Any, name: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise ConfigurationError(name, f"{value!r} is not a non-empty string")
    return value


# -- production at scale (issue 17): the shared JWKS cache and the Redis breakers

#: The URL schemes jwt_guard_core._redis.connect reads.
REDIS_SCHEMES = (
    "redis://",
    "rediss://",
    "unix://",
    "redis+cluster://",
    "rediss+cluster://",
    "redis+sentinel://",
)


def shared_jwks_cache(value: Any, name: str) -> tuple[str, str] | None:
    """``None`` (off), ``("redis", url)`` or ``("file", absolute directory)``."""
    if value is None:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            name, f"{type(value).__name__} is not a Redis URL or a directory path"
        )
    if value.startswith(REDIS_SCHEMES):
        return ("redis", value)
    if "://" in value:
        # The scheme only: the rest of a URL may carry a password.
        scheme = value.partition("://")[0][:20]
        raise ConfigurationError(
            name,
            f"{scheme!r} URLs are not supported; give a redis://, rediss://, unix://, "
            "redis+cluster:// or redis+sentinel:// URL, or a directory path",
        )
    if not os.path.isabs(value):
        raise ConfigurationError(name, f"{value!r} is not an absolute directory path")
    return ("file", value)


def _number(value: Any) -> float | None:
    value = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def optional_lock_seconds(value: Any, name: str) -> float | None:
    """``None``, or seconds (a number or ``timedelta``) above 0 and at most 300."""
    if value is None:
        return None
    number = _number(value)
    if number is None or not 0 < number <= 300:
        raise ConfigurationError(name, f"{value!r} is not a number of seconds in (0, 300]")
    return number


def cool_down_seconds(value: Any, name: str) -> float:
    """Seconds (a number or ``timedelta``) above 0 and at most 3600."""
    number = _number(value)
    if number is None or not 0 < number <= 3600:
        raise ConfigurationError(name, f"{value!r} is not a number of seconds in (0, 3600]")
    return number


def failure_count(value: Any, name: str) -> int:
    """A whole number from 1 to 1000."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise ConfigurationError(name, f"{value!r} is not a whole number from 1 to 1000")
    return value


def mapping(value: Any, name: str) -> Mapping[str, Any] | None:
    """``None`` or a dict (its keys are checked by the feature that reads it)."""
    if value is not None and not isinstance(value, Mapping):
        # The type only: a secret pasted where the dict belongs stays out of the message.
        raise ConfigurationError(name, f"a {type(value).__name__} is not a dict")
    return value


def entry(name: str, key: str) -> str:
    """How the user spells ``key`` of the dict setting ``name``: ``JWT_GUARD_JWE['KEYS']``."""
    return f"{name}[{key!r}]"


def keyed_dict(
    value: Any, name: str, known: Mapping[str, str], example: str
) -> Mapping[str, Any] | None:
    """``None``, or a dict whose keys are all in ``known``; else an error showing ``example``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigurationError(name, f"give a dict such as {example}")
    unknown = sorted(str(k) for k in value if k not in known)
    if unknown:
        raise ConfigurationError(
            name, f"unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    return value


# -- the table -----------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting.

    ``name`` is canonical (``"leeway"``, ``"sessions.mode"``); ``django`` is
    its key in ``JWT_GUARD`` (in ``JWT_GUARD["SESSIONS"]`` for the sessions
    group), ``flask`` its ``app.config`` key; ``None`` where that adapter has
    no such setting. ``read`` normalises and validates a given value;
    ``checked_by`` names the core class whose constructor validates it
    further (its rules are not copied here).
    """

    name: str
    group: str
    default: Any
    doc: str
    django: str | None
    flask: str | None
    read: Reader = as_is
    checked_by: str | None = None
    flask_default: Any = _SAME

    def key(self, adapter: Adapter) -> str | None:
        """This setting's key in ``adapter``'s configuration (``None``: not there)."""
        return self.django if adapter == "django" else self.flask

    def default_for(self, adapter: Adapter) -> Any:
        if adapter == "flask" and self.flask_default is not _SAME:
            return self.flask_default
        return self.default


def _s(
    name: str,
    group: str,
    default: Any,
    doc: str,
    *,
    django: str | object | None = _SAME,
    flask: str | object | None = _SAME,
    read: Reader = as_is,
    checked_by: str | None = None,
    flask_default: Any = _SAME,
) -> Setting:
    """A row; both spellings default to the upper-cased short name (Flask prefixed)."""
    short = name.rsplit(".", 1)[-1].upper()
    prefix = "JWT_GUARD_" + (f"{group.upper()}_" if group in NESTED else "")
    return Setting(
        name=name,
        group=group,
        default=default,
        doc=doc,
        django=short if django is _SAME else django,  # type: ignore[arg-type]
        flask=prefix + short if flask is _SAME else flask,  # type: ignore[arg-type]
        read=read,
        checked_by=checked_by,
        flask_default=flask_default,
    )


_CONFIG = "GuardConfig"
_ISSUING = "IssuingSettings"
_SESSIONS = "SessionsSettings"

SETTINGS: tuple[Setting, ...] = (
    # -- what is accepted
    _s(
        "algorithms",
        "verify",
        None,
        (
            'the algorithm allowlist, e.g. `["RS256"]` or `"RS256,ES256"`; required. `none` '
            "is never accepted; HMAC (`HS*`) only with {secret}, never mixed with public-key "
            "algorithms"
        ),
        read=string_list,
        checked_by=_CONFIG,
    ),
    _s(
        "issuer",
        "verify",
        None,
        (
            "the accepted `iss` (a string or a list). Required unless {verify_issuer} is off;"
            " defaults to {oidc_issuer} when that is set"
        ),
        checked_by=_CONFIG,
    ),
    _s(
        "audience",
        "verify",
        None,
        (
            "this API's identifier(s); a token's `aud` must contain one. Required unless "
            "{verify_audience} is off"
        ),
        checked_by=_CONFIG,
    ),
    _s(
        "issuers",
        "verify",
        None,
        (
            'several issuers: `{iss: {key source, "JWKS_OPTIONS", "AUDIENCE", "ALGORITHMS"}}`'
            " with one key source each, spelled as the top-level ones without prefix; the "
            "token's `iss` picks the entry before any key lookup. Not together with {issuer} "
            "or a top-level key source"
        ),
        checked_by=_CONFIG,
    ),
    _s(
        "verify_issuer",
        "verify",
        True,
        "`False` accepts any `iss` from the key set's owner (reported as a warning)",
        read=flag,
        checked_by=_CONFIG,
    ),
    _s(
        "verify_audience",
        "verify",
        True,
        "`False` accepts tokens minted for any audience (reported as a warning)",
        read=flag,
        checked_by=_CONFIG,
    ),
    _s(
        "leeway",
        "verify",
        10,
        "clock skew allowed on `exp`, `nbf`, `iat` (seconds or `timedelta`), at most 300",
        read=seconds,
        checked_by=_CONFIG,
    ),
    _s(
        "required_claims",
        "verify",
        None,
        (
            "claims that must be present; `None` means `exp`, `iat`, `sub` (plus `iss`/`aud` "
            "when verified)"
        ),
        checked_by=_CONFIG,
    ),
    _s(
        "max_token_age",
        "verify",
        None,
        "refuse tokens whose `iat` is older than this (seconds or `timedelta`)",
        read=seconds,
        checked_by=_CONFIG,
    ),
    _s(
        "max_token_lifetime",
        "verify",
        None,
        "refuse tokens whose `exp - iat` is longer than this",
        read=seconds,
        checked_by=_CONFIG,
    ),
    _s(
        "expected_type",
        "verify",
        None,
        'required `typ` header, e.g. `"at+jwt"` (RFC 9068)',
        checked_by=_CONFIG,
    ),
    _s(
        "max_token_bytes",
        "verify",
        8192,
        "longer tokens are refused before any decoding",
        checked_by=_CONFIG,
    ),
    # -- the verified-token cache (docs/performance.md)
    _s(
        "token_cache_size",
        "verify",
        2048,
        (
            "how many verified tokens are remembered (LRU); a repeated token skips its "
            "signature check, while its time claims, its key and revocation are checked on "
            "every use. `0` turns the cache off"
        ),
        checked_by=_CONFIG,
    ),
    _s(
        "token_cache_max_age",
        "verify",
        300.0,
        "the longest a verified token is remembered (seconds or `timedelta`), never past `exp`",
        read=seconds,
        checked_by=_CONFIG,
    ),
    _s(
        "revocation",
        "verify",
        None,
        (
            "a `RevocationCheck` object, class or dotted path (`jti` denylist, ...); with "
            "sessions configured, the sessions' revocation"
        ),
        checked_by=_CONFIG,
    ),
    _s(
        "clock",
        "verify",
        None,
        (
            "a callable (or dotted path) returning Unix time, for tests; `None` is "
            "`time.time`. Also the remote key sets', the issuing side's and the sessions' "
            "clock"
        ),
        checked_by=_CONFIG,
    ),
    # -- sender-constrained tokens, resource metadata (issue 15: DPoP, mTLS, RFC 9728)
    _s(
        "dpop",
        "verify",
        "off",
        (
            '`"off"`, `"allowed"` (bearer and DPoP-bound tokens) or `"required"` (DPoP only); '
            "a DPoP-bound token sent as a bearer token is refused in every mode"
        ),
        read=dpop_mode,
        checked_by="DPoPPolicy",
    ),
    _s(
        "dpop_algorithms",
        "verify",
        ("ES256", "ES384", "EdDSA", "Ed25519", "PS256", "RS256"),
        "the DPoP proof algorithms accepted (asymmetric only)",
        read=string_list,
        checked_by="DPoPPolicy",
    ),
    _s(
        "dpop_iat_window",
        "verify",
        60,
        "how old a DPoP proof may be (seconds or `timedelta`)",
        read=seconds,
        checked_by="DPoPPolicy",
    ),
    _s(
        "dpop_leeway",
        "verify",
        5,
        "clock skew allowed on a proof's `iat`, each way (seconds)",
        read=seconds,
        checked_by="DPoPPolicy",
    ),
    _s(
        "dpop_replay_store",
        "verify",
        None,
        (
            "where used proof `jti`s are kept: `None` (this process's memory), a "
            '`redis://` URL, `"sqlite:///path"`, or a `ReplayStore` object, class or dotted '
            "path; use Redis or SQLite with several workers"
        ),
        checked_by="DPoPPolicy",
    ),
    _s(
        "dpop_nonces",
        "verify",
        None,
        (
            "server nonces (RFC 9449 section 9): `None` off, `True` (a secret per process), or "
            "a list of secrets of 32+ bytes shared by every process (the first signs)"
        ),
        checked_by="NonceProvider",
    ),
    _s(
        "dpop_nonce_lifetime",
        "verify",
        300,
        "seconds per nonce step; a nonce is accepted for one to two steps",
        read=seconds,
        checked_by="NonceProvider",
    ),
    _s(
        "dpop_forwarded_headers",
        "verify",
        None,
        (
            "headers a trusted proxy sets, by part, to rebuild the URL the client signed: "
            '`{"proto": "X-Forwarded-Proto", "host": "X-Forwarded-Host", "port": ..., '
            '"prefix": ...}`'
        ),
        checked_by="RequestURL",
    ),
    _s(
        "mtls_certificate_header",
        "verify",
        None,
        (
            "the header the TLS-terminating proxy puts the client certificate in (RFC 8705); "
            "`None`: certificate-bound tokens are refused"
        ),
        checked_by="MTLSPolicy",
    ),
    _s(
        "mtls_certificate_format",
        "verify",
        "url_encoded_pem",
        '`"url_encoded_pem"` (nginx, AWS ALB), `"pem"` or `"xfcc"` (Envoy)',
        checked_by="MTLSPolicy",
    ),
    _s(
        "resource_metadata",
        "verify",
        None,
        (
            "RFC 9728 protected resource metadata: a dict with `resource` (required), "
            "`authorization_servers`, `scopes_supported`, `jwks_uri`, `resource_name`, ...; "
            "served at `/.well-known/oauth-protected-resource` and named in every challenge"
        ),
        checked_by="ProtectedResourceMetadata",
    ),
    # -- the claims policy (issue 13; docs/claims.md)
    _s(
        "optional_claims",
        "verify",
        None,
        ("`iat` and/or `sub` to drop from the minimum (`exp` never can be); reported as a warning"),
        read=string_list,
        checked_by=_CONFIG,
    ),
    _s(
        "claim_values",
        "verify",
        None,
        (
            "`{claim: value or [values]}` a token must carry; for a list-valued claim one "
            "element must be allowed"
        ),
        checked_by=_CONFIG,
    ),
    _s(
        "authorized_parties",
        "verify",
        None,
        (
            "allowed clients: `azp`, or `client_id` when the token has no `azp`, must be one "
            "of them. With it {audience} may be left unset (Cognito access tokens have no `aud`)"
        ),
        read=optional_strings,
        checked_by=_CONFIG,
    ),
    _s(
        "token_kind",
        "verify",
        "access",
        (
            '`"access"` refuses tokens that are recognisably not access tokens (ID, refresh, '
            'logout tokens, DPoP proofs) with `wrong_token_type`; `"any"` does not look'
        ),
        checked_by=_CONFIG,
    ),
    _s(
        "roles_claim",
        "verify",
        "roles",
        (
            "where `VerifiedToken.roles` come from: a claim name, never split on dots "
            '(`"https://example.com/roles"`), a list of segments (`["realm_access", "roles"]`)'
            " or a list of such paths"
        ),
        checked_by=_CONFIG,
    ),
    _s(
        "scopes_claim",
        "verify",
        None,
        (
            "where `VerifiedToken.scopes` come from, as {roles_claim}; `None` is `scope` and "
            "`scp`. Strings split on spaces (RFC 6749 3.3)"
        ),
        checked_by=_CONFIG,
    ),
    _s(
        "roles_booleans",
        "verify",
        False,
        (
            "`True`: in an object at a roles path, a key whose value is `true` is a role "
            '(`{"admin": true}`)'
        ),
        read=flag,
        checked_by=_CONFIG,
    ),
    _s(
        "claims_check",
        "verify",
        None,
        (
            "a callable (or dotted path) `f(token)` run after every other check; it refuses by "
            "raising `InvalidClaim`. Async is awaited on async requests (Django only)"
        ),
        checked_by=_CONFIG,
    ),
    _s(
        "provider",
        "verify",
        None,
        (
            'a provider profile, e.g. `{"name": "cognito", "region": ..., '
            '"user_pool_id": ..., "client_id": ...}`: presets for every setting not '
            "given (see docs/providers.md)"
        ),
        checked_by="provider_settings",
    ),
    _s(
        "tenants",
        "verify",
        None,
        (
            "the tenants (`tid` claim) an issuer template (an issuer holding the `tid` "
            "placeholder) accepts; `None`: any"
        ),
        read=optional_strings,
        checked_by=_CONFIG,
    ),
    # -- tokens beyond signed JWTs (issue 16: opaque tokens, nested JWE)
    _s(
        "introspection",
        "verify",
        None,
        (
            "opaque (non-JWT) access tokens go to the issuer's introspection endpoint (RFC "
            '7662): a dict with `ENDPOINT` (a URL or `"discovery"`), `CLIENT_ID`, '
            "`CLIENT_SECRET_ENV`/`CLIENT_SECRET_FILE` or `PRIVATE_KEY_FILE`, cache times, "
            "timeouts (see docs/introspection.md); JWTs keep the local pipeline"
        ),
        read=mapping,
        checked_by="IntrospectionSource",
    ),
    _s(
        "jwe",
        "verify",
        None,
        (
            "nested JWE: a dict with `KEYS` (PEM or private JWKS files), `ALGORITHMS` and "
            "`ENCRYPTION` (allowlists, no default), `REQUIRED` (default `True`); see docs/jwe.md"
        ),
        read=mapping,
        checked_by="JWEPolicy",
    ),
    # -- where the keys come from: exactly one source, or one per issuer
    _s(
        "jwks_url",
        "keys",
        None,
        "key source: the issuer's JWKS URL (`RemoteJWKS`); https, http only on loopback",
        checked_by="RemoteJWKS",
    ),
    _s(
        "oidc_issuer",
        "keys",
        None,
        (
            "key source: the issuer URL; its `jwks_uri` is found by OpenID Connect Discovery,"
            " whose `issuer` must match exactly"
        ),
        checked_by="RemoteJWKS",
    ),
    _s(
        "verifying_key",
        "keys",
        None,
        (
            "key source: a PEM public key or certificate, a dict of kid to PEM, a JWKS dict "
            "or JSON text, or a path to a PEM or JWKS file. Private keys are refused"
        ),
        flask=None,
        checked_by="StaticKeySet",
    ),
    _s(
        "public_key",
        "keys",
        None,
        "key source: a PEM public key or certificate, a `{kid: PEM}` dict, or a path",
        django=None,
        checked_by="StaticKeySet",
    ),
    _s(
        "jwks",
        "keys",
        None,
        "key source: a static JWKS dict, JSON text or path",
        django=None,
        checked_by="StaticKeySet",
    ),
    _s(
        "secret",
        "keys",
        None,
        "key source: the HMAC secret for `HS256/384/512`, at least as long as the hash",
        django="SIGNING_KEY",
        checked_by="StaticKeySet",
    ),
    _s(
        "keys",
        "keys",
        None,
        "key source: any ready `KeySource` object (e.g. a `StaticKeySet`)",
        django=None,
        checked_by=_CONFIG,
    ),
    _s(
        "jwks_options",
        "keys",
        None,
        (
            "keyword options for the remote key set: `min_ttl`, `max_ttl`, `stale_ttl`, "
            "`unknown_kid_cooldown`, `timeout`, `max_bytes`, `max_keys`, `refresh_ahead`, "
            "`verify` (CA bundle), `allow_http`"
        ),
        checked_by="RemoteJWKS",
    ),
    _s(
        "warm_on_startup",
        "keys",
        False,
        (
            "fetch remote key sets at start-up, so the first request does not wait; a failure"
            " is logged, requests get 503 until the keys arrive"
        ),
        read=flag,
    ),
    # -- verifying this service's own tokens (issue 11: Django without HTTP)
    _s(
        "key_source",
        "keys",
        None,
        (
            'key source: `"ISSUING"` verifies with this service\'s own `ISSUING` key manager, '
            "in process (no request to its JWKS route; a rotation is seen at once)"
        ),
        flask=None,
        read=issuing_source,
        checked_by=_CONFIG,
    ),
    # -- production at scale (issue 17): one JWKS fetch per fleet (docs/production.md)
    _s(
        "jwks_shared_cache",
        "keys",
        None,
        (
            "a key-set cache shared by processes, so one fetches and the others read: `None` "
            "(off), a Redis URL (`redis://`, `redis+cluster://`, `redis+sentinel://`, ...) for a "
            "fleet, or an absolute directory (`0700`) for the processes of one host. Whoever can "
            "write there can replace the keys this service trusts"
        ),
        read=shared_jwks_cache,
        checked_by="RedisSharedJWKS",
    ),
    _s(
        "jwks_shared_lock_timeout",
        "keys",
        None,
        (
            "how long one process may hold the shared fetch lock, and the others wait for its "
            "copy (seconds or `timedelta`, not below the fetch `timeout`); `None`: the fetch "
            "time budget"
        ),
        read=optional_lock_seconds,
        checked_by="RemoteJWKS",
    ),
    _s(
        "issuing",
        "issuing",
        None,
        (
            "the issuing side (signing keys, JWKS, access tokens): a dict, see [Issuing "
            "tokens](#issuing-tokens)"
        ),
        flask=None,
    ),
    _s(
        "sessions",
        "sessions",
        None,
        (
            "login sessions (refresh tokens, logout, revocation, rate limiting): a dict, see "
            "[Sessions](#sessions)"
        ),
        flask=None,
    ),
    # -- where the token is found
    _s(
        "token_locations",
        "token",
        ("header",),
        (
            'where tokens are read, in order: `"header"` and/or `"cookie"` (the plural '
            "spellings are accepted)"
        ),
        django="TOKEN_LOCATIONS",
        flask="JWT_GUARD_TOKEN_LOCATION",
        read=locations,
    ),
    _s(
        "header_types",
        "token",
        ("Bearer",),
        "accepted `Authorization` scheme(s), compared case-insensitively",
        django="AUTH_HEADER_TYPES",
        flask="JWT_GUARD_HEADER_TYPE",
        read=auth_schemes,
    ),
    _s(
        "cookie_name",
        "token",
        "access_token",
        "the cookie holding the token",
        django="AUTH_COOKIE",
        flask="JWT_GUARD_COOKIE_NAME",
        read=http_name,
    ),
    _s(
        "cookie_secure",
        "token",
        True,
        "`Secure` attribute of the token cookie (a warning when off)",
        django="AUTH_COOKIE_SECURE",
        read=flag,
    ),
    _s(
        "cookie_httponly",
        "token",
        True,
        "`HttpOnly` attribute of the token cookie (a warning when off)",
        django="AUTH_COOKIE_HTTPONLY",
        flask=None,
        read=flag,
    ),
    _s(
        "cookie_samesite",
        "token",
        "Lax",
        '`SameSite` attribute: `"Strict"`, `"Lax"`, `"None"` (a warning) or `None`',
        django="AUTH_COOKIE_SAMESITE",
        read=same_site,
    ),
    _s(
        "cookie_domain",
        "token",
        None,
        "`Domain` attribute",
        django="AUTH_COOKIE_DOMAIN",
        read=domain,
    ),
    _s(
        "cookie_path",
        "token",
        "/",
        "`Path` attribute",
        django="AUTH_COOKIE_PATH",
        read=path,
    ),
    _s(
        "cookie_csrf",
        "token",
        True,
        "a cookie token on an unsafe method needs CSRF proof (a warning when off)",
        django="AUTH_COOKIE_CSRF",
        flask="JWT_GUARD_COOKIE_CSRF_PROTECT",
        read=flag,
    ),
    _s(
        "csrf_cookie_name",
        "token",
        "csrf_token",
        "the readable CSRF cookie (double submit)",
        django=None,
        read=http_name,
    ),
    _s(
        "csrf_header_name",
        "token",
        "X-CSRF-Token",
        "the header that must echo the CSRF cookie",
        django=None,
        read=http_name,
    ),
    # -- who the user is
    _s("user_id_claim", "user", "sub", "the claim naming the user", flask=None, read=text),
    _s(
        "user_id_field",
        "user",
        None,
        (
            "when set, `request.user` is the Django user whose field equals the claim (e.g. "
            '`"username"`); an unknown or inactive user is refused'
        ),
        flask=None,
    ),
    _s(
        "user_resolver",
        "user",
        None,
        (
            "a callable or dotted path `f(token) -> user or None` (sync or async); wins over "
            "{user_id_field}"
        ),
        flask=None,
    ),
    # -- roles as Django permissions (issue 13)
    _s(
        "role_permissions",
        "user",
        None,
        (
            "`{role: [permission, ...]}`: the Django permissions (`app_label.codename`) a "
            "`TokenUser` holds through its roles; `has_perm` and DRF's `DjangoModelPermissions` "
            "read them"
        ),
        flask=None,
        read=role_permissions,
    ),
    # -- user mapping per issuer (OpenID Connect Core 5.7: a user is iss and sub)
    _s(
        "user_issuers",
        "user",
        None,
        (
            "the issuers whose tokens are matched to local users (Django: {user_id_field}, "
            "{user_resolver}; Flask: the `user_loader`); other tokens stay tokens. `None`: "
            "every issuer with one key source, none with several {issuers}"
        ),
        read=issuer_names,
    ),
    # -- how refusals look
    _s("realm", "response", "api", "the `realm` in `WWW-Authenticate`", read=printable),
    # -- the issuing side
    _s(
        "issuing.key_dir",
        "issuing",
        None,
        (
            "key store: a private directory (`FileKeyStore`; created `0700`, refused when "
            "group/others can read it)"
        ),
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.redis_url",
        "issuing",
        None,
        (
            "key store for several instances: a `redis://` URL (`RedisKeyStore`); give this "
            "or {issuing.key_dir}"
        ),
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.redis_prefix",
        "issuing",
        "jwt_guard:signing",
        "prefix of the Redis keys",
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.passphrase_env",
        "issuing",
        "JWT_GUARD_KEY_PASSPHRASE",
        "the environment variable holding the store passphrase (16 bytes or more)",
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.algorithm",
        "issuing",
        "ES256",
        (
            "algorithm of new keys: `ES256`, `ES384`, `ES512`, `RS256`, `PS256`, `EdDSA`; "
            "`HS*` only with {issuing.allow_hmac}"
        ),
        checked_by="KeyManager",
    ),
    _s(
        "issuing.allow_hmac",
        "issuing",
        False,
        "allow `HS256/384/512` (single-service deployments: the JWKS stays empty)",
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.issuer",
        "issuing",
        None,
        "*required*: the `iss` of issued tokens, this service's URL",
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.audience",
        "issuing",
        None,
        "the default `aud` (a string or a list); otherwise each call gives one",
        checked_by="TokenIssuer",
    ),
    _s(
        "issuing.access_token_lifetime",
        "issuing",
        900,
        "default token lifetime (seconds or `timedelta`)",
        checked_by="TokenIssuer",
    ),
    _s(
        "issuing.max_token_lifetime",
        "issuing",
        3600,
        (
            "the longest lifetime a token may be given; retired keys stay published this long"
            " plus {issuing.grace_period}"
        ),
        checked_by="KeyManager",
    ),
    _s(
        "issuing.rotation_interval",
        "issuing",
        timedelta(days=30),
        "age at which the signing key is replaced",
        checked_by="KeyManager",
    ),
    _s(
        "issuing.grace_period",
        "issuing",
        3600,
        "extra time a retired key stays in the JWKS",
        checked_by="KeyManager",
    ),
    _s(
        "issuing.jwks_max_age",
        "issuing",
        600,
        "`Cache-Control: max-age` of the JWKS and discovery routes",
        checked_by="KeyManager",
    ),
    _s(
        "issuing.publish_ahead",
        "issuing",
        None,
        ("how long before it signs a new key is published; `None` is twice {issuing.jwks_max_age}"),
        checked_by="KeyManager",
    ),
    _s(
        "issuing.auto_rotate",
        "issuing",
        True,
        (
            "rotate on schedule from the signing path; `False`: run the scheduled rotation "
            "command from cron"
        ),
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.jwks_uri",
        "issuing",
        None,
        (
            "the `jwks_uri` of the discovery document; `None` is the issuer + "
            "`/.well-known/jwks.json` (never taken from the request's `Host`)"
        ),
        checked_by=_ISSUING,
    ),
    # -- signing keys on a PKCS#11 token (issue 18; docs/hsm.md)
    _s(
        "issuing.pkcs11_module",
        "issuing",
        None,
        (
            "key store on a hardware token: the absolute path of the vendor's PKCS#11 module "
            "(`/usr/lib/softhsm/libsofthsm2.so` for SoftHSM2); give this, {issuing.key_dir} or "
            "{issuing.redis_url}"
        ),
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.pkcs11_token_label",
        "issuing",
        None,
        "the token's label (or {issuing.pkcs11_slot})",
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.pkcs11_slot",
        "issuing",
        None,
        "the token's slot number (or {issuing.pkcs11_token_label})",
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.pkcs11_pin_env",
        "issuing",
        None,
        (
            "the environment variable holding the user PIN (or {issuing.pkcs11_pin_file}); a PIN "
            "written in the settings is refused"
        ),
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.pkcs11_pin_file",
        "issuing",
        None,
        "a file (mode 0600) holding the user PIN (or {issuing.pkcs11_pin_env})",
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.pkcs11_prefix",
        "issuing",
        "jwt-guard",
        "namespaces this key ring on the token, so several rings can share one",
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.pkcs11_lock_file",
        "issuing",
        None,
        (
            "the `flock` file that makes processes on this host rotate one at a time; `None`: "
            "a per-user file in the temporary directory"
        ),
        checked_by=_ISSUING,
    ),
    # -- the JWE decryption key in the key store (issue 16; docs/jwe.md)
    _s(
        "issuing.encryption_algorithm",
        "issuing",
        None,
        (
            "keep a JWE decryption key in the key store: `ECDH-ES+A256KW`, `ECDH-ES`, "
            "`ECDH-ES+A128KW`, `ECDH-ES+A192KW` (on {issuing.encryption_curve}) or "
            "`RSA-OAEP-256`; its public half is "
            'published in the JWKS with `use: "enc"`, and `JWE` with `KEYS: "ISSUING"` '
            "decrypts with it. Rotated with {issuing.rotation_interval}; a replaced key keeps "
            "decrypting for {issuing.jwks_max_age} + {issuing.max_token_lifetime} + "
            "{issuing.grace_period}"
        ),
        checked_by=_ISSUING,
    ),
    _s(
        "issuing.encryption_curve",
        "issuing",
        "P-256",
        "the curve of an ECDH-ES decryption key: `P-256` or `X25519` (RFC 8037)",
        checked_by=_ISSUING,
    ),
    # -- login sessions
    _s(
        "sessions.backend",
        "sessions",
        "sqlite",
        (
            '`"sqlite"` (one machine), `"redis"` (several), `"memory"` (tests, one process), '
            'in Django also `"django"` (the project database); in Flask `None` turns sessions'
            " off"
        ),
        checked_by="open_session_store",
        flask_default=None,
    ),
    _s(
        "sessions.sqlite_path",
        "sessions",
        None,
        'the SQLite file (required with `"sqlite"`; a local disk)',
        checked_by="open_session_store",
    ),
    _s(
        "sessions.redis_url",
        "sessions",
        None,
        'a `redis://` URL (required with `"redis"`)',
        checked_by="open_session_store",
    ),
    _s(
        "sessions.redis_prefix",
        "sessions",
        "jwt_guard:sessions",
        "prefix of the Redis keys",
        checked_by="open_session_store",
    ),
    _s(
        "sessions.database",
        "sessions",
        "default",
        'database alias of the `"django"` backend',
        flask=None,
    ),
    _s(
        "sessions.mode",
        "sessions",
        "json",
        'tokens in the JSON body (`"json"`), in cookies (`"cookie"`) or `"both"`',
        checked_by=_SESSIONS,
    ),
    _s(
        "sessions.scopes",
        "sessions",
        (),
        ("scopes a login is granted: a list, or a function of the user (or its dotted path)"),
        flask=None,
    ),
    _s(
        "sessions.refresh_token_lifetime",
        "sessions",
        timedelta(days=14),
        "one refresh token's lifetime",
        checked_by="RefreshTokenService",
    ),
    _s(
        "sessions.idle_timeout",
        "sessions",
        None,
        "a session unused this long ends; `None` is the refresh-token lifetime",
        checked_by="RefreshTokenService",
    ),
    _s(
        "sessions.session_lifetime",
        "sessions",
        timedelta(days=30),
        "absolute end of a session however often it is refreshed",
        checked_by="RefreshTokenService",
    ),
    _s(
        "sessions.reuse_interval",
        "sessions",
        0,
        (
            "seconds (up to 60) in which a just-spent refresh token is refused without "
            "revoking the session (tabs racing a refresh)"
        ),
        checked_by="RefreshTokenService",
    ),
    _s(
        "sessions.refresh_cookie",
        "sessions",
        "refresh_token",
        "the refresh cookie's name",
        checked_by="CookiePolicy",
    ),
    _s(
        "sessions.refresh_cookie_path",
        "sessions",
        None,
        "the refresh cookie's `Path`; `None` is the `jwt_guard_sessions:refresh` route",
        flask=None,
    ),
    _s(
        "sessions.cookie_secure",
        "sessions",
        True,
        "`Secure` on the session cookies (off only for plain-HTTP development)",
        checked_by="CookiePolicy",
    ),
    _s(
        "sessions.cookie_samesite",
        "sessions",
        "Strict",
        (
            '`SameSite` of the session cookies: `"Strict"`, `"Lax"` or `"None"` (needs '
            "{sessions.cookie_secure})"
        ),
        checked_by="CookiePolicy",
    ),
    _s(
        "sessions.cookie_domain",
        "sessions",
        None,
        "`Domain` of the session cookies; `None` keeps them host-only",
        checked_by="CookiePolicy",
    ),
    _s(
        "sessions.revocation_fail_open",
        "sessions",
        False,
        (
            "accept tokens when the store cannot be read (event `revocation_unavailable`) "
            "instead of 503"
        ),
        checked_by=_SESSIONS,
    ),
    _s(
        "sessions.rate_limit",
        "sessions",
        20,
        (
            "failed verifications and logins allowed per client in the window; `None` turns "
            "the limit off"
        ),
        checked_by="FailureRateLimiter",
    ),
    _s(
        "sessions.rate_limit_window",
        "sessions",
        60,
        "the sliding window, seconds",
        checked_by="FailureRateLimiter",
    ),
    _s(
        "sessions.rate_limit_key",
        "sessions",
        None,
        (
            "a function (or dotted path) of the request giving the client key; `None` is the "
            "remote address (never a raw `X-Forwarded-For`)"
        ),
        checked_by=_SESSIONS,
    ),
    # -- security review: IPv6 networks as one client, revoked keys' retention
    _s(
        "sessions.rate_limit_ipv6_prefix",
        "sessions",
        64,
        (
            "IPv6 clients are limited per network of this many bits (a /64 is one subscriber; "
            "128 keys each address on its own)"
        ),
        checked_by="FailureRateLimiter",
    ),
    _s(
        "sessions.key_retention",
        "sessions",
        None,
        (
            "how long a signing key revoked by an emergency rotation stays denied (seconds or "
            "`timedelta`, 60 s or more); `None` keeps it for good. Must exceed the longest time "
            "a verifier may cache a JWKS"
        ),
        checked_by="RevocationService",
    ),
    # -- production at scale (issue 17): circuit breakers on every Redis backend
    _s(
        "redis_breaker",
        "redis",
        True,
        (
            "a circuit breaker on each Redis backend (sessions, issuing keys, shared JWKS): after "
            "{redis_breaker_failures} failures in a row calls fail at once (503) instead of "
            "each waiting for its timeout. `False` turns it off (a warning)"
        ),
        read=flag,
        checked_by="CircuitBreaker",
    ),
    _s(
        "redis_breaker_failures",
        "redis",
        5,
        "consecutive Redis failures that open a breaker (1 to 1000)",
        read=failure_count,
        checked_by="CircuitBreaker",
    ),
    _s(
        "redis_breaker_cool_down",
        "redis",
        5.0,
        (
            "seconds an open breaker fails fast before one probe call (seconds or `timedelta`, "
            "up to 3600)"
        ),
        read=cool_down_seconds,
        checked_by="CircuitBreaker",
    ),
    # -- async sessions (issue 17): the session views as async views under ASGI
    _s(
        "sessions.async",
        "sessions",
        False,
        (
            "serve `jwt_guard_django.session_urls` with `async def` views (under ASGI): "
            'redis.asyncio for `"redis"`, a worker thread per store call for `"sqlite"`, '
            '`sync_to_async` for `"django"`'
        ),
        flask=None,
        read=flag,
    ),
    # -- speed (issue 14): revocation read from a local mirror of the Redis store
    _s(
        "sessions.revocation_mirror",
        "sessions",
        False,
        (
            'with `"redis"`: answer the revocation check from a copy in each process, kept '
            "fresh by Redis (no round trip per request); a process whose copy cannot be "
            "confirmed fresh refuses with 503"
        ),
        checked_by=_SESSIONS,
    ),
    _s(
        "sessions.revocation_max_staleness",
        "sessions",
        1.0,
        (
            "how far (seconds or `timedelta`, 0.05 to 60) the mirror may lag a revocation "
            "made in another process before it refuses"
        ),
        read=seconds,
        checked_by="RedisRevocationMirror",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def by_name(name: str) -> Setting:
    """The setting called ``name`` (canonical)."""
    return _BY_NAME[name]


#: Canonical name -> default.
DEFAULTS: Mapping[str, Any] = {s.name: s.default for s in SETTINGS}


def group_defaults(group: str, adapter: Adapter | None = None) -> dict[str, Any]:
    """``{KEY: default}`` of a nested group (``"issuing"``, ``"sessions"``) in ``adapter``.

    Without ``adapter``: the keys both adapters read (the core's own).
    """
    found: dict[str, Any] = {}
    for s in SETTINGS:
        if s.group != group or "." not in s.name:
            continue
        shared = s.django is not None and s.flask is not None
        if (adapter is None and not shared) or (adapter is not None and s.key(adapter) is None):
            continue
        found[s.name.split(".", 1)[1].upper()] = s.default
    return found


#: Every issuing setting (upper-case key, as the adapters spell its suffix) with its default.
ISSUING_DEFAULTS: Mapping[str, Any] = group_defaults("issuing")
#: Every session setting both adapters read (upper-case key) with its default.
SESSIONS_DEFAULTS: Mapping[str, Any] = group_defaults("sessions")


def adapter_defaults(adapter: Adapter) -> dict[str, Any]:
    """Every key ``adapter`` reads with its default (Django: the top-level ``JWT_GUARD`` keys)."""
    if adapter == "django":
        return {s.django: s.default for s in SETTINGS if s.django and "." not in s.name}
    return {s.flask: s.default_for("flask") for s in SETTINGS if s.flask}
