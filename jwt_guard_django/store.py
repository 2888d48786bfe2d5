"""``DjangoSessionStore``: the core's ``RowSessionStore`` over querysets (docs/sessions.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from functools import reduce
from operator import or_
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet

from jwt_guard_core.sessions.rows import RowSessionStore, Where, conditions

from .models import TABLES

_LOOKUPS = {"": "", "<=": "__lte", "<": "__lt", ">": "__gt", "null": "__isnull", "in": "__in"}


def _q(where: Where) -> Q:
    return Q(**{field + _LOOKUPS[op]: value for field, op, value in conditions(where)})


class _ModelRows:
    """The primitive row operations of the core's store, as queries on the models."""

    def __init__(self, using: str) -> None:
        self.using = using

    def _rows(self, table: str, *where: Where) -> QuerySet[Any]:
        rows = TABLES[table].objects.using(self.using)
        return rows.filter(reduce(or_, map(_q, where))) if where else rows

    def atomic(self) -> AbstractContextManager[None]:
        return transaction.atomic(using=self.using)

    def insert(self, table: str, row: Mapping[str, Any], *, may_exist: bool = False) -> Any:
        if not may_exist:
            return self._rows(table).create(**row).pk
        try:
            with transaction.atomic(using=self.using):
                return self._rows(table).create(**row).pk
        except IntegrityError:
            return None

    def select(
        self,
        table: str,
        columns: Sequence[str],
        *where: Where,
        order: Sequence[str] = (),
        start: int = 0,
        limit: int | None = None,
    ) -> list[tuple[Any, ...]]:
        rows = self._rows(table, *where).order_by(*order).values_list(*columns)
        return list(rows[start : None if limit is None else start + limit])

    def update(self, table: str, where: Where, values: Mapping[str, Any]) -> int:
        return int(self._rows(table, where).update(**values))

    def delete(self, table: str, where: Where) -> int:
        return int(self._rows(table, where).delete()[0])

    def count_failures(self, since: float, limit: int) -> list[tuple[str, int, float]]:
        rows = self._rows("failure", {"at>": since}).values("client")
        counted = rows.annotate(failures=Count("pk"), last_at=Max("at"))
        top = counted.order_by("-last_at", "client")[:limit]
        return [(r["client"], r["failures"], r["last_at"]) for r in top]


class DjangoSessionStore(RowSessionStore):
    """Session state in the database ``using`` (``SESSIONS["BACKEND"] = "django"``)."""

    def __init__(self, using: str = "default") -> None:
        super().__init__(_ModelRows(using), (DatabaseError,))
        self._using = using

    def __repr__(self) -> str:
        return f"DjangoSessionStore(using={self._using!r})"
