"""Views the adapter's tests call: plain Django (sync and async) and DRF."""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpRequest, JsonResponse
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jwt_guard_django.decorators import jwt_optional, jwt_required, require_scopes
from jwt_guard_django.permissions import HasAnyScope, HasScopes


def _describe(request: Any) -> dict[str, Any]:
    token = request.auth
    user = request.user
    return {
        "sub": token.subject if token is not None else None,
        "scopes": sorted(token.scopes) if token is not None else [],
        "authenticated": bool(user is not None and user.is_authenticated),
        "user": user.__class__.__name__ if user is not None else None,
        "username": user.get_username() if user is not None and user.is_authenticated else None,
    }


def plain(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_describe(request))


async def plain_async(request: HttpRequest) -> JsonResponse:
    user = await request.auser()
    request.user = user
    return JsonResponse(_describe(request))


@jwt_required
def required(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_describe(request))


@jwt_required
async def required_async(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_describe(request))


@jwt_optional
def optional(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_describe(request))


@jwt_optional
async def optional_async(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_describe(request))


@require_scopes("orders:write")
def scoped(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_describe(request))


@require_scopes("orders:write")
async def scoped_async(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_describe(request))


@require_scopes("orders:write", "admin", any_of=True)
def any_scope(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_describe(request))


class DrfMe(APIView):
    def get(self, request: Request) -> Response:
        return Response(_describe(request))

    def post(self, request: Request) -> Response:
        return Response(_describe(request), status=201)


class DrfOpen(APIView):
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        return Response(_describe(request))


class DrfOrders(APIView):
    permission_classes = (HasScopes,)
    required_scopes: ClassVar = {"GET": ("orders:read",), "POST": ("orders:write",)}

    def get(self, request: Request) -> Response:
        return Response(_describe(request))

    def post(self, request: Request) -> Response:
        return Response(_describe(request), status=201)

    def delete(self, request: Request) -> Response:
        return Response(status=204)


class DrfAnyScope(APIView):
    permission_classes = (HasAnyScope,)
    required_scopes = ("orders:write", "admin")

    def get(self, request: Request) -> Response:
        return Response(_describe(request))
