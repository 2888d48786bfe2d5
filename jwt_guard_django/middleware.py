"""``JWTGuardMiddleware``: authenticate every request by its token (docs/django.md, "Middleware").

After ``AuthenticationMiddleware`` in ``MIDDLEWARE``. No token: the request
goes on unchanged with ``request.auth = None``; a valid token whose user is
active: ``request.auth``, ``request.user`` and ``request.auser()`` are set;
any other outcome is refused with the core's response, except a failed token
cookie on a ``jwt_exempt`` view.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject

from jwt_guard_core.request_policy import Outcome, user_not_found
from jwt_guard_core.steps import Steps, adrive, drive

from ._auth import admit, authenticate_steps, defers_to_view, user_steps

__all__ = ["JWTGuardMiddleware"]


class JWTGuardMiddleware:
    """Verifies the request's bearer token; sync and async capable (``averify`` under ASGI)."""

    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponseBase]
        | Callable[[HttpRequest], Awaitable[HttpResponseBase]],
    ) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        decided = drive(_admission_steps(request))
        if isinstance(decided, HttpResponseBase):
            return decided
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)
        return _with_nonce(response, decided)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        decided = await adrive(_admission_steps(request))
        if isinstance(decided, HttpResponseBase):
            return decided
        response = self.get_response(request)
        assert not isinstance(response, HttpResponseBase)
        return _with_nonce(await response, decided)


def _admission_steps(request: HttpRequest) -> Steps[HttpResponseBase | Outcome]:
    """The refusal, or the request's outcome with ``request.auth`` and ``request.user`` set."""
    authenticated = outcome = yield from authenticate_steps(request)
    token = outcome.token
    if token is not None:
        user = yield from user_steps(request, token)
        if user is not None:
            _admit_user(request, token, user)  # a token and its user: nothing to refuse
            return authenticated
        # The decorators and DRF refuse such a token; so does the
        # middleware, or a plain view would act for a disabled account.
        outcome = outcome.refused(user_not_found())
    if defers_to_view(request, outcome):
        # To the rest of the stack the request is anonymous; the view
        # still finds the real outcome with authenticate(request).
        outcome = Outcome()
    refused = admit(request, outcome)
    if refused is not None:
        return refused
    if not hasattr(request, "user"):
        request.user = SimpleLazyObject(_anonymous_user)  # type: ignore[assignment]
    if not hasattr(request, "auser"):
        # Django 4.2's AuthenticationMiddleware has no auser(); give
        # async views the same accessor on every supported version.
        request.auser = _auser_of(request)
    return authenticated


def _anonymous_user() -> Any:
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def _admit_user(request: HttpRequest, token: Any, user: Any) -> None:
    async def auser() -> Any:
        return user

    request.auth = token  # type: ignore[attr-defined]
    request.user = user
    request.auser = auser


def _with_nonce(response: HttpResponseBase, outcome: Outcome) -> HttpResponseBase:
    # RFC 9449 section 8.2: the next DPoP nonce may ride on any response, so
    # a client never needs a failed request to learn it.
    nonce = outcome.nonce
    if nonce and not response.has_header("DPoP-Nonce"):
        response["DPoP-Nonce"] = nonce
    return response


def _auser_of(request: HttpRequest) -> Callable[[], Awaitable[Any]]:
    def evaluate() -> Any:
        user = request.user
        # Touching an attribute resolves a lazy (possibly session) user here,
        # in a thread, where a database query is allowed.
        getattr(user, "is_authenticated", None)
        return user

    async def auser() -> Any:
        return await sync_to_async(evaluate)()

    return auser
