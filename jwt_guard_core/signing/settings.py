"""Issuing settings as plain data: validated once, then opened into the issuing objects.

Both framework adapters read the same sixteen settings (``KEY_DIR``,
``ISSUER``, ``ROTATION_INTERVAL`` ...) from their own configuration and
hand them here as a plain mapping, with a ``name_for`` callable that says
how the user spells a key (``JWT_GUARD['ISSUING']['ISSUER']`` in Django,
``JWT_GUARD_ISSUING_ISSUER`` in Flask), so every
:class:`~jwt_guard_core.ConfigurationError` names the setting to fix::

    settings = IssuingSettings.from_mapping(
        {"KEY_DIR": "/var/lib/app/keys", "ISSUER": "https://auth.example"},
        name_for=lambda key: f"MYAPP_ISSUING_{key}",
    )
    settings.check_store()          # start-up check: no key is read, nothing is created
    issuing = settings.open()       # opens the store: Issuing(keys, issuer, jwks_uri)

Validation happens in three steps of growing cost, so a start-up check can
stop before the store is opened:

1. :class:`IssuingSettings` (``__post_init__``): types, and every rule of
   ``KeyManager`` and ``TokenIssuer`` (algorithm, durations, lifetimes
   fitting the key retention), without any I/O;
2. :meth:`IssuingSettings.check_store`: the passphrase variable is set and
   long enough, an existing key directory is private, a Redis URL parses;
   no key is read, no file or directory is created, no connection is made;
3. :meth:`IssuingSettings.open`: opens the store (derives the sealing key,
   checks the passphrase against the store) and builds the objects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields
from datetime import timedelta
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._naming import NameFor, refuse_unknown_keys, renamed, setting_name
from ..errors import ConfigurationError
from ..settings.schema import ISSUING_DEFAULTS as _SCHEMA_ISSUING_DEFAULTS
from ._crypto import resolve_passphrase
from .issuer import TokenIssuer
from .keystore import FileKeyStore, KeyRing, KeyStore, check_key_directory
from .manager import KeyManager, KeyRevocation

if TYPE_CHECKING:
    from .encryption_keys import EncryptionKeyManager

__all__ = [
    "ISSUING_DEFAULTS",
    "Issuing",
    "IssuingSettings",
    "issuing_from_settings",
    "validate_issuing_settings",
]

#: Every issuing setting (upper-case key) with its default: the schema's.
ISSUING_DEFAULTS: Mapping[str, Any] = _SCHEMA_ISSUING_DEFAULTS

# Core parameter names (KeyManager, TokenIssuer, the stores) -> the setting a user changes.
_PARAMETER_FIELDS = {
    "default_lifetime": "access_token_lifetime",
    "max_lifetime": "max_token_lifetime",
    "prefix": "redis_prefix",
    "passphrase": "passphrase_env",
}


@dataclass(frozen=True)
class Issuing:
    """The issuing side built from settings: the key manager, the token issuer, the JWKS URI."""

    keys: KeyManager
    issuer: TokenIssuer
    jwks_uri: str
    #: The JWE decryption keys (``ENCRYPTION_ALGORITHM``), published with ``use: "enc"``.
    encryption: EncryptionKeyManager | None = None


class _UnopenedStore:
    """A key store that refuses every use.

    Settings are validated by constructing the real ``KeyManager`` and
    ``TokenIssuer`` (their rules are not copied here, so they cannot drift);
    neither touches its store when constructed, and this one guarantees
    that validation never reads or writes keys.
    """

    def _refuse(self) -> Any:
        raise RuntimeError("settings validation never opens the key store")

    def revision(self) -> int:
        return self._refuse()  # type: ignore[no-any-return]

    def load(self) -> KeyRing:
        return self._refuse()  # type: ignore[no-any-return]

    def save(self, ring: KeyRing, *, expected_revision: int) -> KeyRing:
        return self._refuse()  # type: ignore[no-any-return]

    def lock(self, *, blocking: bool = True) -> AbstractContextManager[bool]:
        return self._refuse()  # type: ignore[no-any-return]


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        # "False" read from an environment variable is truthy: refuse, never guess.
        raise ConfigurationError(name, f"{value!r} is not True or False")


@dataclass(frozen=True)
class IssuingSettings:
    """The issuing side's settings, validated when constructed (no I/O).

    Field names are the lower-case :data:`ISSUING_DEFAULTS` keys; durations
    are seconds or :class:`~datetime.timedelta`. A bad value raises
    :class:`~jwt_guard_core.ConfigurationError` whose ``setting`` is
    ``name_for(KEY)`` (the field name when ``name_for`` is ``None``).
    """

    issuer: str
    key_dir: str | PathLike[str] | None = ISSUING_DEFAULTS["KEY_DIR"]
    redis_url: str | None = ISSUING_DEFAULTS["REDIS_URL"]
    redis_prefix: str = ISSUING_DEFAULTS["REDIS_PREFIX"]
    passphrase_env: str = ISSUING_DEFAULTS["PASSPHRASE_ENV"]
    algorithm: str | None = ISSUING_DEFAULTS["ALGORITHM"]
    allow_hmac: bool = ISSUING_DEFAULTS["ALLOW_HMAC"]
    audience: str | Sequence[str] | None = ISSUING_DEFAULTS["AUDIENCE"]
    access_token_lifetime: float | timedelta = ISSUING_DEFAULTS["ACCESS_TOKEN_LIFETIME"]
    max_token_lifetime: float | timedelta = ISSUING_DEFAULTS["MAX_TOKEN_LIFETIME"]
    rotation_interval: float | timedelta = ISSUING_DEFAULTS["ROTATION_INTERVAL"]
    grace_period: float | timedelta = ISSUING_DEFAULTS["GRACE_PERIOD"]
    jwks_max_age: int = ISSUING_DEFAULTS["JWKS_MAX_AGE"]
    publish_ahead: float | timedelta | None = ISSUING_DEFAULTS["PUBLISH_AHEAD"]
    auto_rotate: bool = ISSUING_DEFAULTS["AUTO_ROTATE"]
    jwks_uri: str | None = ISSUING_DEFAULTS["JWKS_URI"]
    # A PKCS#11 token (docs/hsm.md): keys generated and used on the token.
    pkcs11_module: str | PathLike[str] | None = ISSUING_DEFAULTS["PKCS11_MODULE"]
    pkcs11_token_label: str | None = ISSUING_DEFAULTS["PKCS11_TOKEN_LABEL"]
    pkcs11_slot: int | None = ISSUING_DEFAULTS["PKCS11_SLOT"]
    pkcs11_pin_env: str | None = ISSUING_DEFAULTS["PKCS11_PIN_ENV"]
    pkcs11_pin_file: str | PathLike[str] | None = ISSUING_DEFAULTS["PKCS11_PIN_FILE"]
    pkcs11_prefix: str = ISSUING_DEFAULTS["PKCS11_PREFIX"]
    pkcs11_lock_file: str | PathLike[str] | None = ISSUING_DEFAULTS["PKCS11_LOCK_FILE"]
    # A JWE decryption key in a store of its own beside the signing keys (issue 16).
    encryption_algorithm: str | None = ISSUING_DEFAULTS["ENCRYPTION_ALGORITHM"]
    encryption_curve: str = ISSUING_DEFAULTS["ENCRYPTION_CURVE"]
    name_for: NameFor | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        with self._naming():
            if not isinstance(self.issuer, str) or not self.issuer:
                raise ConfigurationError(
                    "issuer", "required: this service's URL, the iss of its tokens"
                )
            uri = self.jwks_uri
            if uri is not None and (
                not isinstance(uri, str) or not uri.startswith(("https://", "http://"))
            ):
                raise ConfigurationError("jwks_uri", f"{uri!r} is not an absolute URL")
            _flag("auto_rotate", self.auto_rotate)
            _flag("allow_hmac", self.allow_hmac)
            self._check_store_choice()
            if not isinstance(self.passphrase_env, str) or not self.passphrase_env:
                raise ConfigurationError(
                    "passphrase_env", f"{self.passphrase_env!r} is not an environment variable name"
                )
            if not isinstance(self.redis_prefix, str) or not self.redis_prefix:
                raise ConfigurationError("redis_prefix", "must be a non-empty string")
            self._build(_UnopenedStore(), clock=None)
            if self.encryption_algorithm is not None:
                if self.pkcs11_module is not None:
                    raise ConfigurationError(
                        "encryption_algorithm",
                        "decryption keys are kept in a key directory or Redis, not on a PKCS#11 "
                        "token",
                    )
                self._encryption(_UnopenedStore(), clock=None)

    def _check_store_choice(self) -> None:
        directory, url = self.key_dir, self.redis_url
        if self.pkcs11_module is not None:
            if directory is not None or url is not None:
                raise ConfigurationError(
                    "pkcs11_module",
                    f"give one key store: {self._name('pkcs11_module')}, "
                    f"{self._name('key_dir')} or {self._name('redis_url')}",
                )
            return
        if directory is not None and url is not None:
            raise ConfigurationError(
                "key_dir",
                f"give {self._name('key_dir')} (one machine) or {self._name('redis_url')} "
                "(several), not both",
            )
        if url is not None and not isinstance(url, str):
            raise ConfigurationError("redis_url", "give a redis:// URL")
        if url is None and directory is None:
            raise ConfigurationError(
                "key_dir",
                f"no key store: set {self._name('key_dir')} (a private directory) or "
                f"{self._name('redis_url')}",
            )
        if directory is not None and not isinstance(directory, (str, PathLike)):
            raise ConfigurationError("key_dir", f"{directory!r} is not a path")

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], *, name_for: NameFor | None = None
    ) -> IssuingSettings:
        """Settings from upper-case keys (:data:`ISSUING_DEFAULTS`); a missing key has its default.

        An unknown key is refused: a misspelt one would silently keep a
        default (a 30-day rotation someone meant to shorten).
        """
        from .pkcs11_settings import refuse_literal_pin

        refuse_literal_pin(values, lambda key: setting_name(key, name_for))
        refuse_unknown_keys(values, ISSUING_DEFAULTS, name_for)
        given = {key.lower(): values.get(key, default) for key, default in ISSUING_DEFAULTS.items()}
        return cls(**given, name_for=name_for)

    @property
    def resolved_jwks_uri(self) -> str:
        """``jwks_uri``, or the issuer's ``/.well-known/jwks.json``."""
        if self.jwks_uri is not None:
            return self.jwks_uri
        # Derived from the issuer, not from a request's Host header: a
        # forged Host must not change where verifiers are sent for keys.
        return self.issuer.rstrip("/") + "/.well-known/jwks.json"

    def check_store(self) -> None:
        """Check what can be checked of the key store without opening it.

        The passphrase variable is set and long enough; an existing
        ``key_dir`` is a directory no group or other user can access; a
        ``redis_url`` parses. Reads no key, creates nothing, connects to
        nothing: meant for start-up checks (``manage.py check``).
        """
        with self._naming():
            if self.pkcs11_module is not None:
                # The token holds the keys: no passphrase, no directory.
                from .pkcs11_settings import check_pkcs11_settings

                check_pkcs11_settings(self.pkcs11_module, **self._pkcs11_options())
                return
            resolve_passphrase(None, self.passphrase_env)
            if self.redis_url is not None:
                # Parses the URL and reads the passphrase; connects only on first use.
                self._redis_store()
                return
            assert self.key_dir is not None
            # A missing directory is fine: the store creates it 0700 when opened.
            check_key_directory(Path(self.key_dir), "key_dir")

    def open(
        self,
        *,
        clock: Callable[[], float] | None = None,
        revocation: KeyRevocation | None = None,
        breaker: Any = None,
    ) -> Issuing:
        """Open the key store and build the :class:`Issuing` side.

        A missing or wrong passphrase, or a key directory others can read,
        raises :class:`~jwt_guard_core.ConfigurationError` here. ``clock``
        (Unix time) is the key manager's and the issuer's. ``revocation``
        (the sessions' :class:`~jwt_guard_core.sessions.RevocationService`)
        is where an emergency rotation denies the removed keys, so the
        verifiers sharing it refuse a leaked key's tokens at once.
        """
        with self._naming():
            store: KeyStore
            if self.pkcs11_module is not None:
                from .pkcs11_store import Pkcs11KeyStore

                hsm = Pkcs11KeyStore(self.pkcs11_module, **self._pkcs11_options())
                if self.algorithm is not None:
                    hsm.check_algorithm(self.algorithm)
                store = hsm
            elif self.redis_url is not None:
                store = self._redis_store(breaker)
            else:
                assert self.key_dir is not None
                store = FileKeyStore(self.key_dir, passphrase_env=self.passphrase_env)
            keys, issuer = self._build(store, clock=clock, revocation=revocation)
        encryption = self.open_encryption(clock=clock) if self.encryption_algorithm else None
        return Issuing(
            keys=keys, issuer=issuer, jwks_uri=self.resolved_jwks_uri, encryption=encryption
        )

    def open_encryption(self, *, clock: Callable[[], float] | None = None) -> EncryptionKeyManager:
        """The JWE decryption keys' manager, on a store of its own beside the signing keys.

        ``KEY_DIR/encryption`` (created ``0700``), or the Redis prefix
        followed by ``:encryption``; the same passphrase seals both.
        """
        with self._naming():
            if self.encryption_algorithm is None:
                raise ConfigurationError(
                    "encryption_algorithm", "not set: the key store holds no decryption key"
                )
            store: KeyStore
            if self.redis_url is not None:
                from .redis_store import RedisKeyStore

                store = RedisKeyStore(
                    self.redis_url,
                    prefix=f"{self.redis_prefix}:encryption",
                    passphrase_env=self.passphrase_env,
                )
            else:
                assert self.key_dir is not None
                store = FileKeyStore(
                    Path(self.key_dir) / "encryption", passphrase_env=self.passphrase_env
                )
            return self._encryption(store, clock=clock)

    # -- helpers

    def _pkcs11_options(self) -> dict[str, Any]:
        return {
            "token_label": self.pkcs11_token_label,
            "slot": self.pkcs11_slot,
            "pin_env": self.pkcs11_pin_env,
            "pin_file": self.pkcs11_pin_file,
            "prefix": self.pkcs11_prefix,
            "lock_file": self.pkcs11_lock_file,
        }

    def _redis_store(self, breaker: Any = None) -> Any:
        from .redis_store import RedisKeyStore

        return RedisKeyStore(
            self.redis_url or "",
            prefix=self.redis_prefix,
            passphrase_env=self.passphrase_env,
            breaker=breaker,
        )

    def _build(
        self,
        store: KeyStore,
        *,
        clock: Callable[[], float] | None,
        revocation: KeyRevocation | None = None,
    ) -> tuple[KeyManager, TokenIssuer]:
        options: dict[str, Any] = {"clock": clock} if clock is not None else {}
        if revocation is not None:
            options["revocation"] = revocation
        keys = KeyManager(
            store,
            algorithm=self.algorithm,
            allow_hmac=self.allow_hmac,
            rotation_interval=self.rotation_interval,
            max_token_lifetime=self.max_token_lifetime,
            grace_period=self.grace_period,
            jwks_max_age=self.jwks_max_age,
            publish_ahead=self.publish_ahead,
            auto_rotate=self.auto_rotate,
            **options,
        )
        issuer = TokenIssuer(
            keys,
            issuer=self.issuer,
            audience=self.audience,
            default_lifetime=self.access_token_lifetime,
            max_lifetime=self.max_token_lifetime,
        )
        return keys, issuer

    def _encryption(
        self, store: KeyStore, *, clock: Callable[[], float] | None
    ) -> EncryptionKeyManager:
        from .encryption_keys import EncryptionKeyManager

        options: dict[str, Any] = {"clock": clock} if clock is not None else {}
        try:
            return EncryptionKeyManager(
                store,
                algorithm=self.encryption_algorithm or "",
                curve=self.encryption_curve,
                rotation_interval=self.rotation_interval,
                max_token_lifetime=self.max_token_lifetime,
                jwks_max_age=self.jwks_max_age,
                grace_period=self.grace_period,
                auto_rotate=self.auto_rotate,
                **options,
            )
        except ConfigurationError as exc:
            if exc.setting in ("algorithm", "curve"):
                raise exc.renamed(f"encryption_{exc.setting}") from None
            raise

    def _name(self, field_name: str) -> str:
        return setting_name(field_name, self.name_for)

    def _naming(self) -> AbstractContextManager[None]:
        """Re-raise a core error under the name the user wrote the setting with."""
        store = (
            "pkcs11_module"
            if self.pkcs11_module is not None
            else "redis_url"
            if self.redis_url is not None
            else "key_dir"
        )
        return renamed(_FIELDS, {**_PARAMETER_FIELDS, "key_store": store}, self.name_for)


_FIELDS = frozenset(f.name for f in fields(IssuingSettings)) - {"name_for"}


def validate_issuing_settings(
    values: Mapping[str, Any], *, name_for: NameFor | None = None
) -> IssuingSettings:
    """Every check that does not open the key store (for start-up checks); the settings.

    Raises :class:`~jwt_guard_core.ConfigurationError` naming ``name_for(KEY)``.
    """
    settings = IssuingSettings.from_mapping(values, name_for=name_for)
    settings.check_store()
    return settings


def issuing_from_settings(
    values: Mapping[str, Any],
    *,
    name_for: NameFor | None = None,
    clock: Callable[[], float] | None = None,
    revocation: KeyRevocation | None = None,
    breaker: Any = None,
) -> Issuing:
    """Translate issuing settings (:data:`ISSUING_DEFAULTS` keys) into an opened :class:`Issuing`.

    Opens the key store (a missing passphrase or a world-readable key
    directory fails here). Raises :class:`~jwt_guard_core.ConfigurationError`
    whose ``setting`` is ``name_for(KEY)``. ``revocation``: see
    :meth:`IssuingSettings.open`; ``breaker``: the Redis key store's circuit breaker.
    """
    return IssuingSettings.from_mapping(values, name_for=name_for).open(
        clock=clock, revocation=revocation, breaker=breaker
    )
