"""Decisions written once, run by a sync or an async driver.

Every session operation (a login, a refresh, a logout, a rate-limit
reservation, a revocation check), a session route and an adapter's request
authentication is a generator of :class:`Io` requests: it yields each call
that waits (a store, a verification, a signal), receives the answer (or the
call's exception, thrown in at the ``yield``), decides, and returns its
result. It never performs I/O itself. :func:`drive` answers the requests
with the sync calls; :func:`adrive` by awaiting the async ones. So the sync
and the async paths share every decision, every event and every error, and
the async path differs only in how it waits::

    def _spend(self, token_hash, now):          # a step: decides, never waits
        result = yield self._io("spend", token_hash, now=now)
        ...

    service.refresh(token)          # drive(service._refresh_steps(token, None))
    await service.arefresh(token)   # await adrive(the same steps)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

__all__ = ["Io", "Steps", "adrive", "drive", "inline", "offloaded", "store_io"]

_T = TypeVar("_T")

#: A decision: yields :class:`Io` requests, receives their answers, returns ``_T``.
Steps = Generator["Io", Any, _T]


@dataclass(frozen=True)
class Io:
    """One call a decision needs answered: ``run()`` on the sync path, ``await arun()`` on async."""

    run: Callable[[], Any]
    arun: Callable[[], Awaitable[Any]]


def store_io(store: Any, astore: Any, method: str, *args: Any, **kwargs: Any) -> Io:
    """The call ``store.method(*args, **kwargs)``, or on the async path ``astore``'s."""
    return Io(
        partial(getattr(store, method), *args, **kwargs),
        partial(getattr(astore, method), *args, **kwargs),
    )


def inline(call: Callable[[], Any], acall: Callable[[], Awaitable[Any]] | None = None) -> Io:
    """``call``, or ``await acall()`` on the async path; without ``acall``, ``call`` on the loop.

    For a quick call that must not move to a thread (a signal whose receivers
    expect the caller's context).
    """
    return Io(call, acall if acall is not None else partial(_called, call))


async def _called(call: Callable[[], Any]) -> Any:
    return call()


def offloaded(
    action: Callable[[], Any], *, known: Callable[[], tuple[bool, Any]] | None = None
) -> Io:
    """A blocking call (a key store, a user's function): on the async path, in a worker thread.

    ``known()``, when given, is asked first on the async path: ``(True,
    answer)`` is an answer held in memory (no thread), ``(False, None)``
    means reading may block, so ``action`` runs in the thread.
    """
    if known is None:
        return Io(action, partial(asyncio.to_thread, action))
    peek = known

    async def arun() -> Any:
        found, answer = peek()
        return answer if found else await asyncio.to_thread(action)

    return Io(action, arun)


def drive(steps: Steps[_T]) -> _T:
    """Run ``steps`` to its result, answering each request with a sync call."""
    try:
        request = next(steps)
        while True:
            try:
                answer = request.run()
            except BaseException as exc:
                request = steps.throw(exc)
            else:
                request = steps.send(answer)
    except StopIteration as stop:
        result: _T = stop.value
        return result


async def adrive(steps: Steps[_T]) -> _T:
    """Like :func:`drive`, awaiting each request: the event loop never blocks."""
    try:
        request = next(steps)
        while True:
            try:
                answer = await request.arun()
            except BaseException as exc:
                request = steps.throw(exc)
            else:
                request = steps.send(answer)
    except StopIteration as stop:
        result: _T = stop.value
        return result


def mapped(requests: Generator[Any, Any, _T], to_io: Callable[[Any], Io]) -> Steps[_T]:
    """``requests``, a decision yielding requests of its own kind, as :class:`Io` steps.

    Each request becomes ``to_io(request)``; answers and errors (``Exception``
    only: a cancellation is not the decision's to handle) go back to it.
    """
    try:
        request = next(requests)
        while True:
            try:
                answer = yield to_io(request)
            except Exception as exc:
                request = requests.throw(exc)
            else:
                request = requests.send(answer)
    except StopIteration as done:
        result: _T = done.value
        return result
