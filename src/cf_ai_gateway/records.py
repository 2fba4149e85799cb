"""``record``: ``dataclasses.dataclass`` with its generated methods compiled on first use.

Most of what a dataclass costs at import is compiling the source of the methods it writes
(``__init__``, ``__repr__``, ``__eq__``, ``__hash__``): about 1-2 ms a class, paid by every
program that imports the package, whether it builds the class or not. ``@record(...)`` takes
the same arguments and makes the same real dataclass at once (``fields``, ``replace``,
``asdict``, ``__match_args__``, slots, frozen assignment errors, pickling), but leaves those
methods as stand-ins that, on the first call of any of them, build them with ``dataclass``
itself (on a copy of the fields) and put them on the class. From then on the class is exactly
what ``dataclass`` would have made. Type checkers see ``dataclass`` itself.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any

__all__ = ["record"]

# The methods built on first use: the ones ``dataclass`` compiles from source.
_DEFERRED = ("__init__", "__repr__", "__eq__", "__hash__")
_LOCK = threading.Lock()

if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:

    def record(cls: type | None = None, /, **params: Any) -> Any:
        """``@record`` / ``@record(frozen=True, slots=True, ...)``: a dataclass, methods built on first use."""

        def wrap(cls: type) -> type:
            return _defer(cls, params)

        return wrap if cls is None else wrap(cls)


def _defer(cls: type, params: dict[str, Any]) -> type:
    explicit = {name for name in _DEFERRED if name in cls.__dict__}
    if (
        explicit
        or params.get("order")
        or any(dataclasses.is_dataclass(base) for base in cls.__mro__[1:])
    ):
        return dataclasses.dataclass(cls, **params)  # not the simple case: build as usual
    # A frozen class without slots gets plain frozen __setattr__/__delattr__ (slots ones keep
    # dataclass's, which come with the __getstate__/__setstate__ that pickling them needs).
    frozen_here = params.get("frozen", False) and not params.get("slots", False)
    light = {**params, "init": False, "repr": False, "eq": False, "unsafe_hash": False}
    if frozen_here:
        light["frozen"] = False
    built: Any = dataclasses.dataclass(cls, **light)
    declared = built.__dataclass_params__
    for name in ("init", "repr", "eq", "unsafe_hash", "frozen"):
        setattr(declared, name, params.get(name, name in ("init", "repr", "eq")))
    if frozen_here:
        _freeze(built)
    stand_ins = _stand_ins(built, params)
    for name, function in stand_ins.items():
        setattr(built, name, function)
    return built  # type: ignore[no-any-return]


def _freeze(cls: Any) -> None:
    """The ``__setattr__`` and ``__delattr__`` that ``dataclass(frozen=True)`` writes."""
    names = frozenset(item.name for item in dataclasses.fields(cls))

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    for function in (__setattr__, __delattr__):
        function.__qualname__ = f"{cls.__qualname__}.{function.__name__}"
        setattr(cls, function.__name__, function)


def _stand_ins(cls: Any, params: dict[str, Any]) -> dict[str, Any]:
    """A function per deferred method that builds them all, then runs the real one."""

    def build() -> None:
        with _LOCK:
            if cls.__dict__.get("__init__") is not stand_ins["__init__"]:
                return  # another thread built them
            _build(cls, params, stand_ins)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        build()
        cls.__init__(self, *args, **kwargs)

    def __repr__(self: Any) -> str:
        build()
        return cls.__repr__(self)  # type: ignore[no-any-return]

    def __eq__(self: Any, other: Any) -> Any:
        build()
        return cls.__eq__(self, other)

    def __hash__(self: Any) -> int:
        build()
        return hash(self)  # the real __hash__, or a TypeError when the class is unhashable

    stand_ins: dict[str, Any] = {"__init__": __init__, "__repr__": __repr__, "__eq__": __eq__}
    if params.get("eq", True) or params.get("unsafe_hash"):
        stand_ins["__hash__"] = __hash__
    for name, function in stand_ins.items():
        function.__qualname__ = f"{cls.__qualname__}.{name}"
    return stand_ins


def _build(cls: Any, params: dict[str, Any], stand_ins: dict[str, Any]) -> None:
    """Make the real methods with ``dataclass`` on a twin of ``cls`` and move them over."""
    namespace: dict[str, Any] = {
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__annotations__": {},
    }
    for item in dataclasses.fields(cls):
        namespace["__annotations__"][item.name] = item.type
        namespace[item.name] = dataclasses.field(
            default=item.default,
            default_factory=item.default_factory,
            init=item.init,
            repr=item.repr,
            hash=item.hash,
            compare=item.compare,
            metadata=item.metadata,
            kw_only=item.kw_only,
        )
    if hasattr(cls, "__post_init__"):
        namespace["__post_init__"] = cls.__post_init__
    twin: Any = dataclasses.dataclass(type(cls.__name__, (), namespace), **params)
    for name in _DEFERRED:
        if name in twin.__dict__:
            setattr(cls, name, twin.__dict__[name])
        elif name in stand_ins:
            delattr(cls, name)
