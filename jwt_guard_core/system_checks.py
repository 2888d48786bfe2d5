"""Django's system checks as plain data: every finding with its stable ``jwt_guard.*`` id.

What is wrong or risky is decided by the settings audit
(:func:`jwt_guard_core.settings.findings`), the remote key sets
(:mod:`jwt_guard_core.startup`) and the routes
(:mod:`jwt_guard_core.route_checks`); this module gives each finding its id
(the table in docs/django.md), adds the checks only the Django adapter has
(E007, E008, E011, W008) and reads a DRF view class's attributes as a
request's view instance would. The adapter only wraps each :class:`Check`
in ``django.core.checks.Error`` or ``Warning`` and walks the URLconf.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError
from .settings.audit import Finding, findings
from .settings.resource import resource_policy

if TYPE_CHECKING:
    from .config import GuardConfig
    from .settings.loaded import GuardSettings

__all__ = [
    "IDS",
    "WARM_IDS",
    "Check",
    "checks_of",
    "key_set_checks",
    "settings_checks",
    "view_checks",
]

DOCS = "See docs/django.md for every key and its accepted values."
_MIDDLEWARE = "jwt_guard_django.middleware.JWTGuardMiddleware"
_AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"

#: The core's finding codes and their check ids (a code not listed is not reported).
IDS = {
    "no_algorithms": "jwt_guard.E001",
    "hmac_secret_short": "jwt_guard.E002",
    "hmac_mixed": "jwt_guard.E003",
    "leeway_range": "jwt_guard.E004",
    "plain_http": "jwt_guard.E005",
    "no_key_source": "jwt_guard.E006",
    "bad_locations": "jwt_guard.E009",
    "bad_header_types": "jwt_guard.E010",
    "issuer_unverified": "jwt_guard.W001",
    "audience_unverified": "jwt_guard.W002",
    "cookie_insecure": "jwt_guard.W003",
    "cookie_script_readable": "jwt_guard.W004",
    "cookie_samesite_none": "jwt_guard.W005",
    "cookie_csrf_off": "jwt_guard.W006",
    "unknown_keys": "jwt_guard.W007",
    "dpop_memory_replay_store": "jwt_guard.W009",
    # local users per issuer (OpenID Connect Core 5.7)
    "user_issuers_invalid": "jwt_guard.E012",
    "user_issuers_unset": "jwt_guard.W010",
    "user_issuers_shared": "jwt_guard.W011",
    # The claims policy (issue 13).
    "claims_relaxed": "jwt_guard.W030",
    "token_kind_any": "jwt_guard.W031",
    "claims_check_async": "jwt_guard.W032",
    # Remote key sets fetched at start-up (issue 13): key_set_checks.
    "discovery_issuer_mismatch": "jwt_guard.E013",
    "key_set_invalid": "jwt_guard.E014",
    "key_set_unreachable": "jwt_guard.W012",  # under check --deploy, warm-up off
    # A view demanding what the settings turned off (issue 15): view_checks.
    "route_dpop_off": "jwt_guard.E015",
    # A DRF view lacking (E022) or misspelling (E023) what its permission class reads.
    "route_attribute_missing": "jwt_guard.E022",
    "route_attribute_invalid": "jwt_guard.E023",
    # Production at scale (issue 17): Redis breakers, the shared JWKS cache.
    "scale_setting_invalid": "jwt_guard.E018",
    "redis_breaker_off": "jwt_guard.W017",
    "shared_jwks_unused": "jwt_guard.W018",
    # Async session views (issue 17).
    "sessions_async_orm": "jwt_guard.W021",
    # The Redis revocation mirror (issue 14).
    "revocation_mirror_backend": "jwt_guard.E020",
    "revocation_mirror_lag": "jwt_guard.W019",
    # Tokens beyond signed JWTs (issue 16): INTROSPECTION and JWE.
    "introspection_invalid": "jwt_guard.E016",
    "jwe_invalid": "jwt_guard.E017",
    "introspection_risky": "jwt_guard.W015",
    "jwe_risky": "jwt_guard.W016",
}

#: With ``WARM_ON_STARTUP`` the project asked for its keys at start-up: an
#: issuer it cannot reach then is an error, not a warning (issue 13).
WARM_IDS = {**IDS, "key_set_unreachable": "jwt_guard.E021"}


@dataclass(frozen=True)
class Check:
    """One system check result: an ``Error`` when its id is ``jwt_guard.E*``, else a ``Warning``."""

    id: str
    message: str
    hint: str = DOCS

    @property
    def error(self) -> bool:
        return self.id.startswith("jwt_guard.E")


def checks_of(found: Iterable[Finding], ids: Mapping[str, str] = IDS) -> list[Check]:
    """The findings whose code has an id, as checks (an empty hint points to the docs)."""
    return [Check(ids[f.code], f.message, f.hint or DOCS) for f in found if f.code in ids]


def settings_checks(
    raw: object,
    settings: GuardSettings,
    *,
    development: bool,
    middleware: Sequence[str],
    build_config: Callable[[], object],
    check_issuing: Callable[[], object],
) -> list[Check]:
    """Every check of the ``JWT_GUARD`` dict ``raw``, read as ``settings``.

    ``build_config()`` builds the verifier's configuration: it, where tokens
    are read and the resource policy (DPoP, mTLS, RFC 9728 metadata) are
    checked only without an error so far (E007 when one raises).
    ``check_issuing()`` validates ``ISSUING`` without opening its store (E011).
    """
    if not isinstance(raw, Mapping):
        return [
            Check(
                "jwt_guard.E008",
                f"JWT_GUARD must be a dict, not {type(raw).__name__}.",
                "Set JWT_GUARD = {'ALGORITHMS': [...], 'ISSUER': ..., 'AUDIENCE': ..., ...}.",
            )
        ]
    checks = checks_of(findings(settings, development=development))
    if (
        _MIDDLEWARE in middleware
        and _AUTH_MIDDLEWARE in middleware
        and middleware.index(_MIDDLEWARE) < middleware.index(_AUTH_MIDDLEWARE)
    ):
        checks.append(
            Check(
                "jwt_guard.W008",
                "JWTGuardMiddleware comes before AuthenticationMiddleware, which then "
                "replaces the token's request.user with the session user.",
                f"Move {_MIDDLEWARE!r} after {_AUTH_MIDDLEWARE!r} in MIDDLEWARE.",
            )
        )
    if not any(c.error for c in checks):
        try:
            settings.request  # noqa: B018 - validates where tokens are read
            build_config()
            resource_policy(settings)
        except (ConfigurationError, ImportError) as exc:
            checks.append(Check("jwt_guard.E007", f"JWT_GUARD is not a valid configuration: {exc}"))
    # Last and independent of the verifier's settings: a service may issue
    # tokens without verifying any.
    if raw.get("ISSUING") is not None:
        try:
            check_issuing()
        except ConfigurationError as exc:
            checks.append(
                Check(
                    "jwt_guard.E011",
                    f"JWT_GUARD ISSUING is invalid: {exc}",
                    "See the ISSUING table in docs/django.md for every key and its accepted "
                    "values. Left as is, the JWKS and discovery views answer 503.",
                )
            )
    return checks


def key_set_checks(settings: GuardSettings, config: GuardConfig, *, warm: bool) -> list[Check]:
    """E013, E014, and E021 (``warm``: the project asked for its keys) or W012; fetches."""
    from .startup import key_set_findings  # network I/O: loaded only when checked

    return checks_of(key_set_findings(settings, config), WARM_IDS if warm else IDS)


def view_checks(
    settings: GuardSettings,
    views: Iterable[tuple[str, Any, type | None, Mapping[str, Any]]],
) -> list[Check]:
    """E015, E022, E023 for ``(label, view, view class or None, as_view kwargs)`` of each route.

    ``E015``: a view demanding DPoP while ``DPOP`` is off (``@jwt_required``
    marks, DRF's ``RequiresDPoP``). ``E022`` / ``E023``: a DRF view whose
    jwt-guard permission class reads an attribute the view does not set or
    sets to a bad value, read as the permission reads it per request.
    """
    from .route_checks import attribute_findings, requirements_of, route_findings

    marked: list[tuple[str, Any]] = []
    problems: list[tuple[str, str, Any]] = []
    for label, view, view_class, initkwargs in views:
        attributes = None if view_class is None else _ViewAttributes(view_class, initkwargs)
        try:
            permissions = tuple(_flatten(getattr(attributes, "permission_classes", None) or ()))
        except _Dynamic:
            permissions = ()  # get_permissions() or a property decides per request
        found = requirements_of(view, *permissions)
        if found is not None:
            marked.append((label, found))
        if attributes is not None:
            problems += _attribute_problems(label, attributes, permissions)
    return checks_of(route_findings(settings, marked) + attribute_findings(problems))


class _Dynamic(Exception):
    """An attribute only a view instance can compute (a property): not checked at start-up."""


class _ViewAttributes:
    """A view class's attributes with ``as_view()``'s keyword arguments over them."""

    def __init__(self, view_class: type, initkwargs: Mapping[str, Any]) -> None:
        self._class = view_class
        self._initkwargs = initkwargs

    def __getattr__(self, name: str) -> Any:
        if name in self._initkwargs:
            return self._initkwargs[name]
        found = inspect.getattr_static(self._class, name)  # AttributeError when absent
        if hasattr(type(found), "__get__"):
            # A property (or another descriptor) is computed per request.
            raise _Dynamic(name)
        return getattr(self._class, name)


def _flatten(permissions: Iterable[Any]) -> Iterator[Any]:
    """Permission classes, those composed with ``&``, ``|`` and ``~`` (DRF operands) too."""
    for permission in permissions:
        operands = [getattr(permission, n, None) for n in ("op1_class", "op2_class")]
        if any(operands):
            yield from _flatten(o for o in operands if o is not None)
        else:
            yield permission


def _attribute_problems(
    label: str, attributes: _ViewAttributes, permissions: Iterable[Any]
) -> Iterator[tuple[str, str, Any]]:
    """``(label, permission, error)`` for each bad attribute a jwt-guard permission reads."""
    from .route_attributes import RouteAttributeError

    for permission in permissions:
        # Only jwt-guard's permission classes have view_requirements.
        read = getattr(permission, "view_requirements", None)
        if read is None:
            continue
        try:
            read(attributes)
        except RouteAttributeError as exc:
            yield label, permission.__name__, exc
        except _Dynamic:
            continue  # read per request; the permission reports it then
