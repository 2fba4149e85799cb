"""Dynamic routes: ``model: "dynamic/<name>"`` walks a route defined on the emulator.

A route is a tree of nodes, set with ``routes={"support": node}``; a node is one of:

- ``{"model": "openai/gpt-4o-mini", "fallback": node, "retries": 0, "timeout": ms}``: call the
  model; when its upstream fails (after ``retries`` more attempts), continue with ``fallback``;
- ``{"conditional": {"metadata.tier": {"$eq": "pro"}}, "then": node, "else": node}``: fields
  ``metadata.<key>``, ``body.<key>`` or ``headers.<name>`` with ``$eq $ne $in $nin $gt $gte
  $lt $lte`` (a bare value means ``$eq``);
- ``{"percentage": [[50, node], [50, node]], "else": node}``: a split (deterministic: successive
  requests walk the percentages in order), ``else`` for the remainder;
- ``{"rate_limit": {"limit": 10, "interval": 60, "key": "metadata.user"}, "success": node,
  "fallback": node}`` and ``{"budget_limit": {"limit": 0.5, ...}, ...}``: requests (or USD spent)
  per window, optionally per value of ``key``; past the limit the ``fallback`` branch is taken.

A top-level node may carry ``"gateway": "<id>"``: the route then exists on that gateway only.
Routes take the OpenAI chat completions shape only (other endpoints: 400); an unknown route is
404. The answer names the model used in ``cf-aig-model`` and ``cf-aig-provider``, and
``cf-aig-step`` counts the models tried before it (0 for the first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from . import envelopes
from .exchange import Exchange
from .logs import parse_metadata

NODE_KINDS = ("model", "conditional", "percentage", "rate_limit", "budget_limit")
OPERATORS = ("$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte")


@dataclass
class Candidate:
    """One model to call, with the node's own retry and timeout settings."""

    model: str
    provider: str
    retries: int | None = None
    timeout_ms: int | None = None
    headers: dict[str, str] | None = None
    on_success: Callable[[], None] | None = None

    @property
    def bare_model(self) -> str:
        prefix = self.provider + "/"
        return self.model[len(prefix) :] if self.model.startswith(prefix) else self.model


def check_routes(routes: Any) -> None:
    """Raise ``ValueError`` for a route tree the emulator cannot walk."""
    if not isinstance(routes, Mapping):
        raise ValueError("routes must be a dict of route name -> node")
    for name, node in routes.items():
        if not isinstance(name, str) or not name:
            raise ValueError("route names must be non-empty strings")
        _check_node(node, f"routes[{name!r}]")


def _check_node(node: Any, where: str) -> None:
    if node is None:
        return
    if not isinstance(node, Mapping):
        raise ValueError(f"{where} must be a node dict")
    kinds = [kind for kind in NODE_KINDS if kind in node]
    if len(kinds) != 1:
        raise ValueError(f"{where} needs exactly one of {', '.join(NODE_KINDS)}")
    kind = kinds[0]
    if kind == "model":
        if not isinstance(node["model"], str) or (
            "/" not in node["model"] and "provider" not in node
        ):
            raise ValueError(f"{where}: 'model' is 'provider/model' (or give 'provider')")
        for name, top in (("retries", 4), ("timeout", None)):
            value = node.get(name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int)
                or value < 0
                or (top is not None and value > top)
            ):
                raise ValueError(
                    f"{where}: {name!r} must be an integer from 0{f' to {top}' if top else ''}"
                )
        _check_node(node.get("fallback"), f"{where}.fallback")
    elif kind == "conditional":
        if not isinstance(node["conditional"], Mapping):
            raise ValueError(f"{where}: 'conditional' maps fields to conditions")
        _check_node(node.get("then"), f"{where}.then")
        _check_node(node.get("else"), f"{where}.else")
    elif kind == "percentage":
        branches = node["percentage"]
        if (
            not isinstance(branches, (list, tuple))
            or not all(
                isinstance(b, (list, tuple)) and len(b) == 2 and isinstance(b[0], (int, float))
                for b in branches
            )
            or sum(b[0] for b in branches) > 100
        ):
            raise ValueError(
                f"{where}: 'percentage' is a list of [percent, node] pairs summing to at most 100"
            )
        for index, branch in enumerate(branches):
            _check_node(branch[1], f"{where}.percentage[{index}]")
        _check_node(node.get("else"), f"{where}.else")
    else:
        spec = node[kind]
        if not isinstance(spec, Mapping) or not isinstance(spec.get("limit"), (int, float)):
            raise ValueError(f"{where}: {kind!r} needs a numeric 'limit'")
        interval = spec.get("interval", 60)
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval <= 0:
            raise ValueError(f"{where}: {kind!r} needs a positive 'interval' in seconds")
        _check_node(node.get("success"), f"{where}.success")
        _check_node(node.get("fallback"), f"{where}.fallback")


def plan(ex: Exchange, name: str) -> Response | Iterator[Candidate]:
    """The models to try for ``dynamic/<name>``, or the error answer."""
    rest = ex.route.surface == "rest"
    if ex.route.endpoint != "chat/completions":
        message = "Dynamic routes accept the OpenAI chat completions request shape only"
        return ex.answer(
            *(
                envelopes.api_error(2019, message, 400)
                if rest
                else envelopes.gateway_error(2019, message)
            )
        )
    node = ex.state.settings.routes.get(name)
    if node is None or node.get("gateway") not in (None, ex.gateway):
        message = f"Dynamic route '{name}' not found on gateway '{ex.gateway}'"
        return ex.answer(
            *(
                envelopes.api_error(7003, message, 404)
                if rest
                else envelopes.gateway_error(7003, message, 404)
            )
        )
    return _walk(ex, name, node)


def _walk(ex: Exchange, name: str, start: Mapping[str, Any]) -> Iterator[Candidate]:
    node: Mapping[str, Any] | None = start
    path = "root"
    while node is not None:
        node, path = _to_model_node(ex, name, node, path)
        if node is None:
            return
        model = str(node["model"])
        provider = str(node.get("provider") or model.split("/", 1)[0])
        yield Candidate(
            model, provider, retries=node.get("retries"), timeout_ms=node.get("timeout")
        )
        node, path = node.get("fallback"), path + ".fallback"


def _to_model_node(
    ex: Exchange, name: str, node: Mapping[str, Any] | None, path: str
) -> tuple[Mapping[str, Any] | None, str]:
    """Follow conditions, splits and limits down to the next model node."""
    while node is not None and "model" not in node:
        if "conditional" in node:
            branch = "then" if _condition_holds(ex, node["conditional"]) else "else"
        elif "percentage" in node:
            branch = _split(ex, name, path, node["percentage"])
            if branch != "else":
                node, path = node["percentage"][int(branch)][1], f"{path}.percentage[{branch}]"
                continue
        else:
            branch = _limit(ex, name, path, node)
        node, path = node.get(branch), f"{path}.{branch}"
    return node, path


def _field(ex: Exchange, field: str) -> Any:
    scope, _, key = field.partition(".")
    if scope == "metadata":
        return parse_metadata(ex.headers.get("cf-aig-metadata")).get(key)
    if scope == "headers":
        return ex.headers.get(key.lower())
    if scope == "body" and isinstance(ex.body, dict):
        return ex.body.get(key)
    return None


def _condition_holds(ex: Exchange, conditions: Mapping[str, Any]) -> bool:
    for field, condition in conditions.items():
        actual = _field(ex, field)
        tests = condition if isinstance(condition, Mapping) else {"$eq": condition}
        for operator, expected in tests.items():
            if not _compare(actual, operator, expected):
                return False
    return True


def _compare(actual: Any, operator: str, expected: Any) -> bool:
    if operator == "$eq":
        return bool(actual == expected)
    if operator == "$ne":
        return bool(actual != expected)
    if operator in ("$in", "$nin"):
        inside = isinstance(expected, (list, tuple)) and actual in expected
        return inside if operator == "$in" else not inside
    try:
        left, right = float(actual), float(expected)
    except (TypeError, ValueError):
        return False
    return {
        "$gt": left > right,
        "$gte": left >= right,
        "$lt": left < right,
        "$lte": left <= right,
    }.get(operator, False)


def _split(ex: Exchange, name: str, path: str, branches: list[Any]) -> str:
    position = (
        ex.state.features.next_count(f"{name}:{path}") * 37
    ) % 100  # walks 0..99 in a spread order
    threshold = 0.0
    for index, (percent, _node) in enumerate(branches):
        threshold += percent
        if position < threshold:
            return str(index)
    return "else"


def _limit(ex: Exchange, name: str, path: str, node: Mapping[str, Any]) -> str:
    kind = "rate_limit" if "rate_limit" in node else "budget_limit"
    spec = node[kind]
    interval = float(spec.get("interval", 60)) or 60.0
    value = _field(ex, str(spec["key"])) if spec.get("key") else None
    slot = int(ex.state.clock.now() // interval)
    key = ("route-limit", ex.route.account, ex.gateway, name, path, str(value), slot)
    features = ex.state.features
    if kind == "rate_limit":
        if features.window_total(key) >= spec["limit"]:
            return "fallback"
        features.add_to_window(key, 1)
        return "success"
    if features.window_total(key) >= spec["limit"]:
        return "fallback"

    def count(cost: float) -> None:
        features.add_to_window(key, cost)

    ex.cost_listeners.append(count)
    return "success"
