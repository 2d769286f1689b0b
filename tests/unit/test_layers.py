"""No module reaches into another module's private names (`_x`): not by importing them, not by
an attribute of a module it imported (`engine._answers`). The layers themselves are import-linter
contracts (pyproject.toml, run by `make test`)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("lab", "node")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _resolve(path: Path, root: Path, node: ast.ImportFrom) -> str:
    """The absolute dotted name an ImportFrom imports from."""
    if not node.level:
        return node.module or ""
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    base = package[:len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _is_module(root: Path, dotted: str) -> bool:
    p = root.joinpath(*dotted.split("."))
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def private_reaches(path: Path, root: Path = ROOT) -> list[str]:
    """`file:line: what` for each private name of another project module this file uses."""
    tree = ast.parse(path.read_text(), str(path))
    modules: set[str] = set()   # local names bound to project modules
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _resolve(path, root, node)
            if source.split(".")[0] not in ("lab", "node"):
                continue
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: from {source} import {alias.name}")
                elif _is_module(root, f"{source}.{alias.name}"):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("lab", "node"):
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                and node.value.id in modules):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("package", CHECKED)
def test_no_module_uses_another_modules_private_names(package):
    found = [f for path in sorted((ROOT / package).rglob("*.py")) for f in private_reaches(path)]
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_the_check_sees_both_kinds_of_reach(tmp_path):
    package = tmp_path / "lab" / "model"
    package.mkdir(parents=True)
    for name in ("__init__.py", "state.py", "plan.py"):
        (package / name).write_text("")
    probe = package / "probe.py"
    probe.write_text("from .state import _x\nfrom . import state\nstate._y()\nfrom .plan import PREFIX\nstate.labs()\n")
    found = private_reaches(probe, tmp_path)
    assert [f.split(": ", 1)[1] for f in found] == ["from lab.model.state import _x", "state._y"]


def test_test_modules_have_unique_basenames():
    # pytest imports test modules by basename (rootdir mode): two test_x.py under tests/ break collection.
    seen: dict[str, Path] = {}
    clashes = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if path.name in seen:
            clashes.append(f"{seen[path.name].relative_to(ROOT)} and {path.relative_to(ROOT)}")
        seen.setdefault(path.name, path)
    assert not clashes, "test modules sharing a name:\n" + "\n".join(clashes)


@pytest.mark.parametrize("package", CHECKED)
def test_tls_contexts_come_from_node_tls(package):
    """Only node/tls.py builds a TLS context: `ssl.create_default_context` loads the host's whole
    CA store, which no lab or device connection trusts."""
    found = [f"{path.relative_to(ROOT)}:{node.lineno}"
             for path in sorted((ROOT / package).rglob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(), str(path)))
             if isinstance(node, ast.Attribute) and node.attr == "create_default_context"]
    assert not found, "ssl.create_default_context outside node/tls.py:\n" + "\n".join(found)
