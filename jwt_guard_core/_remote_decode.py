"""Content decoding of a fetched document, bounded by the size cap.

httpx would undo ``Content-Encoding`` itself, but it inflates each network
chunk in full before anyone can count the bytes, and it honours stacked
codings (``gzip, gzip``): a response of under 2 KB becomes gigabytes in
memory before a size check runs. So documents are read raw and decoded
here, with zlib's ``max_length``: no step produces more than a slice of
output at a time, and every stage, from the bytes on the wire to the
decoded document, is held to the cap. A gzip bomb therefore costs a few
slices of memory and stops at ``max_bytes`` with reason ``too_large``.

Only the codings we ask for (``Accept-Encoding: gzip, deflate``) are
decoded; any other (``br``, ``zstd``, ``compress``) is refused with
``bad_encoding`` rather than parsed as if it were JSON.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from ._remote_policy import FetchError, short

__all__ = ["ACCEPT_ENCODING", "BoundedDecoder"]

ACCEPT_ENCODING = "gzip, deflate"
# Stacked codings have no legitimate use for a key set; a few are tolerated
# (each stage is capped anyway), more are refused outright.
MAX_CODINGS = 4
# The most output one inflate call may produce.
_SLICE = 64 * 1024
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


def _codings(content_encoding: str | None) -> list[str]:
    """The codings in the order they were applied; ``identity`` is no coding."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    for coding in codings:
        if coding not in _WBITS:
            raise FetchError(
                "bad_encoding",
                f"content encoding {short(coding, 40)!r} was not asked for ({ACCEPT_ENCODING})",
            )
    if len(codings) > MAX_CODINGS:
        raise FetchError(
            "bad_encoding", f"{len(codings)} stacked content encodings; at most {MAX_CODINGS}"
        )
    return codings


class _Inflater:
    """One coding, undone a slice at a time."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._z = zlib.decompressobj(_WBITS[coding])
        self._started = False

    def inflate(self, data: bytes) -> Iterator[bytes]:
        """The output of ``data``, in slices; ``b""`` drains what is still pending."""
        while not self._z.eof:
            out = self._decompress(data)
            data = self._z.unconsumed_tail
            if out:
                yield out
            # A full slice may leave output pending inside zlib even when
            # all input was taken: ask again until a call comes up short.
            if not data and len(out) < _SLICE:
                return

    def _decompress(self, data: bytes) -> bytes:
        try:
            out = self._z.decompress(data, _SLICE)
        except zlib.error as exc:
            if self._coding == "deflate" and not self._started:
                # Some servers send raw deflate (RFC 1951) instead of the
                # zlib format (RFC 1950) that HTTP's "deflate" names.
                self._coding = "raw deflate"
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                return self._decompress(data)
            raise FetchError("bad_encoding", f"the {self._coding} body is corrupt: {exc}") from None
        self._started = True
        return out


class BoundedDecoder:
    """Raw body bytes in, the decoded document out, never more than ``limit`` bytes per stage."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        # Decoding runs the codings backwards: the last one applied comes off first.
        self._stages = [_Inflater(c) for c in reversed(_codings(content_encoding))]
        self._sizes = [0] * (len(self._stages) + 1)
        self._limit = limit
        self._chunks: list[bytes] = []

    def feed(self, raw: bytes) -> None:
        """Take the next raw chunk; :class:`FetchError` ``too_large`` past the cap."""
        self._push(0, raw)

    def finish(self) -> bytes:
        """The decoded document, once every raw byte was fed."""
        for index, stage in enumerate(self._stages):
            for piece in stage.inflate(b""):
                self._push(index + 1, piece)
        return b"".join(self._chunks)

    def _push(self, stage: int, data: bytes) -> None:
        self._sizes[stage] += len(data)
        if self._sizes[stage] > self._limit:
            raise FetchError("too_large", f"the response is over the limit of {self._limit} bytes")
        if stage == len(self._stages):
            self._chunks.append(data)
            return
        for piece in self._stages[stage].inflate(data):
            self._push(stage + 1, piece)
