"""Step-up authentication (RFC 9470): per-view demands on how the user logged in.

A view can ask that the token's ``acr`` (authentication context class, for
instance a phishing-resistant second factor) be one of a list, and that the
user authenticated (``auth_time``) no more than ``max_age`` seconds ago. A
token that falls short is refused with 401 ``insufficient_user_authentication``
and a challenge carrying ``acr_values`` and ``max_age``, so the client knows
what to ask the authorization server for (RFC 9470 section 3).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import events
from .errors import ConfigurationError, InsufficientUserAuthentication

__all__ = ["InsufficientUserAuthentication", "StepUpRequirement", "check_step_up"]


@dataclass(frozen=True)
class StepUpRequirement:
    """What a view demands: ``acr`` among ``acr_values`` and/or ``auth_time`` within ``max_age``.

    ``acr_values`` is a list or one space-separated string, in the order of
    preference the client should ask for them (exact, case-sensitive
    match). ``max_age`` is whole seconds, or ``None``.
    """

    acr_values: tuple[str, ...] = ()
    max_age: int | None = None

    def __init__(self, acr_values: str | Iterable[str] = (), max_age: int | None = None) -> None:
        if isinstance(acr_values, str):
            values = tuple(acr_values.split())
        elif isinstance(acr_values, Iterable):
            values = tuple(acr_values)
        else:
            values = (acr_values,)  # refused below, as a ConfigurationError
        if not all(isinstance(v, str) and v and v.split() == [v] for v in values):
            raise ConfigurationError("acr_values", "give acr values as strings without spaces")
        if max_age is not None and (
            isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0
        ):
            raise ConfigurationError("max_age", f"{max_age!r} is not whole seconds >= 0")
        object.__setattr__(self, "acr_values", values)
        object.__setattr__(self, "max_age", max_age)


def _refuse(
    requirement: StepUpRequirement, reason: str, detail: str
) -> InsufficientUserAuthentication:
    events.emit(
        "step_up_required", reason=reason, message=f"step-up required: {detail}", status=401
    )
    return InsufficientUserAuthentication(
        detail, reason=reason, acr_values=requirement.acr_values, max_age=requirement.max_age
    )


def check_step_up(
    claims: Mapping[str, Any], requirement: StepUpRequirement, *, now: float, leeway: float = 10.0
) -> None:
    """Raise :class:`InsufficientUserAuthentication` unless ``claims`` meet ``requirement``.

    ``now`` is the current Unix time (the verifier's clock); ``leeway``
    allows that much clock skew on ``auth_time``. A refusal is also a
    ``step_up_required`` security event (INFO).
    """
    if requirement.acr_values:
        acr = claims.get("acr")
        if acr is None:
            raise _refuse(requirement, "acr_missing", "the token has no acr claim")
        if not isinstance(acr, str) or acr not in requirement.acr_values:
            raise _refuse(requirement, "acr_not_accepted", "the token's acr is not accepted here")
    if requirement.max_age is not None:
        if "auth_time" not in claims:
            raise _refuse(requirement, "auth_time_missing", "the token has no auth_time claim")
        auth_time = claims["auth_time"]
        if (
            isinstance(auth_time, bool)
            or not isinstance(auth_time, (int, float))
            or not math.isfinite(auth_time)
            or auth_time > now + leeway
        ):
            raise _refuse(requirement, "auth_time_invalid", "auth_time is not a past NumericDate")
        if now - auth_time > requirement.max_age + leeway:
            raise _refuse(requirement, "auth_time_too_old", "the user authenticated too long ago")
