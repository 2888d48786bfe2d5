"""What the adapters' key, revocation and session commands do and say, written once.

``manage.py jwt_guard_*`` and ``flask jwt-guard ...`` (built from
:mod:`jwt_guard_core.admin_commands`) print the :class:`Line` objects these
functions return; a bad combination of options raises :class:`UsageError`
with the text to show. Key material, refresh
tokens and their hashes are never part of a line. The Django admin's
session actions report with the same lines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .sessions import (
        FailureRateLimiter,
        RefreshTokenService,
        RevocationService,
        SessionListing,
    )
    from .settings.sides import SessionSide
    from .signing import KeyManager

__all__ = [
    "LISTING_LIMIT",
    "SESSION_VERBS",
    "Line",
    "UsageError",
    "check_revoke_options",
    "check_rotate_options",
    "clear_attempts",
    "iso",
    "keygen",
    "list_failures",
    "list_keys",
    "list_revocations",
    "list_sessions",
    "listing",
    "logout_subject",
    "revoke",
    "revoke_family",
    "rotate",
    "sessions_verb",
]

#: How many rows a listing shows unless told otherwise.
LISTING_LIMIT = 50


class UsageError(ValueError):
    """Options that do not go together; the message says which."""


@dataclass(frozen=True)
class Line:
    """One line of a command's output; ``tone`` is ``"success"``, ``"warning"`` or ``""``."""

    text: str
    tone: str = ""


def iso(value: float | None) -> str:
    """A Unix time as ``2026-01-31T12:00:00Z`` (``-`` for none)."""
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def keygen(keys: KeyManager) -> list[Line]:
    """Create the first signing key; nothing when the store already holds keys."""
    existing = keys.list_keys()
    if existing:
        active = next((k for k in existing if k.state == "active"), None)
        where = f"; active key {active.kid} ({active.algorithm})" if active else ""
        return [
            Line(f"the key store already holds {len(existing)} key(s){where}; nothing generated")
        ]
    outcome = keys.maybe_rotate()
    info = keys.active_key()
    verb = "created" if outcome.created == info.kid else "found"
    return [Line(f"{verb} signing key {info.kid} ({info.algorithm})", "success")]


def rotate(
    keys: KeyManager, *, emergency: bool = False, scheduled: bool = False, reason: str | None = None
) -> list[Line]:
    """Rotate now, in an emergency (every older key dropped), or as the schedule says."""
    check_rotate_options(emergency=emergency, scheduled=scheduled, reason=reason)
    if emergency:
        from .cli._store import emergency_summary

        removed = [k.kid for k in keys.list_keys()]
        info = keys.emergency_rotate(reason=reason)
        return [Line(emergency_summary(keys, info, removed), "warning")]
    if scheduled:
        outcome = keys.maybe_rotate()
        if not outcome:
            return [Line("nothing due")]
        steps = (
            ("created", outcome.created),
            ("published", outcome.published),
            ("activated", outcome.activated),
            ("retired", outcome.retired),
        )
        lines = [Line(f"{label} {kid}") for label, kid in steps if kid]
        return lines + [Line(f"dropped {kid}") for kid in outcome.dropped]
    previous = keys.active_key() if keys.list_keys() else None
    info = keys.rotate()
    text = f"rotated: {info.kid} ({info.algorithm}) signs from now on"
    if previous is not None:
        text += f"; {previous.kid} is retired and stays published for its tokens"
    return [Line(text, "success")]


def check_rotate_options(*, emergency: bool, scheduled: bool, reason: str | None) -> None:
    """The option checks of :func:`rotate`, before any store is opened."""
    if emergency and scheduled:
        raise UsageError("--emergency and --scheduled cannot be combined")
    if reason is not None and not emergency:
        raise UsageError("--reason is only used with --emergency")


def list_keys(keys: KeyManager, *, as_json: bool, keygen_command: str) -> list[Line]:
    """Kids, algorithms, states and times (never key material), as a table or JSON."""
    from .cli import key_rows, key_table

    infos = keys.list_keys()
    epoch = keys.emergency_epoch
    if as_json:
        document: dict[str, Any] = {"keys": key_rows(infos), "emergency_epoch": epoch}
        return [Line(json.dumps(document, indent=2))]
    if not infos:
        return [Line(f"no keys yet; run {keygen_command}")]
    return [Line(text) for text in key_table(infos, epoch)]


def revoke(
    revocation: RevocationService,
    refresh_tokens: RefreshTokenService,
    *,
    jti: str | None = None,
    session: str | None = None,
    subject: str | None = None,
    expires_at: float | None = None,
) -> Line:
    """Revoke one access token (``jti``), one session, or every token of a subject."""
    check_revoke_options(jti=jti, session=session, subject=subject, expires_at=expires_at)
    if jti is not None:
        revocation.revoke_jti(jti, expires_at=expires_at)
        return Line(f"revoked token {jti}")
    if session is not None:
        refresh_tokens.revoke_family(session)
        return Line(f"revoked session {session}")
    assert subject is not None
    count = refresh_tokens.revoke_subject(subject)
    return Line(f"revoked every token of {subject} ({count} session(s) ended)")


def check_revoke_options(
    *, jti: str | None, session: str | None, subject: str | None, expires_at: float | None
) -> None:
    """The option checks of :func:`revoke`, before any store is opened."""
    given = [v for v in (jti, session, subject) if v]
    if len(given) != 1:
        raise UsageError("give exactly one of --jti, --session, --subject")
    if expires_at is not None and jti is None:
        raise UsageError("--expires-at goes with --jti")


# -- operating sessions (``sessions ...`` commands and the Django admin)


def listing(store: Any) -> SessionListing:
    """``store`` as a :class:`~jwt_guard_core.sessions.SessionListing`, or a UsageError."""
    from .sessions import SessionListing

    if not isinstance(store, SessionListing):
        raise UsageError(f"the session store {store!r} cannot list sessions")
    return store


def _state(revoked_at: float | None, expires_at: float) -> str:
    return (
        f"revoked {iso(revoked_at)}" if revoked_at is not None else f"live until {iso(expires_at)}"
    )


def list_sessions(
    store: Any, *, now: float, subject: str | None = None, limit: int = LISTING_LIMIT
) -> list[Line]:
    """Sessions (refresh-token families) not yet expired, newest first, as a table."""
    families = listing(store).list_families(now=now, subject=subject, limit=limit)
    if not families:
        whose = f" of {subject}" if subject is not None else ""
        return [Line(f"no sessions{whose}")]
    rows = [("SESSION", "SUBJECT", "STARTED", "STATE")] + [
        (f.family_id, f.subject, iso(f.created_at), _state(f.revoked_at, f.expires_at))
        for f in families
    ]
    return _table(rows)


def list_revocations(store: Any, *, now: float, limit: int = LISTING_LIMIT) -> list[Line]:
    """Revocation rules in force: denied tokens, sessions and keys, subjects, the epoch."""
    rules = listing(store).list_revocations(now=now, limit=limit)
    if not rules:
        return [Line("no revocations in force")]
    what = {
        "jti": "token {key} denied until {at}",
        "sid": "session {key} denied until {at}",
        "kid": "signing key {key} denied until {at}",
        "subject": "tokens of {key} issued before {at} refused",
        "epoch": "every token issued before {at} refused (emergency epoch)",
    }
    return [
        Line(what.get(r.kind, r.kind + " {key} {at}").format(key=r.key, at=iso(r.value)))
        for r in rules
    ]


def list_failures(
    store: Any, limiter: FailureRateLimiter | None, *, now: float, limit: int = LISTING_LIMIT
) -> list[Line]:
    """Clients with failed attempts in the rate-limit window, and whether they are refused."""
    if limiter is None:
        return [Line("rate limiting is off (RATE_LIMIT is None): nothing is counted")]
    counts = listing(store).list_failures(now=now, window=limiter.window, limit=limit)
    if not counts:
        return [Line(f"no failed attempts in the last {limiter.window:g} s")]
    rows = [("CLIENT", "FAILURES", "LAST", "STATE")] + [
        (
            c.client,
            str(c.failures),
            iso(c.last_at),
            "refused" if c.failures >= limiter.limit else "allowed",
        )
        for c in counts
    ]
    return _table(rows)


def revoke_family(refresh_tokens: RefreshTokenService, family_id: str) -> Line:
    """End one session: its refresh tokens and (with revocation) its access tokens."""
    if not family_id:
        raise UsageError("give a session id")
    if refresh_tokens.revoke_family(family_id):
        return Line(f"revoked session {family_id}", "success")
    return Line(
        f"session {family_id} was already revoked or is unknown; its access tokens are refused"
    )


def logout_subject(refresh_tokens: RefreshTokenService, subject: str) -> Line:
    """Log ``subject`` out everywhere: every session, every access token issued before now."""
    if not subject:
        raise UsageError("give a subject")
    count = refresh_tokens.revoke_subject(subject)
    return Line(f"logged {subject} out everywhere ({count} session(s) ended)", "success")


def clear_attempts(limiter: FailureRateLimiter | None, client: str) -> Line:
    """Forget a client's failed attempts, so the rate limit lets it in again."""
    if limiter is None:
        raise UsageError("rate limiting is off (RATE_LIMIT is None): nothing to clear")
    if not client:
        raise UsageError("give a client (an address or a key as listed)")
    count = limiter.clear(client)
    return Line(f"cleared {count} failed attempt(s) of {limiter.key(client)}", "success")


#: The session operations both adapters' ``sessions`` commands offer, by name.
SESSION_VERBS = (
    "list",
    "revocations",
    "failed-attempts",
    "revoke-family",
    "logout-subject",
    "clear-attempts",
)


def sessions_verb(
    side: SessionSide,
    verb: str,
    *,
    subject: str | None = None,
    session: str = "",
    client: str = "",
    limit: int = LISTING_LIMIT,
) -> list[Line]:
    """Run one of :data:`SESSION_VERBS` on the session services ``side``; its lines.

    ``subject`` filters ``list`` and names whom ``logout-subject`` logs out;
    ``session`` is the id ``revoke-family`` ends; ``client`` is whose
    failed attempts ``clear-attempts`` forgets; ``limit`` bounds the listings.

    Raises:
        UsageError: an unknown verb, or a missing argument the verb needs.
        StateUnavailable: the session store is down.
    """
    if verb == "list":
        return list_sessions(side.store, now=side.clock(), subject=subject, limit=limit)
    if verb == "revocations":
        return list_revocations(side.store, now=side.clock(), limit=limit)
    if verb == "failed-attempts":
        return list_failures(side.store, side.limiter, now=side.clock(), limit=limit)
    if verb == "revoke-family":
        return [revoke_family(side.refresh_tokens, session)]
    if verb == "logout-subject":
        return [logout_subject(side.refresh_tokens, subject or "")]
    if verb == "clear-attempts":
        return [clear_attempts(side.limiter, client)]
    raise UsageError(f"{verb!r} is not a sessions command; use one of {', '.join(SESSION_VERBS)}")


def _table(rows: Sequence[Sequence[str]]) -> list[Line]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        Line("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        for row in rows
    ]
