"""``JWTGuardMiddleware``: authenticate every request by its token (docs/django.md)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve
from django.utils.functional import SimpleLazyObject

from jwt_guard_core.request_policy import Outcome, set_dpop_nonce, without_user
from jwt_guard_core.steps import Steps, adrive, drive

from ._auth import EXEMPT, admit, authenticate_steps, user_steps

__all__ = ["JWTGuardMiddleware"]


class JWTGuardMiddleware:
    """Sets ``request.auth`` and ``request.user`` from the token, or refuses it; sync and async."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
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
        set_dpop_nonce(response.headers, decided.nonce)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        decided = await adrive(_admission_steps(request))
        if isinstance(decided, HttpResponseBase):
            return decided
        response: HttpResponseBase = await self.get_response(request)
        set_dpop_nonce(response.headers, decided.nonce)
        return response


def _admission_steps(request: HttpRequest) -> Steps[HttpResponseBase | Outcome]:
    """The refusal, or the request's outcome with ``request.auth`` and ``request.user`` set."""
    outcome = yield from authenticate_steps(request)
    token = outcome.token
    user = None if token is None else (yield from user_steps(request, token))
    if user is not None:  # a token and its user: nothing to refuse

        async def auser() -> Any:
            return user

        request.auth, request.user, request.auser = token, user, auser  # type: ignore[attr-defined]
        return outcome
    refused = admit(request, without_user(outcome, lambda: _exempt(request)))
    if refused is not None:
        return refused
    if not hasattr(request, "user"):
        request.user = SimpleLazyObject(_anonymous_user)  # type: ignore[assignment]
    if not hasattr(request, "auser"):
        # Django 4.2's AuthenticationMiddleware has no auser(); give
        # async views the same accessor on every supported version.
        request.auser = partial(_auser, request)
    return outcome


def _exempt(request: HttpRequest) -> bool:
    # Resolved only for a refusal the outcome can defer: other requests pay nothing.
    try:
        match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return getattr(match.func, EXEMPT, False) is True


def _anonymous_user() -> Any:
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


async def _auser(request: HttpRequest) -> Any:
    return await sync_to_async(_evaluated)(request)


def _evaluated(request: HttpRequest) -> Any:
    # Touching an attribute resolves a lazy (possibly session) user here,
    # in a thread, where a database query is allowed.
    getattr(request.user, "is_authenticated", None)
    return request.user
