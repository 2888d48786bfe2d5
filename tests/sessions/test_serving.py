"""What both adapters build and serve from their settings (jwt_guard_core.serving)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from jwt_guard_core import ConfigurationError
from jwt_guard_core.serving import Shared, built_in, scopes_setting, subject_and_scopes
from jwt_guard_core.sessions import CookiePolicy
from jwt_guard_core.sessions.cookies import SessionReply
from jwt_guard_core.sessions.http import ROUTE_PATHS, ROUTES


def test_a_shared_value_is_built_once_by_one_thread_and_rebuilt_after_reset() -> None:
    built: list[object] = []
    gate = threading.Event()

    def build() -> object:
        gate.wait(1)
        built.append(object())
        return built[-1]

    shared = Shared(build)
    threads = [threading.Thread(target=shared) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert shared() is built[0]
    shared.reset_when("JWT_GUARD")(setting="OTHER")
    assert shared() is built[0]
    shared.reset_when("JWT_GUARD")(setting="JWT_GUARD")
    assert shared() is built[1]
    assert asyncio.run(shared.aget()) is built[1]


def test_a_value_built_in_a_mapping_is_kept_there() -> None:
    extensions: dict[str, Any] = {}
    first = built_in(extensions, "key", object)
    assert built_in(extensions, "key", object) is first is extensions["key"]


def test_scopes_are_a_list_a_function_or_its_dotted_path() -> None:
    assert scopes_setting(["a", "b"], "SCOPES")(object()) == ("a", "b")
    assert scopes_setting(lambda user: [user], "SCOPES")("x") == ("x",)
    assert scopes_setting("builtins.list", "SCOPES")("ab") == ("a", "b")
    for bad in ("a string of scopes", 42):
        with pytest.raises(ConfigurationError) as info:
            scopes_setting(bad, "JWT_GUARD['SESSIONS']['SCOPES']")
        assert info.value.setting == "JWT_GUARD['SESSIONS']['SCOPES']"


def test_a_credentials_check_answers_none_a_subject_or_subject_and_scopes() -> None:
    assert subject_and_scopes(None) is None
    assert subject_and_scopes("user-1") == ("user-1", ())
    assert subject_and_scopes(("user-1", ["a"])) == ("user-1", ("a",))
    for bad in (42, ("user-1", "a"), ("user-1",)):
        with pytest.raises(TypeError):
            subject_and_scopes(bad)


def test_a_reply_names_its_content_type_and_deletes_cookies_with_a_past_expiry() -> None:
    policy = CookiePolicy(refresh_path="/auth/refresh")
    reply = SessionReply(204, {"Cache-Control": "no-store"}, None, policy.clear_cookies())
    assert reply.response_headers() == {"Cache-Control": "no-store"}
    calls = reply.set_cookie_calls()
    assert [c["expires"] for c in calls] == ["Thu, 01 Jan 1970 00:00:00 GMT"] * 3
    assert [c["httponly"] for c in calls] == [True, True, False]
    ok = SessionReply(200, {}, {"token_type": "Bearer"})
    assert ok.response_headers() == {"Content-Type": "application/json"}


def test_every_route_has_a_path() -> None:
    assert tuple(ROUTE_PATHS) == ROUTES
    assert ROUTE_PATHS["logout"].startswith(ROUTE_PATHS["refresh"] + "/")
