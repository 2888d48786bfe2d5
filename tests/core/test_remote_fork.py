"""A key set warmed before a fork (gunicorn --preload) gives each worker its own connections."""

from __future__ import annotations

import os

import pytest

from tests.core.remote_servers import KeepAlive

pytest_plugins = ["tests.core.remote_fixtures"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_keeps_the_keys_but_not_the_parents_connection(
    raw_server, make_jwks, clock, jwk_a
):
    server = KeepAlive(jwk_a)
    raw_server.behaviour = server
    jwks = make_jwks(raw_server.url())
    assert jwks.warm() is True  # the parent now holds one pooled connection
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 3
        try:
            cached = jwks.get_key("a", "RS256").kid == "a"
            clock.advance(301)
            code = 0 if cached and jwks.warm() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert server.requests == 2
    assert raw_server.connections == 2  # the child opened its own
