"""Where signing keys live: the :class:`KeyStore` interface and the file store.

A store persists a :class:`KeyRing` (the keys and their states, plus the
emergency epoch) and offers a lock that every process sharing the store
honours, so that one instance at a time rotates. Private keys are sealed
with AES-256-GCM under a passphrase-derived key before they touch the disk
or the network; the ring's metadata (kids, states, times) is not secret.

:class:`FileKeyStore` is the embedded default: one directory, one encrypted
file per key, ``flock`` for the lock. It refuses to start when the directory
or a file in it is accessible to group or others.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path
from typing import Any, Generic, Literal, NamedTuple, Protocol, TypeVar, runtime_checkable

from ..errors import ConfigurationError
from ._crypto import (
    DEFAULT_PASSPHRASE_ENV,
    ENCRYPTION_ALGORITHMS,
    SIGNING_ALGORITHMS,
    KeyMaterial,
    Sealer,
    dump_material,
    key_aad,
    load_material,
    new_kdf_params,
    resolve_passphrase,
)
from .errors import KeyStoreError
from .signer import LocalSigner, Signer

__all__ = [
    "FileKeyStore",
    "GeneratesKeys",
    "KeyInfo",
    "KeyRing",
    "KeyState",
    "KeyStore",
    "RingViews",
    "StoredKey",
]

logger = logging.getLogger("jwt_guard.signing")

KeyState = Literal["next", "active", "retired"]
_STATES = ("next", "active", "retired")
# Kids become file names and Redis fields: base64url only, bounded length,
# so a tampered ring can never point a path outside the directory.
_KID = re.compile(r"[A-Za-z0-9_-]{8,128}")
RING_FORMAT = "jwt-guard-keyring/1"
STORE_FORMAT = "jwt-guard-keystore/1"


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never the key itself.

    ``state`` is ``next`` (published ahead of use, not signing yet),
    ``active`` (signing) or ``retired`` (published until ``retired_at`` plus
    the manager's retention, then dropped).
    """

    kid: str
    algorithm: str
    state: KeyState
    created_at: float
    activated_at: float | None = None
    retired_at: float | None = None


@dataclass(frozen=True)
class StoredKey:
    """A key as a store holds it: its :class:`KeyInfo` and the :class:`Signer` that uses it.

    The file and Redis stores hold ``material`` (sealed at rest, opened in
    memory) and get a :class:`LocalSigner` over it. A store whose keys never
    leave their device (PKCS#11) gives an ``external`` signer only:
    ``material`` is ``None`` and nothing in this process can read the
    private key.
    """

    info: KeyInfo
    material: KeyMaterial | None = field(default=None, repr=False, compare=False)
    external: Signer | None = field(default=None, repr=False, compare=False)
    _signer: Signer | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        signer = self.external
        if signer is None:
            if self.material is None:
                raise KeyStoreError(f"key {self.info.kid} has neither key material nor a signer")
            if self.material.algorithm in ENCRYPTION_ALGORITHMS:
                # A JWE decryption key (signing/encryption_keys.py) never signs.
                object.__setattr__(self, "_signer", None)
                return
            signer = LocalSigner(self.info.kid, self.material)
        elif signer.kid != self.info.kid or signer.algorithm != self.info.algorithm:
            raise KeyStoreError(
                f"the signer of key {self.info.kid} is for another kid or algorithm"
            )
        object.__setattr__(self, "_signer", signer)

    @property
    def signer(self) -> Signer:
        """What signs with this key; the private key itself is never needed."""
        if self._signer is None:
            raise KeyStoreError(f"key {self.info.kid} is a decryption key: it never signs")
        return self._signer

    @property
    def kid(self) -> str:
        return self.info.kid

    @property
    def state(self) -> KeyState:
        return self.info.state


@dataclass(frozen=True)
class KeyRing:
    """A consistent snapshot of a store: keys, emergency epoch and revision.

    ``revision`` is 0 for an empty store and grows by one with every save;
    stores use it for compare-and-set, managers to notice another instance's
    rotation. ``retention`` is the longest retired-key retention any manager
    writing the ring was configured with: a tool run with default settings
    never drops a key that the application still needs published.
    """

    keys: tuple[StoredKey, ...] = ()
    revision: int = 0
    emergency_epoch: int | None = None
    retention: float | None = None

    def _one(self, state: KeyState) -> StoredKey | None:
        return next((k for k in self.keys if k.state == state), None)

    @property
    def active(self) -> StoredKey | None:
        return self._one("active")

    @property
    def next(self) -> StoredKey | None:
        return self._one("next")

    def __repr__(self) -> str:
        kids = ", ".join(f"{k.kid}:{k.state}" for k in self.keys)
        return f"KeyRing(revision={self.revision}, keys=[{kids}])"


@runtime_checkable
class KeyStore(Protocol):
    """Persistence for a :class:`~jwt_guard_core.signing.KeyManager`.

    * ``revision()`` is cheap (a stat, one Redis GET): managers call it on
      every use to notice changes made by other instances.
    * ``load()`` returns the whole ring (an empty one at revision 0).
    * ``save(ring, expected_revision=...)`` writes it only if the stored
      revision is still ``expected_revision`` (else :class:`KeyStoreError`)
      and returns the ring with its new revision.
    * ``lock(blocking=...)`` is a context manager yielding whether the lock
      was taken; it excludes every process and thread sharing the store.
      Managers hold it around load-decide-save.
    * optionally ``in_process = True``: ``revision()`` answers from memory,
      never blocking, so async code may call it without a worker thread.
    """

    def revision(self) -> int: ...

    def load(self) -> KeyRing: ...

    def save(self, ring: KeyRing, *, expected_revision: int) -> KeyRing: ...

    def lock(self, *, blocking: bool = True) -> AbstractContextManager[bool]: ...


@runtime_checkable
class GeneratesKeys(Protocol):
    """A :class:`KeyStore` that creates its keys itself (inside a token, a KMS).

    The manager calls ``generate_key(algorithm)`` under the store lock and
    then saves a ring that references the new kid; a key the next save does
    not reference (a failed rotation) is the store's to remove. Stores
    without this method get keys generated in this process and sealed.
    """

    def generate_key(self, algorithm: str) -> Signer: ...


class _HasRing(Protocol):
    @property
    def ring(self) -> KeyRing: ...


ViewT = TypeVar("ViewT", bound=_HasRing)


class RingViews(Generic[ViewT]):
    """What a key manager derives from a store's ring, rebuilt only when the revision moves.

    Reading a ring means opening every sealed key; a manager asks the
    store's revision (a stat, or one Redis GET) and rebuilds its view only
    when another process (or this one) saved a newer ring. Thread-safe: a
    view of an older revision never replaces a newer one.
    """

    def __init__(self, store: KeyStore, build: Callable[[KeyRing], ViewT]) -> None:
        self._store = store
        self._build = build
        self._view: ViewT | None = None
        self._mutex = threading.Lock()

    def load(self) -> ViewT:
        """The view of the store's current ring."""
        revision = self._store.revision()
        with self._mutex:
            view = self._view
            if view is not None and view.ring.revision == revision:
                return view
        return self.put(self._store.load())

    def put(self, ring: KeyRing) -> ViewT:
        """The view of ``ring`` (just saved or loaded), kept unless a newer one is."""
        view = self._build(ring)
        with self._mutex:
            current = self._view
            if current is None or current.ring.revision <= ring.revision:
                self._view = view
        return view

    def forget(self) -> None:
        """Drop the kept view; the next :meth:`load` reads the store again."""
        with self._mutex:
            self._view = None


# --- ring (de)serialization shared by the stores ---------------------------------


def _number(value: Any, what: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise KeyStoreError(f"the key ring is corrupt: {what} is not a number")
    return float(value)


def key_metadata(key: StoredKey) -> dict[str, Any]:
    """The non-secret description of a key as stored in a ring document."""
    info = key.info
    return {
        "kid": info.kid,
        "alg": info.algorithm,
        "state": info.state,
        "created_at": info.created_at,
        "activated_at": info.activated_at,
        "retired_at": info.retired_at,
    }


def parse_key_metadata(meta: Any) -> KeyInfo:
    """Validate one key entry of a ring document."""
    if not isinstance(meta, Mapping):
        raise KeyStoreError("the key ring is corrupt: a key entry is not an object")
    kid = meta.get("kid")
    if not isinstance(kid, str) or _KID.fullmatch(kid) is None:
        raise KeyStoreError("the key ring is corrupt: a kid is not a safe identifier")
    alg = meta.get("alg")
    if alg not in SIGNING_ALGORITHMS and alg not in ENCRYPTION_ALGORITHMS:
        raise KeyStoreError(f"the key ring is corrupt: key {kid} has an unknown algorithm")
    state = meta.get("state")
    if state not in _STATES:
        raise KeyStoreError(f"the key ring is corrupt: key {kid} has an unknown state")
    created = _number(meta.get("created_at"), "created_at")
    assert created is not None
    return KeyInfo(
        kid=kid,
        algorithm=alg,
        state=state,
        created_at=created,
        activated_at=_number(meta.get("activated_at"), "activated_at", optional=True),
        retired_at=_number(meta.get("retired_at"), "retired_at", optional=True),
    )


def ring_document(ring: KeyRing, revision: int) -> dict[str, Any]:
    """The JSON-ready ring document (metadata only)."""
    return {
        "format": RING_FORMAT,
        "revision": revision,
        "emergency_epoch": ring.emergency_epoch,
        "retention": ring.retention,
        "keys": [key_metadata(k) for k in ring.keys],
    }


class RingHeader(NamedTuple):
    revision: int
    emergency_epoch: int | None
    retention: float | None
    entries: list[Any]


def parse_ring_document(doc: Any) -> RingHeader:
    """The ring-level fields and the (unparsed) key entries of a stored ring document."""
    if not isinstance(doc, Mapping) or doc.get("format") != RING_FORMAT:
        raise KeyStoreError("the key ring is corrupt or of an unknown format")
    revision = doc.get("revision")
    epoch = doc.get("emergency_epoch")
    keys = doc.get("keys")
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        raise KeyStoreError("the key ring is corrupt: bad revision")
    if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, int)):
        raise KeyStoreError("the key ring is corrupt: bad emergency_epoch")
    if not isinstance(keys, list):
        raise KeyStoreError("the key ring is corrupt: keys is not a list")
    retention = _number(doc.get("retention"), "retention", optional=True)
    return RingHeader(revision, epoch, retention, keys)


def build_ring(header: RingHeader, keys: Sequence[StoredKey]) -> KeyRing:
    """The ring a store read: its opened keys under the document's ring-level fields, checked."""
    ring = KeyRing(
        keys=tuple(keys),
        revision=header.revision,
        emergency_epoch=header.emergency_epoch,
        retention=header.retention,
    )
    check_ring(ring)
    return ring


def check_ring(ring: KeyRing) -> None:
    """Invariants every saved ring keeps: unique kids, at most one active and one next key."""
    kids = [k.kid for k in ring.keys]
    if len(set(kids)) != len(kids):
        raise KeyStoreError("a key ring may not hold the same kid twice")
    for state in ("active", "next"):
        if sum(1 for k in ring.keys if k.state == state) > 1:
            raise KeyStoreError(f"a key ring holds at most one {state} key")


def seal_key(sealer: Sealer, key: StoredKey) -> bytes:
    if key.material is None:
        raise KeyStoreError(
            f"key {key.kid} lives outside this process (a hardware token) and cannot be "
            "copied into a file or Redis store"
        )
    return sealer.seal(dump_material(key.material), key_aad(key.kid, key.info.algorithm))


def open_key(sealer: Sealer, info: KeyInfo, blob: bytes) -> StoredKey:
    raw = sealer.open(blob, key_aad(info.kid, info.algorithm))
    return StoredKey(info=info, material=load_material(raw, info.algorithm))


# --- the file store ---------------------------------------------------------------


def _mode_error(path: Path, mode: int, kind: str) -> ConfigurationError:
    fix = "700" if kind == "directory" else "600"
    return ConfigurationError(
        "key_store",
        f"the key {kind} {path} has mode {mode:04o}; signing keys must not be accessible to "
        f"group or others (chmod {fix} {path})",
    )


def check_key_directory(path: Path, setting: str) -> bool:
    """Refuse a key directory that is not a directory or that others can read.

    Returns ``False`` when it does not exist yet (the store creates it 0700).
    Shared by the store and by settings validation, which must not create it.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ConfigurationError(
            setting, f"cannot read the key directory {path}: {exc.strerror}"
        ) from None
    if not stat.S_ISDIR(st.st_mode):
        raise ConfigurationError(setting, f"{path} is not a directory")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise _mode_error(path, mode, "directory")
    return True


class FileLock:
    """An exclusive ``flock`` on one file, across processes and threads.

    ``flock`` belongs to the open file description, so each acquisition
    opens the file anew: two threads of one process exclude each other too
    (``lockf`` locks would not). Not reentrant: a thread that holds it and
    asks again gets :class:`KeyStoreError` instead of a deadlock.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()

    @property
    def path(self) -> Path:
        return self._path

    @property
    def held(self) -> bool:
        """Whether the calling thread holds the lock."""
        return bool(getattr(self._local, "held", False))

    @contextlib.contextmanager
    def hold(self, *, blocking: bool = True) -> Iterator[bool]:
        """Yield ``True`` once the lock is taken, ``False`` when not blocking and it is held."""
        if self.held:
            raise KeyStoreError("the key store lock is not reentrant")
        path = self._path
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise KeyStoreError(f"cannot open the lock file {path}: {exc.strerror}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            self._local.held = True
            try:
                yield True
            finally:
                self._local.held = False
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class FileKeyStore:
    """Signing keys in a local directory, each sealed in its own 0600 file.

    Args:
        directory: created with mode 0700 when missing. An existing
            directory, or a file in it, that grants any permission to group
            or others is refused with a
            :class:`~jwt_guard_core.ConfigurationError` naming the path and
            mode.
        passphrase: the secret the encryption key is derived from (scrypt,
            at least 16 bytes). When ``None``, read from the environment
            variable named by ``passphrase_env``
            (default ``JWT_GUARD_KEY_PASSPHRASE``).

    Layout: ``keystore.json`` (scrypt salt and a check value, so a wrong
    passphrase fails here, at start-up), ``keyring.json`` (kids, states,
    times; no secrets), ``<kid>.key`` (AES-256-GCM ciphertext of the PKCS#8
    key) and ``.lock`` (``flock`` taken around every rotation, so one
    process at a time rotates even when several share the directory).
    """

    def __init__(
        self,
        directory: str | PathLike[str],
        *,
        passphrase: str | bytes | None = None,
        passphrase_env: str | None = DEFAULT_PASSPHRASE_ENV,
    ) -> None:
        self._dir = Path(directory)
        self._lock = FileLock(self._dir / ".lock")
        self._seen: tuple[tuple[int, int, int], int] | None = None
        secret = resolve_passphrase(passphrase, passphrase_env)
        self._prepare_directory()
        with self.lock():
            self._sealer = self._open_or_create_store(secret)
            self._check_file_modes()

    @property
    def directory(self) -> Path:
        return self._dir

    def __repr__(self) -> str:
        return f"FileKeyStore({str(self._dir)!r})"

    # -- start-up checks

    def _prepare_directory(self) -> None:
        path = self._dir
        if not path.exists():
            try:
                os.makedirs(path, mode=0o700)
            except OSError as exc:
                raise ConfigurationError(
                    "key_store", f"cannot create the key directory {path}: {exc.strerror}"
                ) from None
        check_key_directory(path, "key_store")

    def _check_file_modes(self) -> None:
        with os.scandir(self._dir) as entries:
            found = list(entries)
        for entry in found:
            if entry.is_symlink():
                raise ConfigurationError(
                    "key_store",
                    f"{Path(entry.path)} is a symbolic link; the key directory holds only "
                    "regular files written by jwt-guard",
                )
            mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
            if entry.is_file(follow_symlinks=False) and mode & 0o077:
                raise _mode_error(Path(entry.path), mode, "file")

    def _open_or_create_store(self, secret: bytes) -> Sealer:
        path = self._dir / "keystore.json"
        raw = self._read(path)
        if raw is None:
            kdf = new_kdf_params()
            sealer = Sealer(secret, kdf)
            doc: Any = {"format": STORE_FORMAT, "kdf": kdf, "check": sealer.check_value()}
            self._write_atomic(path, json.dumps(doc, indent=2).encode("utf-8"))
            return sealer
        try:
            doc = json.loads(raw)
        except ValueError:
            raise KeyStoreError(f"{path} is not valid JSON") from None
        if not isinstance(doc, dict) or doc.get("format") != STORE_FORMAT:
            raise KeyStoreError(f"{path} is not a jwt-guard key store file")
        sealer = Sealer(secret, doc.get("kdf") or {})
        if not sealer.matches(doc.get("check")):
            raise ConfigurationError(
                "passphrase",
                f"the passphrase does not open the key store at {self._dir} "
                "(wrong passphrase, or the store was sealed under another one)",
            )
        return sealer

    # -- file helpers

    def _read(self, path: Path) -> bytes | None:
        """Read a store file without following symlinks, refusing loose permissions."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyStoreError(f"cannot read {path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as fh:
            mode = stat.S_IMODE(os.fstat(fh.fileno()).st_mode)
            if mode & 0o077:
                raise _mode_error(path, mode, "file")
            return fh.read()

    def _write_atomic(self, path: Path, data: bytes) -> None:
        tmp = self._dir / f".tmp-{secrets.token_hex(8)}"
        # O_EXCL + O_NOFOLLOW: never write through a planted file or symlink;
        # mode 0600 at creation so the content is never readable by others,
        # not even for the instant before a chmod.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(tmp, flags, 0o600)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            dir_fd = os.open(self._dir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise KeyStoreError(f"cannot write {path}: {exc.strerror}") from None

    # -- KeyStore

    def lock(self, *, blocking: bool = True) -> AbstractContextManager[bool]:
        """An exclusive ``flock`` on ``.lock``, across processes and threads."""
        return self._lock.hold(blocking=blocking)

    def revision(self) -> int:
        path = self._dir / "keyring.json"
        try:
            st = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise KeyStoreError(f"cannot read {path}: {exc.strerror}") from None
        # Every save replaces the file (a new inode): the stat triple changes
        # whenever the content does, so the JSON is parsed only then.
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._seen is not None and self._seen[0] == stamp:
            return self._seen[1]
        revision = self._read_ring_doc()[0]
        self._seen = (stamp, revision)
        return revision

    def _read_ring_doc(self) -> RingHeader:
        path = self._dir / "keyring.json"
        raw = self._read(path)
        if raw is None:
            return RingHeader(0, None, None, [])
        try:
            doc = json.loads(raw)
        except ValueError:
            raise KeyStoreError(f"{path} is not valid JSON") from None
        return parse_ring_document(doc)

    def load(self) -> KeyRing:
        header = self._read_ring_doc()
        keys = []
        for entry in header.entries:
            info = parse_key_metadata(entry)
            blob = self._read(self._dir / f"{info.kid}.key")
            if blob is None:
                raise KeyStoreError(f"the key file for kid {info.kid} is missing")
            keys.append(open_key(self._sealer, info, blob))
        return build_ring(header, keys)

    def save(self, ring: KeyRing, *, expected_revision: int) -> KeyRing:
        """Write ``ring`` if the stored revision is still ``expected_revision``.

        Takes the lock for the write unless this thread already holds it.
        """
        check_ring(ring)
        if self._lock.held:
            return self._save_locked(ring, expected_revision)
        with self.lock():
            return self._save_locked(ring, expected_revision)

    def _save_locked(self, ring: KeyRing, expected_revision: int) -> KeyRing:
        current = self._read_ring_doc()[0]
        if current != expected_revision:
            raise KeyStoreError(
                f"the key ring changed while it was being updated (revision {current}, "
                f"expected {expected_revision})"
            )
        # Keys are immutable once written: seal only the new ones, then
        # publish the ring that references them, then delete what it no
        # longer references. A crash in between leaves at worst an orphan
        # file, removed by the next save.
        wanted = {k.kid for k in ring.keys}
        for key in ring.keys:
            path = self._dir / f"{key.kid}.key"
            if not path.exists():
                self._write_atomic(path, seal_key(self._sealer, key))
        revision = expected_revision + 1
        doc = ring_document(ring, revision)
        self._write_atomic(self._dir / "keyring.json", json.dumps(doc, indent=2).encode("utf-8"))
        with os.scandir(self._dir) as entries:
            found = list(entries)
        for entry in found:
            if entry.name.endswith(".key") and entry.name[:-4] not in wanted:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
        self._seen = None
        return replace(ring, revision=revision)
