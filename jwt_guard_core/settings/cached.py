"""An adapter's settings read once against the schema: kept, or loaded at start-up.

Django's ``conf`` is a :class:`CachedSettings` (DRF's ``api_settings`` does
the same): the mapping is read into one frozen
:class:`~jwt_guard_core.settings.GuardSettings` on first use and kept, with
what is made from it, until :meth:`CachedSettings.reset` (Django's
``setting_changed`` signal), so a request reads no settings. Flask reads its
``app.config`` once at ``init_app``: :func:`load`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from .audit import findings
from .loaded import GuardSettings, RequestSettings
from .schema import SETTINGS, Adapter, adapter_defaults

if TYPE_CHECKING:
    from ..config import GuardConfig

__all__ = ["CachedSettings", "Loaded", "load"]


@dataclass(frozen=True)
class Loaded:
    """What :func:`load` returns: core config, request settings, warnings to log, the settings."""

    config: GuardConfig
    settings: RequestSettings
    warnings: tuple[str, ...]
    parsed: GuardSettings


def load(mapping: Mapping[str, Any], adapter: Adapter, *, revocation: Any = None) -> Loaded:
    """Read and validate ``mapping`` and build the core config; raises naming the key.

    ``revocation`` is the verifier's revocation check unless ``REVOCATION``
    is set; ``warnings`` are the risky settings' messages (no error: that raised).
    """
    parsed = GuardSettings.from_mapping(mapping, adapter)
    settings = parsed.request
    config = parsed.guard_config(revocation=revocation)
    warnings = tuple(f.message for f in findings(parsed) if not f.error)
    return Loaded(config=config, settings=settings, warnings=warnings, parsed=parsed)


class CachedSettings:
    """The mapping ``source()`` returns, read once; ``conf.LEEWAY`` style access to any key.

    ``refused`` turns a core :class:`~jwt_guard_core.ConfigurationError` into
    the adapter's own error (Django's ``ImproperlyConfigured``).
    """

    def __init__(
        self,
        adapter: Adapter,
        source: Callable[[], object],
        refused: Callable[[ConfigurationError], Exception],
    ) -> None:
        self._adapter: Adapter = adapter
        self._source = source
        self._refused = refused
        #: Every top-level key with its default (from the schema).
        self.defaults: Mapping[str, Any] = adapter_defaults(adapter)
        self._canonical = {
            key: s.name for s in SETTINGS if (key := s.key(adapter)) and "." not in s.name
        }
        self._parsed: GuardSettings | None = None
        self._values: dict[str, Any] = {}

    @property
    def raw(self) -> Mapping[str, Any]:
        """The mapping as configured (empty when absent or not a mapping)."""
        value = self._source()
        return value if isinstance(value, Mapping) else {}

    @property
    def parsed(self) -> GuardSettings:
        """The settings read against the schema (never raises; validated on use)."""
        parsed = self._parsed
        if parsed is None:
            parsed = self._parsed = GuardSettings.from_mapping(self.raw, self._adapter)
        return parsed

    @property
    def request(self) -> RequestSettings:
        """Where tokens are found and how refusals look, validated."""
        try:
            return self.parsed.request
        except ConfigurationError as exc:
            raise self._refused(exc) from exc

    def reset(self) -> None:
        """Forget what was read; the next use reads the mapping again."""
        self._parsed = None
        self._values = {}

    def kept(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, a value made from the settings, kept until they change."""
        values = self._values
        if key not in values:
            values[key] = compute()
        return values[key]

    def resolved(self, name: str) -> Any:
        """A setting (canonical name) with a dotted path imported, kept until settings change."""
        return self.kept(f"resolved:{name}", lambda: self.parsed.resolved(name))

    def value(self, name: str) -> Any:
        """A setting (canonical name) as given or defaulted, kept until settings change."""
        return self.kept(f"value:{name}", lambda: self.parsed.get(name))

    def get(self, key: str) -> Any:
        """One key's value, or its default."""
        return self.raw.get(key, self.defaults[key])

    def __getattr__(self, key: str) -> Any:
        # conf.LEEWAY: the value as its schema reader reads it (a timedelta
        # in seconds, a list as a tuple), or as given when it does not read;
        # the system checks report that.
        name = self.__dict__.get("_canonical", {}).get(key)
        if name is None:
            raise AttributeError(key)
        return self.kept(key, lambda: self._read(name))

    def _read(self, name: str) -> Any:
        try:
            return self.parsed.read(name)
        except ConfigurationError:
            return self.parsed.get(name)
