"""The package's public face: every name in __all__ resolves, lazily."""

from __future__ import annotations

import importlib

import pytest

import jwt_guard_django


@pytest.mark.parametrize("name", jwt_guard_django.__all__)
def test_every_public_name_resolves_to_its_module_attribute(name):
    value = getattr(jwt_guard_django, name)
    module = importlib.import_module(f"jwt_guard_django.{jwt_guard_django._MODULES[name]}")
    assert value is getattr(module, name)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = jwt_guard_django.nope
