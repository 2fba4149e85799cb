"""Names a module serves from other modules, loaded on their first access.

:func:`lazy_attributes` builds a module's ``__getattr__`` (PEP 562) from a table of name to
defining module: the first access imports that module, takes the name from it and keeps it in the
module's namespace, so later lookups never come back here. The package uses it to keep
``import cf_ai_gateway`` light, and :mod:`.streams` to serve the stream classes that live in the
modules importing it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(namespace: dict[str, Any], homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A ``__getattr__`` for the module whose ``globals()`` is ``namespace``.

    ``homes`` maps each served name to its defining module, relative to the module's package.
    """
    module_name = namespace["__name__"]
    package = namespace["__package__"]

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(import_module(home, package), name)
        namespace[name] = value  # later lookups skip this function
        return value

    return __getattr__
