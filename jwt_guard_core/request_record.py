"""What an adapter learnt about one request, kept for the request's life (Flask: on ``g``).

A request may be checked more than once (a blueprint guard, then the view's
decorator): the outcome per locations read is kept, so a token is verified
once and a refusal is answered again without a second verification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import TokenError
from .request_policy import Outcome
from .sender import SenderResult
from .token import VerifiedToken


@dataclass(slots=True)
class RequestRecord:
    """One request's authentication so far.

    ``outcomes``: the token (``None``: no token) or the adapter's refusal
    reached per locations read; ``presented``: how the first token came (it
    shapes later challenges); ``cookie_error``: why an access cookie left to
    a ``jwt_exempt`` view failed.
    """

    outcomes: dict[tuple[str, ...], Any] = field(default_factory=dict)
    presented: str | None = None
    sender: SenderResult | None = None
    token: VerifiedToken | None = None
    user: Any = None
    cookie_error: TokenError | None = None

    @property
    def nonce(self) -> str | None:
        """The DPoP nonce to hand the client on any response (RFC 9449 section 8.2)."""
        return self.sender.nonce if self.sender is not None else None

    def saw(self, outcome: Outcome) -> None:
        """Note how ``outcome``'s token came, if it is the request's first."""
        if self.presented is None:
            self.presented = outcome.presented

    def defer(self, error: TokenError) -> None:
        """Keep ``error`` as the access cookie's failure (the first one) for the view to weigh."""
        if self.cookie_error is None:
            self.cookie_error = error
