"""``record`` makes the same dataclass as ``dataclass``, its generated methods built on first use."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from cf_ai_gateway.records import record

PARAMS = [{}, {"frozen": True}, {"slots": True}, {"frozen": True, "slots": True}, {"eq": False}]


def _pair(params: dict[str, Any]) -> tuple[Any, Any]:
    def body() -> dict[str, Any]:
        return {
            "__annotations__": {"a": "int", "b": "str | None", "c": "list[int]", "d": "str"},
            "__module__": __name__,
            "b": None,
            "c": dataclasses.field(default_factory=list),
            "d": dataclasses.field(default="x", init=False, repr=False, compare=False),
        }

    made = [
        decorator(type("Point", (), body()))
        for decorator in (dataclasses.dataclass(**params), record(**params))
    ]
    return made[0], made[1]


def _outcome(fn: Any, value: Any) -> Any:
    try:
        return fn(value)
    except TypeError as exc:
        return str(exc)


@pytest.mark.parametrize("params", PARAMS)
def test_record_behaves_as_dataclass(params: dict[str, Any]) -> None:
    real, lazy = _pair(params)
    assert dataclasses.is_dataclass(lazy)
    assert [f.name for f in dataclasses.fields(lazy)] == [f.name for f in dataclasses.fields(real)]
    assert lazy.__match_args__ == real.__match_args__
    for name in ("init", "repr", "eq", "order", "unsafe_hash", "frozen"):
        assert getattr(lazy.__dataclass_params__, name) == getattr(real.__dataclass_params__, name)
    r, z = real(1, "b"), lazy(1, "b")
    assert repr(z) == repr(r)
    assert (z == lazy(1, "b")) == (r == real(1, "b"))
    assert (z == lazy(2, "b")) == (r == real(2, "b"))
    assert z.c == [] and z.d == "x"
    assert (z == r) is False  # other class: NotImplemented both ways
    assert (lazy.__hash__ is None) == (real.__hash__ is None)
    if params.get("eq") is not False:
        assert _outcome(hash, z) == _outcome(hash, r)
    assert dataclasses.replace(z, a=5).a == 5
    assert dataclasses.asdict(z) == dataclasses.asdict(r)
    if params.get("frozen"):
        for target in (z, r):
            with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'a'"):
                target.a = 3
            with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'a'"):
                del target.a
    if params.get("slots"):
        assert lazy.__slots__ == real.__slots__
        assert not hasattr(z, "__dict__")
    with pytest.raises(TypeError):
        lazy(1, 2, 3, 4)


@pytest.mark.parametrize("params", PARAMS)
def test_methods_are_built_by_the_first_use_of_any(params: dict[str, Any]) -> None:
    _, lazy = _pair(params)
    # An instance made without __init__ (as unpickling and copy do) still compares and prints.
    blank = object.__new__(lazy)
    for name, value in (("a", 1), ("b", None), ("c", []), ("d", "x")):
        object.__setattr__(blank, name, value)
    assert repr(blank) == "Point(a=1, b=None, c=[])"
    assert (blank == lazy(1)) is (params.get("eq") is not False)


@record(frozen=True, slots=True)
class PickledSlots:
    x: int
    y: tuple[int, ...] = ()


@record(frozen=True)
class PickledFrozen:
    x: int
    y: tuple[int, ...] = ()


@pytest.mark.parametrize("cls", [PickledSlots, PickledFrozen])
def test_copies_and_pickles_like_a_dataclass(cls: Any) -> None:
    value = cls(1, (2,))
    assert pickle.loads(pickle.dumps(value)) == value
    assert copy.deepcopy(value) == value
    assert copy.copy(value) == value
    assert hash(pickle.loads(pickle.dumps(value))) == hash(value)
