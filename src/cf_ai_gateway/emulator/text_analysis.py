"""Small, deterministic readings of a prompt: its numbers, quoted and proper-noun phrases, key words,
simple arithmetic, and which offered tools it names or hints at.

The deterministic model builds tool arguments and answers from these, so that "What is the value
of magic_function(3)?" calls ``magic_function`` with ``3``, "What is the weather in San Francisco,
CA?" fills a ``location`` with ``San Francisco, CA``, and "What is 3^3?" answers 27.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Iterable

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_QUOTED = re.compile(
    r"(?:(?<=^)|(?<=[\s(\[:,=]))(['\"\u201c\u2018\u300c\u300e])(.+?)(['\"\u201d\u2019\u300d\u300f])(?=$|[\s).,;:!?\]])"
)
_PROPER = re.compile(
    r"[A-Z][\w'\u2019.-]*(?:\s+(?:of\s+|de\s+)?[A-Z][\w'\u2019.-]*)*(?:,\s*[A-Z]{2}\b)?"
)
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?", re.UNICODE)
_EXPRESSION = re.compile(
    r"[-+]?\(?\s*\d+(?:\.\d+)?(?:\s*(?:\*\*|[-+*/^x\u00d7\u00f7%])\s*\(?\s*\d+(?:\.\d+)?\s*\)?)+"
)

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "get",
        "give",
        "had",
        "has",
        "have",
        "hello",
        "hi",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "please",
        "say",
        "set",
        "should",
        "so",
        "some",
        "tell",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "us",
        "use",
        "using",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "call",
        "tool",
        "tools",
        "function",
        "run",
        "make",
        "show",
        "find",
        "return",
        "write",
        "create",
        "generate",
        "answer",
        "question",
        "value",
        "result",
    ]
)
_SENTENCE_STARTERS = frozenset(
    [
        "What",
        "How",
        "Who",
        "Where",
        "When",
        "Why",
        "Which",
        "Tell",
        "Give",
        "Please",
        "Use",
        "Using",
        "Call",
        "Extract",
        "Create",
        "Return",
        "Write",
        "Get",
        "Find",
        "Is",
        "Are",
        "Can",
        "Could",
        "Would",
        "Do",
        "Does",
        "The",
        "A",
        "An",
        "In",
        "On",
        "At",
        "For",
        "Hello",
        "Hi",
        "Say",
        "Generate",
        "Make",
        "List",
        "Show",
        "Explain",
        "Describe",
        "Summarize",
        "Translate",
        "Compute",
        "Calculate",
        "Add",
        "Multiply",
        "Apply",
        "Answer",
        "Invoke",
        "Run",
        "Search",
        "Look",
        "I",
        "JSON",
        "Then",
        "And",
        "Now",
        "Let",
        "If",
        "It",
        "This",
        "That",
        "Yes",
        "No",
        "OK",
        "Okay",
    ]
)
_OPERATOR_WORDS: dict[str, frozenset[str]] = {
    "add": frozenset({"+", "plus", "sum", "add", "adding", "addition", "total"}),
    "multiply": frozenset({"*", "x", "\u00d7", "times", "multiply", "multiplied", "product"}),
    "subtract": frozenset({"-", "minus", "subtract", "difference"}),
    "divide": frozenset({"/", "\u00f7", "divide", "divided", "quotient"}),
    "power": frozenset({"^", "**", "power", "squared", "cubed"}),
}
_TOOL_WORD_ALIASES: dict[str, str] = {
    "add": "add",
    "adder": "add",
    "addition": "add",
    "sum": "add",
    "plus": "add",
    "multiply": "multiply",
    "multiplier": "multiply",
    "mul": "multiply",
    "product": "multiply",
    "times": "multiply",
    "subtract": "subtract",
    "sub": "subtract",
    "minus": "subtract",
    "difference": "subtract",
    "divide": "divide",
    "div": "divide",
    "quotient": "divide",
    "power": "power",
    "pow": "power",
    "exponent": "power",
}


def numbers_in(text: str) -> list[int | float]:
    """The numbers of ``text`` in order (integers stay integers)."""
    found: list[int | float] = []
    for match in _NUMBER.finditer(text):
        raw = match.group(0)
        found.append(float(raw) if "." in raw else int(raw))
    return found


def phrases_in(text: str) -> list[str]:
    """Quoted strings, then proper-noun phrases ("San Francisco, CA", "Pirate"), in order, unique."""
    found: list[str] = []
    quoted_spans: list[tuple[int, int]] = []
    for match in _QUOTED.finditer(text):
        value = match.group(2).strip()
        if value:
            found.append(value)
            quoted_spans.append(match.span())
    for match in _PROPER.finditer(text):
        if any(start <= match.start() < end for start, end in quoted_spans):
            continue
        words = match.group(0).rstrip(".").split()
        while words and words[0].strip(",") in _SENTENCE_STARTERS:
            words.pop(0)
        phrase = " ".join(words).strip(" ,")
        if phrase and len(phrase) > 1:
            found.append(phrase)
    unique: list[str] = []
    for phrase in found:
        if phrase not in unique:
            unique.append(phrase)
    return unique


def words_in(text: str) -> list[str]:
    """Lower-case words of ``text``."""
    return [w.lower() for w in _WORD.findall(text)]


def key_words(text: str, limit: int = 8) -> list[str]:
    """Distinct content words of ``text``, in order (stop words and one-letter words dropped)."""
    seen: list[str] = []
    for word in words_in(text):
        if len(word) < 2 or word in STOP_WORDS or word.isdigit() or word in seen:
            continue
        seen.append(word)
        if len(seen) >= limit:
            break
    return seen


# --- arithmetic ------------------------------------------------------------------------------

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
            raise ValueError("too large")
        return float(_BINARY[type(node.op)](left, right))
    raise ValueError("unsupported")


def arithmetic_in(text: str) -> tuple[str, str] | None:
    """The first simple arithmetic expression of ``text`` and its value, e.g. ``("3^3", "27")``."""
    for match in _EXPRESSION.finditer(text):
        expression = match.group(0).strip()
        python = expression.replace("^", "**").replace("\u00d7", "*").replace("\u00f7", "/")
        python = re.sub(r"(?<=\d)\s*x\s*(?=\d)", "*", python)
        try:
            value = _evaluate(ast.parse(python, mode="eval"))
        except (ValueError, SyntaxError, ZeroDivisionError, OverflowError, TypeError):
            continue
        if math.isfinite(value):
            shown = str(int(value)) if value == int(value) and abs(value) < 1e15 else f"{value:.6g}"
            return expression, shown
    return None


# --- tools named in a prompt ---------------------------------------------------------------


def _tool_words(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [w.lower() for w in re.split(r"[\s_\-.]+", spaced) if w]


def tools_named(text: str, names: Iterable[str]) -> list[str]:
    """Tools whose exact name appears in ``text``, in order of first mention."""
    lowered = text.lower()
    hits: list[tuple[int, str]] = []
    for name in names:
        match = re.search(r"(?<![\w])" + re.escape(name.lower()) + r"(?![\w])", lowered)
        if match:
            hits.append((match.start(), name))
    return [name for _, name in sorted(hits)]


def tool_hinted(text: str, names: Iterable[str]) -> str | None:
    """The tool whose name words best match ``text`` ("weather" → ``get_weather``, "+" → ``add``)."""
    prompt_words = set(words_in(text))
    stems = {w.rstrip("s") for w in prompt_words}
    symbols = set(re.findall(r"\*\*|[-+*/^\u00d7\u00f7]", text))
    best: tuple[int, str] | None = None
    for name in names:
        score = 0
        for word in _tool_words(name):
            canonical = _TOOL_WORD_ALIASES.get(word)
            if (canonical and (_OPERATOR_WORDS[canonical] & (prompt_words | symbols))) or (
                len(word) >= 3
                and word not in STOP_WORDS
                and (word in prompt_words or word.rstrip("s") in stems)
            ):
                score += 2
        if score and (best is None or score > best[0]):
            best = (score, name)
    return best[1] if best else None
