"""The one explicit registry of platform adapters.

Built-in adapters are registered below; a third-party package registers its own the
same way, through the ``civicwatch.platforms`` entry point group, whose targets are
adapter classes (a class with a ``name``, built from an account and capture limits).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Protocol

from agent.errors import ConfigError
from flows.base import AccountSpec, CaptureLimits, Platform
from flows.generic import GenericAdapter
from flows.sandbox import SandboxAdapter
from flows.website import WebsiteAdapter

ENTRY_POINT_GROUP = "civicwatch.platforms"


class PlatformClass(Protocol):
    """What the registry holds: a class that builds a :class:`Platform` for one account."""

    name: str

    def __call__(self, account: AccountSpec, limits: CaptureLimits) -> Platform: ...

    def check_account(self, account: AccountSpec) -> list[str]: ...


_ADAPTERS: dict[str, PlatformClass] = {}


def register(adapter: PlatformClass) -> PlatformClass:
    """Add an adapter class under its ``name``; a second class with the same name is an error."""
    name = getattr(adapter, "name", None)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"platform adapter {adapter!r} has no 'name'")
    existing = _ADAPTERS.get(name)
    if existing is not None and existing is not adapter:
        raise ConfigError(f"two platform adapters are named {name!r}: {existing!r} and {adapter!r}")
    _ADAPTERS[name] = adapter
    return adapter


def load_plugins() -> None:
    """Register the adapters that installed packages declare as entry points."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            adapter = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import failure of a plug-in is a config error
            raise ConfigError(f"platform plug-in {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        register(adapter)


def get(name: str) -> PlatformClass:
    """The adapter class for a platform name, or a ConfigError listing the known ones."""
    try:
        return _ADAPTERS[name]
    except KeyError:
        raise ConfigError(f"unknown platform {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    """Registered platform names, sorted."""
    return sorted(_ADAPTERS)


for _builtin in (GenericAdapter, SandboxAdapter, WebsiteAdapter):
    register(_builtin)
