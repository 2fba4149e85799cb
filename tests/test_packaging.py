"""The install path a newcomer follows: extras that cover what each example imports.

Every script in ``examples/`` names its extras in its docstring (``Extras: ...``); every
third-party module the script imports must be installed by those extras (their requirements,
followed through the installed packages' own metadata). README's first command installs only
the ``emulator`` extra.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
OWN_PACKAGES = {"cf_ai_gateway", "langchain_cf_ai_gateway"}
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def _project_requirements(extras: set[str]) -> list[Requirement]:
    """The project's base requirements plus those of ``extras``, self-references expanded."""
    wanted, seen = list(PROJECT["dependencies"]), set()
    pending = list(extras)
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in PROJECT["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == PROJECT["name"]:
                pending.extend(requirement.extras)
            else:
                wanted.append(text)
    return [Requirement(text) for text in wanted]


def _closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution the requirements pull in, per the installed packages' metadata."""
    found: set[str] = set()
    pending = [(r, frozenset(r.extras)) for r in requirements]
    while pending:
        requirement, extras = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found and not extras:
            continue
        found.add(name)
        for text in metadata.requires(requirement.name) or []:
            child = Requirement(text)
            marker = child.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras | {""}):
                pending.append((child, frozenset(child.extras)))
    return found


def _docstring_extras(path: Path) -> set[str]:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    match = re.search(r"pip install -e '\.\[([a-z0-9,-]+)\]'", docstring)
    assert match, f"{path.name} does not name its extras in its docstring"
    return set(match.group(1).split(","))


def _third_party_imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return {
        module
        for module in modules
        if module.split(".")[0] not in sys.stdlib_module_names | {"__future__"} | OWN_PACKAGES
        and not module.startswith("llama_index.llms.cf_ai_gateway")
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_names_extras_that_install_its_imports(path: Path) -> None:
    extras = _docstring_extras(path)
    assert extras <= set(PROJECT["optional-dependencies"]), extras
    installed = _closure(_project_requirements(extras))
    providers = metadata.packages_distributions()
    for module in sorted(_third_party_imports(path)):
        top = module.split(".")[0]
        dists = {canonicalize_name(d) for d in providers.get(top, [])}
        assert dists & installed, f"{path.name} imports {module}, which its extras do not install"


def test_examples_run_against_the_emulator_extra() -> None:
    for path in EXAMPLES:
        assert "emulator" in _docstring_extras(path), path.name


def test_readme_first_command_needs_only_the_emulator_extra() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```bash\n(.*?)\n", readme)
    assert first is not None
    assert first.group(1) == (
        "pip install -e '.[emulator]' && cf-ai-gateway chat --emulator \"What is Cloudflare?\""
    )
    assert "clone" in readme[: first.start()].rsplit("##", 1)[-1]
