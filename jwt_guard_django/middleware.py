"""``JWTGuardMiddleware``: authenticate every request by its token.

Add ``"jwt_guard_django.middleware.JWTGuardMiddleware"`` to ``MIDDLEWARE``
after ``AuthenticationMiddleware`` (when you use it). Then:

* no token: the request goes on unchanged (anonymous, or the session user),
  with ``request.auth = None``;
* a valid token: ``request.auth`` is the
  :class:`~jwt_guard_core.VerifiedToken` and ``request.user`` the user,
  (``await request.auser()`` in async views), resolved here, once;
* a DPoP-bound token (``Authorization: DPoP``) with its proof, when
  ``DPOP`` allows it; the next ``DPoP-Nonce`` on the response when nonces
  are on (see docs/dpop.md);
* a valid token whose user does not exist or is inactive (``USER_ID_FIELD``
  or ``USER_RESOLVER`` finds none): 401 ``invalid_token``, reason
  ``user_not_found``, as the decorators and the DRF class answer, so no
  view behind the middleware sees ``request.auth`` for a disabled account;
* an invalid token: 401 with ``WWW-Authenticate: Bearer realm="...",
  error="invalid_token"`` (plus the ``DPoP`` challenge and
  ``resource_metadata`` when configured); a malformed ``Authorization`` header: 400
  ``invalid_request``; the key source down: 503 with ``Retry-After``; a
  cookie token on an unsafe method without CSRF proof: 403 ``csrf_failed``;
* a token *cookie* that fails verification on a view marked ``jwt_exempt``
  (the session views: login, refresh, logout): the view runs with
  ``request.auth = None`` and decides (see
  :func:`jwt_guard_django._auth.jwt_exempt`).

It is sync and async capable: under ASGI the async path uses ``averify`` and
never blocks the event loop on a key fetch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject

from jwt_guard_core import VerifiedToken
from jwt_guard_core.request_policy import Outcome, user_not_found

from ._auth import (
    aauthenticate,
    admit,
    aget_user,
    anonymous_user,
    authenticate,
    defers_to_view,
    get_user,
)

__all__ = ["JWTGuardMiddleware"]


class JWTGuardMiddleware:
    """Verifies the request's bearer token; see the module docstring."""

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
        outcome = authenticate(request)
        token = outcome.token
        user = get_user(request, token) if token is not None else None
        if token is not None and user is not None:
            _admit_user(request, token, user)  # a token and its user: nothing to refuse
        else:
            refused = self._apply(request, outcome, user)
            if refused is not None:
                return refused
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)
        return _with_nonce(response, outcome)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        outcome = await aauthenticate(request)
        token = outcome.token
        user = await aget_user(request, token) if token is not None else None
        if token is not None and user is not None:
            _admit_user(request, token, user)
        else:
            refused = self._apply(request, outcome, user)
            if refused is not None:
                return refused
        response = self.get_response(request)
        assert not isinstance(response, HttpResponseBase)
        return _with_nonce(await response, outcome)

    @staticmethod
    def _apply(request: HttpRequest, outcome: Outcome, user: Any) -> HttpResponseBase | None:
        """Refuse the request, or set ``request.auth`` and ``request.user``.

        ``user`` is the token's user (``None``: no token, or no active user).
        """
        if outcome.token is not None and user is None:
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
        if outcome.token is None:
            if not hasattr(request, "user"):
                request.user = SimpleLazyObject(anonymous_user)  # type: ignore[assignment]
            if not hasattr(request, "auser"):
                # Django 4.2's AuthenticationMiddleware has no auser(); give
                # async views the same accessor on every supported version.
                request.auser = _auser_of(request)
            return None
        _admit_user(request, outcome.token, user)
        return None


def _admit_user(request: HttpRequest, token: VerifiedToken, user: Any) -> None:
    """``request.auth``, ``request.user`` and ``request.auser()`` for a token and its user."""

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
