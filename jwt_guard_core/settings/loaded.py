"""One adapter's configuration read against the schema: :class:`GuardSettings`.

An adapter hands its own mapping (Django: the ``JWT_GUARD`` dict; Flask:
``app.config``) and its name; :meth:`GuardSettings.from_mapping` never
raises (a start-up check must be able to report on any value). Reading a
value (:meth:`GuardSettings.read`), the request settings
(:attr:`GuardSettings.request`) and the verifier's configuration
(:meth:`GuardSettings.guard_config`) validate, and every
:class:`~jwt_guard_core.ConfigurationError` names the key in the user's
own spelling (``JWT_GUARD['JWKS_URL']``, ``JWT_GUARD_JWKS_URL``).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..issuer_templates import is_template
from .schema import NESTED, SETTINGS, Adapter, Setting, by_name, group_defaults

if TYPE_CHECKING:
    from ..breaker import CircuitBreaker
    from ..config import GuardConfig
    from ..keys import KeySource
    from ..signing.encryption_keys import EncryptionKeyManager
    from ..users import UserMapping

__all__ = ["GuardSettings", "RequestSettings", "import_object"]

_PREFIX = "JWT_GUARD_"
#: The key sources, in the order a "no key source" error lists them.
KEY_SOURCES = _SOURCES = (
    "jwks_url",
    "oidc_issuer",
    "verifying_key",
    "public_key",
    "jwks",
    "secret",
    "key_source",
    "keys",
)
# The claims policy's settings an ISSUERS entry may give (jwt_guard_core/claims_policy.py).
_CLAIMS_POLICY = (
    "claim_values",
    "authorized_parties",
    "token_kind",
    "roles_claim",
    "scopes_claim",
    "claims_check",
    "tenants",
)
_ENTRY_EXTRA = ("jwks_options", "audience", "algorithms", *_CLAIMS_POLICY)
# Production at scale (issue 17): read by the Redis backends and remote key sets.
SCALE_SETTINGS = (
    "redis_breaker",
    "redis_breaker_failures",
    "redis_breaker_cool_down",
    "jwks_shared_cache",
    "jwks_shared_lock_timeout",
)
# Core parameters whose setting has another canonical name.
_CORE_FIELDS = {"max_lifetime": "max_token_lifetime"}


def import_object(name: str, dotted: str) -> Any:
    """The object a dotted path (``"package.module.attribute"``) names; errors name the setting."""
    module, _, attribute = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigurationError(name, f"cannot import {dotted!r}: {exc}") from None


@dataclass(frozen=True)
class RequestSettings:
    """How a request is read and answered: where the token is, cookies, CSRF, realm."""

    locations: tuple[str, ...]
    header_types: tuple[str, ...]
    cookie_name: str
    cookie_secure: bool
    cookie_httponly: bool
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

        The token and CSRF cookies share them, so what the start-up checks
        inspect is what every cookie carries.
        """
        return {
            "path": self.cookie_path,
            "domain": self.cookie_domain,
            "secure": self.cookie_secure,
            "samesite": self.cookie_samesite,
        }


@dataclass(frozen=True)
class GuardSettings:
    """An adapter's configuration, read against the schema; frozen, validated on use.

    ``given`` holds what the user set (canonical name -> value); every other
    setting has its schema default. Build one per configuration and keep it:
    the Django adapter rebuilds it on ``setting_changed``, the Flask adapter
    at ``init_app``.
    """

    adapter: Adapter
    given: Mapping[str, Any]
    unknown: tuple[str, ...] = ()
    group_given: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[Any, Any], adapter: Adapter) -> GuardSettings:
        """Read ``raw`` as ``adapter`` spells it; never raises."""
        given: dict[str, Any] = {}
        groups: dict[str, Any] = {}
        if adapter == "django":
            known = {s.django for s in SETTINGS if s.django and "." not in s.name}
            for s in SETTINGS:
                if s.django and "." not in s.name and s.django in raw:
                    given[s.name] = raw[s.django]
            for group in NESTED:
                if group in given:
                    groups[group] = given[group]
                    if isinstance(given[group], Mapping):
                        for key, value in given[group].items():
                            given[f"{group}.{str(key).lower()}"] = value
            unknown = sorted(str(k) for k in raw if k not in known)
        else:
            known = {s.flask for s in SETTINGS if s.flask}
            for s in SETTINGS:
                if s.flask and s.flask in raw:
                    given[s.name] = raw[s.flask]
            for group in NESTED:
                prefix = f"{_PREFIX}{group.upper()}_"
                found = {
                    k[len(prefix) :]: v
                    for k, v in raw.items()
                    if isinstance(k, str) and k.startswith(prefix)
                }
                if group == "sessions":
                    # Only the known keys: an unknown one is reported as such.
                    found = {k: v for k, v in found.items() if k in group_defaults(group, adapter)}
                groups[group] = found
            unknown = sorted(
                k for k in raw if isinstance(k, str) and k.startswith(_PREFIX) and k not in known
            )
        return cls(adapter=adapter, given=given, unknown=tuple(unknown), group_given=groups)

    # -- names

    def name(self, setting: str | Setting) -> str:
        """How the user spells ``setting``: ``JWT_GUARD['LEEWAY']`` or ``JWT_GUARD_LEEWAY``."""
        row = by_name(setting) if isinstance(setting, str) else setting
        if self.adapter == "flask":
            return row.flask or row.name
        if "." in row.name:
            group, _, key = row.name.partition(".")
            return self.nested_name(group, key.upper())
        return f"JWT_GUARD[{row.django!r}]"

    def short(self, setting: str) -> str:
        """The key alone: ``LEEWAY`` (Django) or ``JWT_GUARD_LEEWAY`` (Flask)."""
        row = by_name(setting)
        return str(row.key(self.adapter) or row.name)

    def nested_name(self, group: str, key: str) -> str:
        """How the user spells a key of ``group``: ``JWT_GUARD['SESSIONS']['MODE']``."""
        if self.adapter == "flask":
            return f"{_PREFIX}{group.upper()}_{key}"
        return f"JWT_GUARD[{group.upper()!r}][{key!r}]"

    # -- values

    def has(self, setting: str) -> bool:
        """Whether the user set ``setting`` (to anything, ``None`` included)."""
        return setting in self.given

    def get(self, setting: str) -> Any:
        """The value as given, else the ``PROVIDER`` preset's, else the schema default.

        A given value equal to the default (Flask's ``init_app`` sets every
        key to its default) leaves the preset's in place.
        """
        default = by_name(setting).default_for(self.adapter)
        provided = self._provided
        if setting in self.given and not (setting in provided and self.given[setting] == default):
            return self.given[setting]
        return provided.get(setting, default)

    @cached_property
    def _provided(self) -> Mapping[str, Any]:
        # Never raises (findings read settings through get); guard_config does.
        try:
            return self.provider_values()
        except ConfigurationError:
            return {}

    def provider_values(self) -> dict[str, Any]:
        """The ``PROVIDER`` preset (canonical name -> value) for what is not given.

        A key source given in the configuration replaces the preset's; the
        preset's discovery URL then still names the issuer.
        """
        from ..providers import provider_settings

        value = self.given.get("provider")
        if value is None:
            return {}
        name = self.name("provider")
        if not isinstance(value, Mapping) or not isinstance(value.get("name"), str):
            raise ConfigurationError(
                name, "give a dict such as {'name': 'auth0', 'domain': ..., 'audience': ...}"
            )
        if self.given.get("issuers") is not None:
            raise ConfigurationError(name, f"cannot be combined with {self.short('issuers')}")
        params = {str(k): v for k, v in value.items() if k != "name"}
        try:
            preset = provider_settings(value["name"], **params)
        except ConfigurationError as exc:
            raise ConfigurationError(name, str(exc).removeprefix("provider: ")) from None
        canonical = {s.django: s.name for s in SETTINGS if s.django and "." not in s.name}
        found = {canonical[key]: v for key, v in preset.items()}
        if any(self.given.get(s) is not None for s in _SOURCES):
            discovered = found.pop("oidc_issuer", None)
            found.pop("jwks_url", None)
            if discovered is not None:
                found.setdefault("issuer", discovered)
        return found

    def read(self, setting: str) -> Any:
        """The value read by its schema reader; raises ConfigurationError in the user's spelling."""
        row = by_name(setting)
        return row.read(self.get(setting), self.name(row))

    def resolved(self, setting: str) -> Any:
        """The value, a dotted path imported (``"myapp.auth.Revocation"``)."""
        value = self.get(setting)
        if isinstance(value, str):
            return import_object(self.short(setting), value)
        return value

    def clock(self) -> Callable[[], float] | None:
        """``CLOCK`` (a dotted path imported), checked callable; ``None`` when not set."""
        clock = self.resolved("clock")
        if clock is not None and not callable(clock):
            raise ConfigurationError(self.name("clock"), "must be a callable returning Unix time")
        return clock  # type: ignore[no-any-return]

    def group(self, group: str) -> Mapping[str, Any] | None:
        """The nested group as ``{KEY: value}``, ``None`` when not configured.

        Django: ``JWT_GUARD["ISSUING"]`` (a ConfigurationError when not a
        dict). Flask: the ``JWT_GUARD_ISSUING_*`` keys (``None`` without
        ``JWT_GUARD_ISSUING_ISSUER`` / ``JWT_GUARD_SESSIONS_BACKEND``).
        """
        value = self.group_given.get(group)
        if self.adapter == "django":
            if value is None:
                return None
            if not isinstance(value, Mapping):
                raise ConfigurationError(
                    f"JWT_GUARD[{group.upper()!r}]", f"give a dict of {group} settings"
                )
            return value
        return value if isinstance(value, Mapping) else {}

    def name_for(self, group: str) -> Callable[[str], str]:
        """``name_for(KEY)`` for the core's issuing and sessions settings."""
        return lambda key: self.nested_name(group, key)

    def seconds_or_none(self, setting: str) -> int | None:
        """A duration setting as whole seconds, ``None`` when it is not a number."""
        value = by_name(setting).read(self.get(setting), self.name(setting))
        return int(value) if isinstance(value, (int, float)) else None

    # -- production at scale (issue 17): Redis breakers, the shared JWKS cache

    def breaker(self, name: str) -> CircuitBreaker:
        """A circuit breaker for the Redis backend ``name`` (``redis:sessions``).

        From ``REDIS_BREAKER``, ``REDIS_BREAKER_FAILURES`` and
        ``REDIS_BREAKER_COOL_DOWN``. Each backend gets its own, so one
        server's outage spares the others. Its clock is ``CLOCK`` when set
        (tests), else monotonic. ``REDIS_BREAKER = False`` gives a breaker
        that lets every call through.
        """
        from ..breaker import CircuitBreaker

        failures = self.read("redis_breaker_failures")
        return CircuitBreaker(
            name,
            failures=failures if self.read("redis_breaker") else 0,
            cool_down=self.read("redis_breaker_cool_down"),
            clock=self.clock() or time.monotonic,
        )

    @cached_property
    def shared_jwks_options(self) -> Mapping[str, Any]:
        """``RemoteJWKS`` options from ``JWKS_SHARED_CACHE``/``..._LOCK_TIMEOUT``; ``{}`` when off.

        Built once per configuration: every remote key set shares one store
        (its keys are per URL).
        """
        target = self.read("jwks_shared_cache")
        lock = self.read("jwks_shared_lock_timeout")
        if target is None:
            return {}
        kind, where = target
        name = self.name("jwks_shared_cache")
        try:
            if kind == "redis":
                from ..shared_jwks import RedisSharedJWKS

                store: Any = RedisSharedJWKS(
                    where, clock=self.clock() or time.time, breaker=self.breaker("redis:jwks")
                )
            else:
                from ..shared_jwks import FileSharedJWKS

                store = FileSharedJWKS(where)
        except ConfigurationError as exc:
            raise ConfigurationError(name, str(exc).removeprefix(f"{exc.setting}: ")) from None
        options: dict[str, Any] = {"shared_cache": store}
        if lock is not None:
            options["shared_lock_timeout"] = lock
        return options

    # -- what the adapters build

    @cached_property
    def request(self) -> RequestSettings:
        """The request settings, validated (ConfigurationError names the key)."""

        def read(setting: str) -> Any:
            # A setting the adapter does not have keeps its schema default
            # (Flask's token cookie is always HttpOnly).
            row = by_name(setting)
            return self.read(setting) if row.key(self.adapter) else row.default

        return RequestSettings(
            locations=read("token_locations"),
            header_types=read("header_types"),
            cookie_name=read("cookie_name"),
            cookie_secure=read("cookie_secure"),
            cookie_httponly=read("cookie_httponly"),
            cookie_samesite=read("cookie_samesite"),
            cookie_domain=read("cookie_domain"),
            cookie_path=read("cookie_path"),
            csrf_protect=read("cookie_csrf"),
            csrf_cookie_name=read("csrf_cookie_name"),
            csrf_header_name=read("csrf_header_name"),
            realm=read("realm"),
            warm_on_startup=read("warm_on_startup"),
        )

    @cached_property
    def users(self) -> UserMapping:
        """Which issuers' tokens map to local users (``USER_ISSUERS``), validated."""
        from ..users import user_mapping

        return user_mapping(
            issuers=self.get("issuers"),
            issuer=self.get("issuer"),
            user_issuers=self.read("user_issuers"),
            name=self.name("user_issuers"),
            issuers_name=self.short("issuers"),
            issuer_name=self.short("issuer"),
        )

    def guard_config(
        self, *, revocation: Any = None, issuing_keys: Callable[[], KeySource] | None = None
    ) -> GuardConfig:
        """The verifier's :class:`~jwt_guard_core.GuardConfig`.

        ``revocation`` is used when no ``REVOCATION`` is set (the adapter
        passes the sessions' revocation service). ``issuing_keys`` returns
        the adapter's shared issuing ``KeyManager``, the key source that
        ``KEY_SOURCE = "ISSUING"`` names (called on each lookup, never
        here). Raises ConfigurationError:
        in Flask every one names the ``JWT_GUARD_*`` key; in Django the
        core's own field names stay (``algorithms``), as the adapter shows
        them under ``JWT_GUARD``.
        """
        sources: list[str] = []
        self.provider_values()  # a bad PROVIDER is named, not silently ignored
        for setting in SCALE_SETTINGS:
            self.read(setting)  # named at start-up even when nothing reads them yet
        try:
            config = self._guard_config(revocation, sources, issuing_keys)
        except ConfigurationError as exc:
            if self.adapter == "flask":
                raise self._renamed(exc, sources) from None
            raise
        if self.adapter == "flask" and any(p.claims.is_async for p in config.policies.values()):
            # Flask verifies on the request's thread, async views included.
            raise ConfigurationError(
                self.name("claims_check"),
                "is an async function; Flask verifies tokens synchronously, give a plain function",
            )
        return config

    def _guard_config(
        self,
        revocation: Any,
        sources: list[str],
        issuing_keys: Callable[[], KeySource] | None = None,
    ) -> GuardConfig:
        from ..config import GuardConfig, IssuerPolicy

        options: dict[str, Any] = {
            "algorithms": self.read("algorithms"),
            "audience": self.get("audience"),
            "verify_issuer": self.read("verify_issuer"),
            "verify_audience": self.read("verify_audience"),
            "leeway": self.read("leeway"),
            "required_claims": self.get("required_claims"),
            "max_token_age": self.read("max_token_age"),
            "max_lifetime": self.read("max_token_lifetime"),
            "expected_type": self.get("expected_type"),
            "max_token_bytes": self.get("max_token_bytes"),
            "token_cache_size": self.get("token_cache_size"),
            "token_cache_max_age": self.read("token_cache_max_age"),
            # The claims policy (jwt_guard_core/claims_policy.py).
            "optional_claims": self.get("optional_claims"),
            "claim_values": self.get("claim_values"),
            "authorized_parties": self.read("authorized_parties"),
            "token_kind": self.get("token_kind"),
            "roles_claim": self.get("roles_claim"),
            "scopes_claim": self.get("scopes_claim"),
            "roles_booleans": self.read("roles_booleans"),
            "claims_check": self._callable(self.name("claims_check"), self.get("claims_check")),
            "tenants": self.read("tenants"),
        }
        given = self.resolved("revocation")
        if isinstance(given, type):
            given = given()
        if given is None:
            given = revocation
        if given is not None:
            options["revocation"] = given
        clock = self.resolved("clock")
        if clock is not None:
            options["clock"] = clock

        issuers = self.get("issuers")
        if issuers is not None:
            top = [self.name(s) for s in self._sources() if self.get(s) is not None]
            if top:
                raise ConfigurationError(
                    self.name("issuers"),
                    f"give the key source inside each issuer entry, not {', '.join(top)} as well",
                )
            if self.get("issuer") is not None:
                raise ConfigurationError(
                    self.name("issuers"),
                    f"give either {self.short('issuers')} or {self.short('issuer')}, not both",
                )
            if not isinstance(issuers, Mapping) or not issuers:
                raise ConfigurationError(
                    self.name("issuers"), "give a non-empty dict of issuer to its settings dict"
                )
            policies: dict[Any, Any] = {}
            for iss, entry in issuers.items():
                where = f"{self.name('issuers')}[{iss!r}]"
                if isinstance(entry, IssuerPolicy):
                    policies[iss] = entry
                    continue
                entry_keys = self._entry_keys()
                if not isinstance(entry, Mapping):
                    raise ConfigurationError(
                        where,
                        f"give a dict with {', '.join(list(entry_keys.values())[:3])}, ... "
                        "or an IssuerPolicy",
                    )
                unknown = sorted(str(k) for k in entry if k not in entry_keys.values())
                if unknown:
                    raise ConfigurationError(
                        where,
                        f"unknown key(s) {', '.join(unknown)}; known: "
                        + ", ".join(sorted(entry_keys.values())),
                    )
                values = {name: entry.get(key) for name, key in entry_keys.items()}
                algorithms = by_name("algorithms").read(values["algorithms"], where)
                policies[iss] = IssuerPolicy(
                    keys=self._key_source(
                        values,
                        lambda name, w=where: f"{w}[{self.entry_key(name)!r}]",  # type: ignore[misc]
                        algorithms if algorithms is not None else options["algorithms"],
                        clock,
                        missing=where,
                        issuing_keys=issuing_keys,
                        template=iss if is_template(iss) else None,
                    ),
                    audience=values["audience"],
                    algorithms=algorithms,
                    claim_values=values["claim_values"],
                    authorized_parties=by_name("authorized_parties").read(
                        values["authorized_parties"], where
                    ),
                    token_kind=values["token_kind"],
                    roles_claim=values["roles_claim"],
                    scopes_claim=values["scopes_claim"],
                    claims_check=self._callable(
                        f"{where}[{self.entry_key('claims_check')!r}]", values["claims_check"]
                    ),
                    tenants=by_name("tenants").read(values["tenants"], where),
                )
            options.update(self._beyond_jws(options, None, lambda iss: _policy_keys(policies, iss)))
            return GuardConfig(issuers=policies, **options)

        values = {s: self.get(s) for s in (*self._sources(), "jwks_options")}
        sources.extend(self.name(s) for s in self._sources() if values[s] is not None)
        issuer = self.get("issuer")
        keys = self._key_source(
            values,
            self.name,
            options["algorithms"],
            clock,
            missing=self.name(self._sources()[0]),
            issuing_keys=issuing_keys,
            template=issuer if is_template(issuer) else None,
        )
        oidc = self.get("oidc_issuer")
        if issuer is None and isinstance(oidc, str) and options["verify_issuer"] is True:
            # OIDC Discovery 1.0 section 4.3: the discovery document's issuer is
            # the iss its tokens carry, and the key set checks that it matches.
            issuer = oidc
        options.update(self._beyond_jws(options, issuer, lambda iss: keys))
        return GuardConfig(keys=keys, issuer=issuer, **options)

    def _beyond_jws(
        self,
        options: Mapping[str, Any],
        issuer: Any,
        keys_for: Callable[[str], KeySource | None],
    ) -> dict[str, Any]:
        """The GuardConfig's ``introspection`` and ``jwe``: INTROSPECTION and JWE (issue 16)."""
        from .introspection import introspection_source
        from .jwe import jwe_policy

        found: dict[str, Any] = {}
        jwe = jwe_policy(
            self.read("jwe"),
            self.name("jwe"),
            issuing=self._issuing_encryption,
            issuing_algorithm=lambda: self._issuing_value("ENCRYPTION_ALGORITHM"),
        )
        if jwe is not None:
            found["jwe"] = jwe
        source = introspection_source(
            self.read("introspection"),
            self.name("introspection"),
            issuer=issuer,
            audience=options["audience"],
            verify_audience=options["verify_audience"],
            leeway=options["leeway"],
            clock=options.get("clock"),
            keys_for=keys_for,
        )
        if source is not None:
            found["introspection"] = source
        return found

    def _sources(self) -> tuple[str, ...]:
        return tuple(s for s in _SOURCES if by_name(s).key(self.adapter) is not None)

    def entry_key(self, setting: str) -> str:
        """A setting's key inside an ``ISSUERS`` entry: its spelling without ``JWT_GUARD_``."""
        return str(by_name(setting).key(self.adapter)).removeprefix(_PREFIX)

    def _entry_keys(self) -> dict[str, str]:
        return {s: self.entry_key(s) for s in (*self._sources(), *_ENTRY_EXTRA)}

    def _key_source(
        self,
        values: Mapping[str, Any],
        where: Callable[[str], str],
        algorithms: Any,
        clock: Any,
        *,
        missing: str,
        issuing_keys: Callable[[], KeySource] | None = None,
        template: str | None = None,
    ) -> KeySource:
        """One key source from exactly one of the source settings in ``values``."""
        from ..keys import KeySource
        from ..sources import (
            RemoteOptionError,
            hmac_key_set,
            issuing_key_set,
            remote_key_set,
            static_key_set,
        )

        names = self._sources()
        given = [n for n in names if values.get(n) is not None]
        if len(given) > 1:
            raise ConfigurationError(
                where(given[0]), f"give one key source, not {' and '.join(where(n) for n in given)}"
            )
        if not given:
            top = missing == where(names[0])
            raise ConfigurationError(
                missing,
                "no key source: set one of "
                + ", ".join(where(n) for n in names)
                + (f" (or {self.short('issuers')})" if top else ""),
            )
        name = given[0]
        value = values[name]
        options = values.get("jwks_options")
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            raise ConfigurationError(where("jwks_options"), "give a dict of RemoteJWKS options")
        if clock is not None:
            options = {"clock": clock, **options}
        if name in ("jwks_url", "oidc_issuer"):
            options = {**self.shared_jwks_options, **options}
        try:
            if name == "oidc_issuer" and template is not None:
                return _template_key_set(where(name), value, template, options)
            if name in ("jwks_url", "oidc_issuer"):
                return remote_key_set(
                    where(name), value, discovery=name == "oidc_issuer", options=options
                )
            if name in ("verifying_key", "public_key", "jwks"):
                form = {"verifying_key": "auto", "public_key": "pem", "jwks": "jwks"}[name]
                return static_key_set(where(name), value, form=form)  # type: ignore[arg-type]
            if name == "secret":
                return hmac_key_set(where(name), value, algorithms)
            if name == "key_source":
                by_name(name).read(value, where(name))
                if self.group("issuing") is None:
                    issuing_keys = None
                return issuing_key_set(
                    where(name), issuing_keys, allows_hmac=self._issuing_allows_hmac()
                )
        except RemoteOptionError as exc:
            own = values.get("jwks_options") or {}
            if exc.option == "shared_lock_timeout" and "shared_lock_timeout" not in own:
                raise ConfigurationError(
                    self.name("jwks_shared_lock_timeout"), exc.detail
                ) from None
            if self.adapter == "django":
                raise
            # Flask names a bad option value by the URL key it configures and
            # an unknown option by the options key itself.
            if exc.option is None:
                raise ConfigurationError(where("jwks_options"), exc.detail) from None
            raise ConfigurationError(where(name), f"{exc.option}: {exc.detail}") from None
        if not isinstance(value, KeySource):
            raise ConfigurationError(
                where(name), f"{type(value).__name__} is not a key source (StaticKeySet, ...)"
            )
        return value

    def _issuing_value(self, key: str) -> Any:
        # Known from the settings without opening the key store.
        group = self.group("issuing") or {}
        return group.get(key)

    def _issuing_encryption(self) -> EncryptionKeyManager:
        """The issuing side's JWE decryption keys (``JWE["KEYS"] = "ISSUING"``), opened now."""
        from ..signing.settings import IssuingSettings

        values = self.group("issuing") or {}
        settings = IssuingSettings.from_mapping(values, name_for=self.name_for("issuing"))
        return settings.open_encryption(clock=self.clock())

    def _issuing_allows_hmac(self) -> bool:
        return self._issuing_value("ALLOW_HMAC") is True

    def _callable(self, name: str, value: Any) -> Any:
        """A callable setting: a dotted path is imported; anything else is checked by the core."""
        if isinstance(value, str):
            return import_object(name, value)
        return value

    def _renamed(self, exc: ConfigurationError, sources: list[str]) -> ConfigurationError:
        """The core names its own fields; the user needs the key they wrote."""
        setting = exc.setting
        if setting.startswith(_PREFIX):
            return exc
        message = str(exc)[len(setting) + 2 :]
        if setting.startswith("issuers["):
            name = self.name("issuers") + setting[len("issuers") :]
        elif setting == "keys":
            name = sources[0] if sources else self.name(self._sources()[0])
        else:
            canonical = _CORE_FIELDS.get(setting, setting)
            name = self.name(canonical) if canonical in _NAMES else _PREFIX + setting.upper()
        return ConfigurationError(name, message)


_NAMES = frozenset(s.name for s in SETTINGS)


def _policy_keys(policies: Mapping[Any, Any], issuer: str) -> KeySource | None:
    policy = policies.get(issuer)
    return policy.keys if policy is not None else None


def _template_key_set(
    setting: str, url: Any, template: str, options: Mapping[str, Any]
) -> KeySource:
    """The key set of a template issuer, discovered from ``url`` (Entra's ``common``).

    The discovery document's ``issuer`` is the template itself (OIDC
    Discovery's exact match, with the placeholder as the provider spells it).
    """
    from ..issuer_templates import discovery_issuer
    from ..remote import RemoteJWKS
    from ..sources import remote_key_set

    # Checks the URL and every option exactly as for any issuer.
    remote_key_set(setting, url, discovery=True, options=options).close()  # type: ignore[attr-defined]
    document = str(url).rstrip("/") + "/.well-known/openid-configuration"
    return RemoteJWKS(document, **options, _issuer=discovery_issuer(template))
