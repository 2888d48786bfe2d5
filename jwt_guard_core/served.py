"""What an adapter serves from one set of settings: built on first use, shared, reset together.

The verifier, the resource policy, the session and issuing sides, and how
they are wired: the sessions' revocation is the verifier's unless
``REVOCATION`` is set (a logout is seen at once), ``KEY_SOURCE = "ISSUING"``
reads the issuing key manager, and an emergency key rotation is recorded
in the sessions' revocation. Also the key sets' warm-up, health and start-up
checks, and the stores the readiness probe pings. Django keeps one
:class:`Served` for ``JWT_GUARD`` (reset when it changes); a Flask app keeps
one, built at ``init_app`` (:meth:`Served.start`). Nothing here imports the
session or signing side: a service without them never loads them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .errors import ConfigurationError
from .lazy import Lazy, close_verifier
from .serving import ServedSessions, Shared, SharedIssuing, async_sessions
from .sources import awarm_config, config_health, config_key_sources, warm_config
from .steps import Io
from .verifier import Verifier

if TYPE_CHECKING:
    from .config import GuardConfig
    from .keys import KeySource
    from .request_policy import RequestPlan
    from .sender import ResourcePolicy
    from .settings import GuardSettings
    from .signing.settings import Issuing, IssuingSettings
    from .system_checks import Check
    from .token import VerifiedToken

_S = TypeVar("_S", bound=ServedSessions)
_FLASK_SWITCHES = {"sessions": "sessions.backend", "issuing": "issuing.issuer"}
_RISKY = {"jwt_guard_event": "risky_setting"}


def _as_is(exc: ConfigurationError) -> Exception:
    return exc


class Served(Generic[_S]):
    """The objects made from ``settings()``, each built on first use by one thread.

    ``open_sessions()`` builds the adapter's session services (called only
    when sessions are configured); ``refused`` turns a core
    :class:`~jwt_guard_core.ConfigurationError` from the verifier or the
    resource policy into the adapter's own error (Django's
    ``ImproperlyConfigured``); ``logger`` receives warm-up failures.
    ``issuing()``, when given, finds the adapter's shared issuing side
    (a Flask app's, built before ``init_app`` too); else :meth:`open_issuing`.
    """

    def __init__(
        self,
        settings: Callable[[], GuardSettings],
        open_sessions: Callable[[], _S],
        *,
        logger: logging.Logger,
        refused: Callable[[ConfigurationError], Exception] = _as_is,
        issuing: Callable[[], Issuing] | None = None,
    ) -> None:
        self.settings = settings
        self.logger = logger
        self._refused = refused
        self._verifier = Lazy(lambda: Verifier(self.config()), close_verifier)
        self._resource = Lazy(self._build_resource)
        self._plan = Lazy(self._build_plan)
        #: The resource policy (DPoP, certificate binding, RFC 9728 metadata, challenges).
        self.resource = self._resource.get
        #: The session services (``sessions.aget()`` for async code: a first build in a thread).
        self.sessions: Shared[_S] = Shared(open_sessions)
        #: The issuing side; ``issuing.keys()`` its key manager, ``issuing.issuer()`` its issuer.
        self.issuing = SharedIssuing(issuing or self.open_issuing)

    # -- building

    def configured(self, group: str) -> bool:
        """Whether the ``"sessions"`` or ``"issuing"`` group is set."""
        settings = self.settings()
        if settings.adapter == "flask":
            # A Flask group is on once its first key is set.
            return settings.get(_FLASK_SWITCHES[group]) is not None
        try:
            return settings.group(group) is not None
        except ConfigurationError:  # set, but not a dict: whoever reads it says so
            return True

    def config(self) -> GuardConfig:
        """The verifier's configuration (``ConfigurationError``: a key); opens the sessions."""
        settings = self.settings()
        revocation = None
        if settings.get("revocation") is None and self.configured("sessions"):
            revocation = self.sessions().revocation
        return settings.guard_config(revocation=revocation, issuing_keys=self.issuing.keys)

    def verifier(self) -> Verifier:
        """The shared verifier, built on first use (``refused``: a bad setting)."""
        try:
            return self._verifier.get()
        except ConfigurationError as exc:
            raise self._refused(exc) from exc

    def _build_resource(self) -> ResourcePolicy:
        from .settings.resource import resource_policy

        try:
            return resource_policy(self.settings())
        except ConfigurationError as exc:
            raise self._refused(exc) from exc

    def check_issuing(self) -> IssuingSettings:
        """Validate the issuing settings without opening the key store (system check E011)."""
        from .settings.sides import check_issuing

        return check_issuing(self.settings())

    def open_issuing(self) -> Issuing:
        """A new key manager and token issuer; opens the key store (``ConfigurationError``).

        With sessions configured, an emergency rotation is recorded in their
        revocation store (the verifier's), so a leaked key's tokens are refused at once.
        """
        from .settings.sides import open_issuing

        revocation = self.sessions().revocation if self.configured("sessions") else None
        return open_issuing(self.settings(), revocation=revocation)

    def async_sessions(self) -> bool:
        """``SESSIONS["ASYNC"]``, read without building the session side."""
        return async_sessions(self.settings())

    def reset_verifier(self) -> None:
        """Drop the verifier (its HTTP clients closed); the next use builds a new one."""
        self._verifier.reset()

    def reset(self) -> None:
        """Forget everything built (the settings changed); the verifier's clients are closed."""
        self.reset_verifier()
        self._resource.reset()
        self._plan.reset()
        self.sessions.reset()
        self.issuing.reset()

    def start(self) -> None:
        """Build now what requests use (an adapter configured once: Flask's ``init_app``).

        A bad setting raises (``refused``), the first in this order: the
        session side, the request settings, the verifier's configuration, the
        resource policy, ``USER_ISSUERS``; the risky settings are logged.
        """
        if self.configured("sessions"):
            self.sessions()
        settings = self.settings()
        try:
            settings.request  # noqa: B018 - where tokens are read, validated first
        except ConfigurationError as exc:
            raise self._refused(exc) from exc
        self.verifier()
        from .settings.audit import findings

        for finding in findings(settings):
            if not finding.error:
                self.logger.warning("jwt-guard: %s", finding.message, extra=_RISKY)
        self.request_plan()  # the resource policy, then the plan
        settings.users  # noqa: B018 - USER_ISSUERS, validated now, not on the first token

    # -- requests

    def _build_plan(self) -> tuple[RequestPlan, Callable[[str], Io] | None]:
        from .request_policy import RequestPlan

        try:
            request = self.settings().request
        except ConfigurationError as exc:
            raise self._refused(exc) from exc
        # No sessions: verification is not rate-limited and the session side is never imported.
        limited = self.configured("sessions")
        return RequestPlan(request, self.resource()), None if limited else self.verify_io

    def request_plan(self) -> tuple[RequestPlan, Callable[[str], Io] | None]:
        """The configuration's :class:`~.request_policy.RequestPlan`, and how a request's token
        is verified as a step: :meth:`verify_io`, or ``None`` when the sessions rate-limit
        verification (:meth:`limited_io`, which needs the request). Kept until :meth:`reset`.
        """
        return self._plan.get()

    def verify_io(self, raw: str) -> Io:
        """Verifying ``raw`` as a step; the verifier is built only when a token comes."""
        return Io(lambda: self.verifier().verify(raw), lambda: self.verifier().averify(raw))

    def limited_io(self, request: Any, raw: str) -> Io:
        """Like :meth:`verify_io`, behind the client's failed-verification rate limit.

        Chosen by :meth:`request_plan` only when sessions are configured, so
        nothing here asks the settings again on the request's path.
        """
        return Io(
            lambda: self.sessions().verify_function(request, self.verifier())(raw),
            lambda: self.sessions().averify_function(request, self.verifier())(raw),
        )

    def verify_function(self, request: Any, verifier: Verifier) -> Callable[[str], VerifiedToken]:
        """``verifier.verify``, behind the sessions' failed-verification rate limit if set."""
        if not self.configured("sessions"):
            return verifier.verify
        return self.sessions().verify_function(request, verifier)

    def averify_function(
        self, request: Any, verifier: Verifier
    ) -> Callable[[str], Awaitable[VerifiedToken]]:
        """Like :meth:`verify_function` for ``averify``."""
        if not self.configured("sessions"):
            return verifier.averify
        return self.sessions().averify_function(request, verifier)

    # -- key sets, health, start-up

    def key_sources(self, verifier: Verifier | None = None) -> dict[str | None, KeySource]:
        """The key source of each configured issuer (``None``: any issuer)."""
        return config_key_sources((verifier or self.verifier()).config)

    def warm(self, verifier: Verifier | None = None) -> None:
        """Fetch every remote key set now; a failure is logged, not raised (requests get 503)."""
        warm_config((verifier or self.verifier()).config, self.logger)

    async def awarm(self, verifier: Verifier | None = None) -> None:
        """Like :meth:`warm`, without blocking the event loop."""
        await awarm_config((verifier or self.verifier()).config, self.logger)

    def key_set_health(self, verifier: Verifier | None = None) -> dict[str, Any]:
        """``{"ok": bool, "key_sets": {issuer or "*": {...}}}``, for a health endpoint."""
        return config_health((verifier or self.verifier()).config)

    def backends(self) -> dict[str, Callable[[], Any]]:
        """The stores the readiness probe pings, each opened only when probed."""
        backends: dict[str, Callable[[], Any]] = {}
        if self.configured("sessions"):
            backends["sessions"] = lambda: self.sessions().store
        if self.configured("issuing"):
            backends["signing_keys"] = lambda: self.issuing.keys().store
        return backends

    def probe(self, name: str) -> tuple[int, dict[str, Any]]:
        """``(status, report)`` of the ``live`` or ``ready`` probe (:func:`.health.probe`)."""
        from .health import probe

        return probe(name, self.key_sources, self.backends)

    def warm_on_startup(self) -> bool:
        """Whether ``WARM_ON_STARTUP`` is on (read as given: ``True`` only)."""
        return self.settings().get("warm_on_startup") is True

    def warm_at_start(self) -> None:
        """With ``WARM_ON_STARTUP``, build the verifier and fetch its key sets now.

        A bad setting is logged, not raised: start-up goes on so the system
        checks can report it.
        """
        if not self.warm_on_startup():
            return
        try:
            verifier = self._verifier.get()
        except ConfigurationError as exc:
            error = self._refused(exc)
            self.logger.error("jwt-guard is misconfigured, key sets not warmed: %s", error)
            return
        self.warm(verifier)

    def warm_up(self) -> None:
        """With ``WARM_ON_STARTUP``, fetch every remote key set now and log what failed naming
        its key (Flask's start-up report; Django's system checks report the same)."""
        if self.warm_on_startup():
            from .startup import key_set_findings, log_findings

            config = self.verifier().config
            log_findings(key_set_findings(self.settings(), config), self.logger)

    def settings_checks(
        self, raw: object, *, development: bool, middleware: list[str]
    ) -> list[Check]:
        """Every check of the settings themselves (:func:`.system_checks.settings_checks`)."""
        from .system_checks import settings_checks

        return settings_checks(
            raw,
            self.settings(),
            development=development,
            middleware=middleware,
            build_config=self.config,
            check_issuing=self.check_issuing,
        )

    def key_set_checks(self, *, deploy: bool) -> list[Check]:
        """The remote key sets: those warmed at start-up, or under a deploy check without warm-up.

        Fetches through the shared verifier's key sets (what is fetched serves
        requests); nothing when the settings are invalid (E007 reports that).
        """
        warm = self.warm_on_startup()
        if warm == deploy:
            return []
        try:
            verifier = self._verifier.get()
        except ConfigurationError:
            return []
        from .system_checks import key_set_checks

        return key_set_checks(self.settings(), verifier.config, warm=warm)
