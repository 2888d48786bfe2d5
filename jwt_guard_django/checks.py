"""System checks: a dangerous ``JWT_GUARD`` is reported at start-up.

Registered under ``Tags.security`` by the app config, so ``manage.py check``
and ``manage.py check --deploy`` run them. What is wrong or risky is decided
by the core (:func:`jwt_guard_core.settings.findings`, shared with Flask's
start-up warnings); this module gives each finding its stable id (see
docs/django.md) and adds what only Django has (the middleware order).

Two more groups need more than the settings: :func:`check_key_sets` fetches
the remote key sets (:mod:`jwt_guard_core.startup`; only with
``WARM_ON_STARTUP`` or under ``check --deploy``), and :func:`check_routes`
walks the URLconf for views demanding what the settings turned off, or
lacking what their permission classes read
(:mod:`jwt_guard_core.route_checks`).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from jwt_guard_core import ConfigurationError
from jwt_guard_core.settings import findings

from .conf import conf

__all__ = ["check_key_sets", "check_key_sets_deploy", "check_routes", "check_settings"]

_MIDDLEWARE = "jwt_guard_django.middleware.JWTGuardMiddleware"
_AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
_DOCS = "See docs/django.md for every key and its accepted values."

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
    # Remote key sets fetched at start-up (issue 13): check_key_sets.
    "discovery_issuer_mismatch": "jwt_guard.E013",
    "key_set_invalid": "jwt_guard.E014",
    "key_set_unreachable": "jwt_guard.W012",  # under check --deploy, warm-up off
    # A view demanding what the settings turned off (issue 15): check_routes.
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
_WARM_IDS = {**IDS, "key_set_unreachable": "jwt_guard.E021"}


def _messages(found: list[Any], ids: Mapping[str, str] = IDS) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for finding in found:
        check_id = ids.get(finding.code)
        if check_id is not None:
            kind = Error if check_id.startswith("jwt_guard.E") else Warning
            messages.append(kind(finding.message, hint=finding.hint or _DOCS, id=check_id))
    return messages


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every ``jwt_guard.E0xx`` / ``jwt_guard.W0xx`` check."""
    raw = getattr(settings, "JWT_GUARD", None)
    if not isinstance(raw, Mapping):
        return [
            Error(
                f"JWT_GUARD must be a dict, not {type(raw).__name__}.",
                hint="Set JWT_GUARD = {'ALGORITHMS': [...], 'ISSUER': ..., 'AUDIENCE': ..., ...}.",
                id="jwt_guard.E008",
            )
        ]
    messages = _messages(findings(conf.parsed, development=bool(settings.DEBUG)))
    messages += _middleware_order()
    if not any(isinstance(m, Error) for m in messages):
        # Imported here: registering the checks must not load the verifier.
        from jwt_guard_core.settings.resource import resource_policy

        from .verifier import build_config

        try:
            conf.parsed.request  # noqa: B018 - validates where tokens are read
            build_config()
            resource_policy(conf.parsed)  # DPoP, mTLS, RFC 9728 metadata
        except (ConfigurationError, ImportError) as exc:
            messages.append(
                Error(
                    f"JWT_GUARD is not a valid configuration: {exc}",
                    hint=_DOCS,
                    id="jwt_guard.E007",
                )
            )
    # Last and independent of the verifier's settings: a service may issue
    # tokens without verifying any.
    messages += _issuing(raw)
    return messages


def check_key_sets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``jwt_guard.E013``, ``E014``, ``E021`` when ``WARM_ON_STARTUP`` is on.

    The key sets were fetched by the app's ``ready()``; this reports what
    that found (a key set not tried yet is fetched now). Without warm-up a
    plain ``manage.py check`` does no network I/O:
    :func:`check_key_sets_deploy` runs under ``check --deploy`` instead.
    """
    if conf.get("WARM_ON_STARTUP") is not True:
        return []
    return _key_sets(_WARM_IDS)


def check_key_sets_deploy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The same checks under ``manage.py check --deploy`` when warm-up is off: fetches now.

    An unreachable issuer is then ``jwt_guard.W012``: the project did not ask
    for its keys at start-up, and a deploy check may run where the provider
    cannot be reached.
    """
    if conf.get("WARM_ON_STARTUP") is True:
        return []  # check_key_sets reports them
    return _key_sets()


def _key_sets(ids: Mapping[str, str] = IDS) -> list[CheckMessage]:
    # Imported here: registering the checks must not load the verifier.
    from django.core.exceptions import ImproperlyConfigured

    from jwt_guard_core.startup import key_set_findings

    from .verifier import get_verifier

    try:
        # The shared verifier's key sets: what is fetched here serves requests.
        verifier = get_verifier()
    except ImproperlyConfigured:
        return []  # check_settings reports it (jwt_guard.E007)
    return _messages(key_set_findings(conf.parsed, verifier.config), ids)


def check_routes(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``jwt_guard.E015``, ``E022``, ``E023``: views of the URLconf that cannot work.

    ``E015``: a view demanding DPoP while ``DPOP`` is off, from what
    ``@jwt_required(dpop="required")`` and DRF's ``RequiresDPoP`` (in a
    view's ``permission_classes``) record. ``E022`` / ``E023``: a DRF view
    whose jwt-guard permission class reads an attribute (``required_scopes``,
    ``required_roles``, ``required_acr_values`` / ``required_max_age``) the
    view does not set (E022) or sets to a bad value (E023), read as the
    permission reads it per request. No request is made.
    """
    from django.urls import get_resolver

    from jwt_guard_core.route_checks import attribute_findings, requirements_of, route_findings

    views = list(_views(get_resolver()))
    marked = [
        (label, found)
        for label, view, _, permissions in views
        if (found := requirements_of(view, *permissions)) is not None
    ]
    return _messages(
        route_findings(conf.parsed, marked) + attribute_findings(_attribute_problems(views))
    )


def _views(
    resolver: Any, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, Any, Any, tuple[Any, ...]]]:
    """``(label, view, attributes, permission classes)`` of every view under ``resolver``.

    ``attributes`` reads a DRF view's attributes as a request's view
    instance has them (``as_view(**initkwargs)`` over the class), ``None``
    for a function view.
    """
    from django.urls import URLResolver

    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _views(entry, route, inner)
            continue
        view = entry.callback
        # A DRF view (view.cls) demands what its permission classes record,
        # as_view(permission_classes=...) overriding the class's own.
        view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
        initkwargs = getattr(view, "initkwargs", None) or {}
        attributes = None if view_class is None else _ViewAttributes(view_class, initkwargs)
        try:
            permissions = getattr(attributes, "permission_classes", None) or ()
        except _Dynamic:
            permissions = ()  # get_permissions() or a property decides per request
        name = f" (name {namespace + entry.name!r})" if entry.name else ""
        target = view_class or view
        where = f"{target.__module__}.{target.__qualname__}"
        label = f"URL pattern {route!r}{name}, view {where},"
        yield label, view, attributes, tuple(_flatten(permissions))


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


def _flatten(permissions: Any) -> Iterator[Any]:
    """Permission classes, those composed with ``&``, ``|`` and ``~`` (DRF operands) too."""
    for permission in permissions:
        operands = [getattr(permission, n, None) for n in ("op1_class", "op2_class")]
        if any(operands):
            yield from _flatten(o for o in operands if o is not None)
        else:
            yield permission


def _attribute_problems(
    views: list[tuple[str, Any, Any, tuple[Any, ...]]],
) -> Iterator[tuple[str, str, Any]]:
    """``(label, permission, error)`` for each bad attribute a jwt-guard permission reads."""
    from jwt_guard_core.route_attributes import RouteAttributeError

    for label, _, attributes, permissions in views:
        for permission in permissions:
            # Only jwt-guard's permission classes have view_requirements (DRF
            # itself is an optional extra, not imported here).
            read = getattr(permission, "view_requirements", None)
            if attributes is None or read is None:
                continue
            try:
                read(attributes)
            except RouteAttributeError as exc:
                yield label, permission.__name__, exc
            except _Dynamic:
                continue  # read per request; the permission reports it then


def _issuing(raw: Mapping[str, Any]) -> list[CheckMessage]:
    if raw.get("ISSUING") is None:
        return []
    # Imported here: a service that issues no tokens never loads the signing side.
    from .issuing import check_issuing

    try:
        # Validates every key without opening the store: no key is read,
        # no directory created (the store is opened on first use).
        check_issuing()
    except ConfigurationError as exc:
        return [
            Error(
                f"JWT_GUARD ISSUING is invalid: {exc}",
                hint="See the ISSUING table in docs/django.md for every key and its accepted "
                "values. Left as is, the JWKS and discovery views answer 503.",
                id="jwt_guard.E011",
            )
        ]
    return []


def _middleware_order() -> list[CheckMessage]:
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    if (
        _MIDDLEWARE in middleware
        and _AUTH_MIDDLEWARE in middleware
        and middleware.index(_MIDDLEWARE) < middleware.index(_AUTH_MIDDLEWARE)
    ):
        return [
            Warning(
                "JWTGuardMiddleware comes before AuthenticationMiddleware, which then "
                "replaces the token's request.user with the session user.",
                hint=f"Move {_MIDDLEWARE!r} after {_AUTH_MIDDLEWARE!r} in MIDDLEWARE.",
                id="jwt_guard.W008",
            )
        ]
    return []
