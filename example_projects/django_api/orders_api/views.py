"""The example API: who am I, orders (read and write scopes), health."""

from __future__ import annotations

import itertools
import threading
from typing import Any, ClassVar

from django.http import HttpRequest, JsonResponse
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jwt_guard_django.permissions import HasScopes
from jwt_guard_django.verifier import key_set_health

# A stand-in for a database table, per process.
_orders: list[dict[str, Any]] = []
_ids = itertools.count(1)
_lock = threading.Lock()


class Me(APIView):
    """GET /api/me: the verified token's claims."""

    def get(self, request: Request) -> Response:
        token = request.auth
        return Response(
            {
                "subject": token.subject,
                "issuer": token.issuer,
                "scopes": sorted(token.scopes),
                "claims": dict(token.claims),
            }
        )


class OrderSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


class Orders(APIView):
    """GET /api/orders needs ``orders:read``; POST needs ``orders:write``."""

    permission_classes = (HasScopes,)
    required_scopes: ClassVar = {"GET": ("orders:read",), "POST": ("orders:write",)}

    def get(self, request: Request) -> Response:
        with _lock:
            mine = [o for o in _orders if o["owner"] == request.auth.subject]
        return Response({"orders": mine})

    def post(self, request: Request) -> Response:
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _lock:
            order = {"id": next(_ids), "owner": request.auth.subject, **serializer.validated_data}
            _orders.append(order)
        return Response(order, status=201)


def healthz(request: HttpRequest) -> JsonResponse:
    """GET /healthz: 200 while tokens can be verified, 503 when the key set is unavailable."""
    health = key_set_health()
    return JsonResponse(
        {"status": "ok" if health["ok"] else "unavailable", **health},
        status=200 if health["ok"] else 503,
    )
