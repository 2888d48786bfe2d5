"""The resource policy (DPoP, mTLS, RFC 9728 metadata, challenges) built from the settings.

Both adapters call :func:`resource_policy` once per configuration (Django
on first use and after ``setting_changed``, Flask at ``init_app``); every
:class:`~jwt_guard_core.ConfigurationError` names the key in the user's
spelling.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from .loaded import GuardSettings, import_object

if TYPE_CHECKING:
    from ..dpop import DPoPNonceSource, ReplayStore
    from ..sender import ResourcePolicy

__all__ = ["resource_policy"]

# Core names of settings whose schema row has another canonical name.
_CORE_NAMES = {"dpop_nonce_secrets": "dpop_nonces"}
_METADATA_FIELDS = frozenset(
    {
        "resource",
        "authorization_servers",
        "jwks_uri",
        "scopes_supported",
        "bearer_methods_supported",
        "resource_name",
        "resource_documentation",
        "resource_policy_uri",
        "resource_tos_uri",
    }
)


def resource_policy(settings: GuardSettings) -> ResourcePolicy:
    """The :class:`~jwt_guard_core.sender.ResourcePolicy` of ``settings``; validates every row."""
    try:
        return _build(settings)
    except ConfigurationError as exc:
        raise _renamed(settings, exc) from None


def _renamed(settings: GuardSettings, exc: ConfigurationError) -> ConfigurationError:
    setting = exc.setting
    if setting.startswith("JWT_GUARD"):
        return exc
    message = str(exc)[len(setting) + 2 :]
    canonical = _CORE_NAMES.get(setting, setting)
    if canonical in _METADATA_FIELDS or canonical.startswith("dpop_bound"):
        return ConfigurationError(f"{settings.name('resource_metadata')}[{setting!r}]", message)
    try:
        return ConfigurationError(settings.name(canonical), message)
    except KeyError:
        return exc


def _build(settings: GuardSettings) -> ResourcePolicy:
    from ..dpop import DPoPPolicy, RequestURL
    from ..mtls import MTLSPolicy
    from ..resource_metadata import ProtectedResourceMetadata
    from ..sender import ResourcePolicy

    clock = settings.clock() or time.time
    forwarded = settings.get("dpop_forwarded_headers") or {}
    if not isinstance(forwarded, Mapping):
        raise ConfigurationError("dpop_forwarded_headers", "give a dict of part to header name")
    dpop = DPoPPolicy(
        mode=settings.read("dpop"),
        algorithms=settings.read("dpop_algorithms"),
        iat_window=settings.read("dpop_iat_window"),
        leeway=settings.read("dpop_leeway"),
        replay_store=_replay_store(settings),
        nonces=_nonces(settings, clock),
        request_url=RequestURL({str(k).lower(): v for k, v in forwarded.items()}),
        clock=clock,
    )
    header = settings.get("mtls_certificate_header")
    mtls = (
        MTLSPolicy(header, settings.get("mtls_certificate_format")) if header is not None else None
    )
    metadata = None
    given = settings.get("resource_metadata")
    if given is not None:
        if not isinstance(given, Mapping):
            raise ConfigurationError("resource_metadata", "give a dict with at least 'resource'")
        fields = {str(k).lower(): v for k, v in given.items()}
        unknown = sorted(set(fields) - _METADATA_FIELDS)
        if unknown or "resource" not in fields:
            raise ConfigurationError(
                "resource_metadata",
                (f"unknown key(s) {', '.join(unknown)}; " if unknown else "'resource' is missing; ")
                + "known: "
                + ", ".join(sorted(_METADATA_FIELDS)),
            )
        metadata = ProtectedResourceMetadata.for_policies(
            dpop=dpop, mtls=mtls is not None, **fields
        )
    leeway = settings.read("leeway")
    return ResourcePolicy(
        dpop=dpop,
        mtls=mtls,
        metadata=metadata,
        realm=settings.request.realm,
        clock=clock,
        leeway=float(leeway) if isinstance(leeway, (int, float)) else 10.0,
    )


def _replay_store(settings: GuardSettings) -> ReplayStore:
    from ..dpop import MemoryReplayStore, SQLiteReplayStore

    value = settings.get("dpop_replay_store")
    if value is None:
        return MemoryReplayStore()
    if isinstance(value, str):
        if value.startswith(("redis://", "rediss://", "unix://")):
            from ..dpop.replay_redis import RedisReplayStore

            return RedisReplayStore(value)
        if value.startswith("sqlite:///"):
            return SQLiteReplayStore(value[len("sqlite://") :])
        value = import_object(settings.short("dpop_replay_store"), value)
    if isinstance(value, type):
        value = value()
    return value  # type: ignore[no-any-return]


def _nonces(settings: GuardSettings, clock: Any) -> DPoPNonceSource | None:
    from ..dpop import NonceProvider

    value = settings.get("dpop_nonces")
    if value is None or value is False:
        return None
    lifetime = settings.read("dpop_nonce_lifetime")
    if isinstance(lifetime, float) and lifetime.is_integer():
        lifetime = int(lifetime)
    if value is True:
        return NonceProvider(lifetime=lifetime, clock=clock)
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ConfigurationError("dpop_nonces", "give True or a list of secrets, not one value")
    secrets = [v.encode("utf-8") if isinstance(v, str) else v for v in value]
    return NonceProvider(secrets, lifetime=lifetime, clock=clock)
