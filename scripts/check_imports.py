"""Check the direction of imports between the project's modules (run by `make lint`).

Fails, naming the files, on:
- an import cycle between modules (files), or between packages (apps and the core);
- the core (`conseils`) importing a feature app anywhere but its composition roots
  (`conseils.app`, `conseils.cli`);
- an import of the project's own modules inside a function (the way cycles hide).

Only the project's own packages are looked at; migrations are left out (Piccolo writes them).
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("conseils", "accounts", "meetings", "notifications", "privacy", "proposals", "minutes")
CORE = "conseils"
COMPOSITION_ROOTS = {"conseils.app", "conseils.cli"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def own(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def resolve(name: str, modules: set[str]) -> str | None:
    """The module an import names: itself, or the package holding the name imported."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(path: Path, modules: set[str]) -> tuple[set[str], list[str]]:
    """(modules imported at module level, "line: name" of imports inside functions)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top: set[str] = set()
    nested: list[str] = []

    def names(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        if node.level:  # relative imports: none in this project, but resolve them anyway
            base = module_name(path).rsplit(".", node.level)[0]
            prefix = f"{base}.{node.module}" if node.module else base
        else:
            prefix = node.module or ""
        return [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found = {resolve(n, modules) for n in names(child) if own(n)} - {None}
                if in_function and found:
                    nested.append(f"{child.lineno}: {', '.join(sorted(found))}")
                else:  # an import for type checking only still ties the two files
                    top.update(found)
            function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, in_function or function)

    visit(tree, False)
    top.discard(module_name(path))
    return top, nested


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                strong(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            strong(node)
    return found


def main() -> int:
    files = [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "piccolo_migrations" not in path.parts
    ]
    modules = {module_name(path) for path in files}
    graph: dict[str, set[str]] = {}
    problems: list[str] = []
    for path in files:
        name = module_name(path)
        top, nested = imports_of(path, modules)
        graph[name] = top
        where = path.relative_to(ROOT)
        problems += [f"{where}:{line} imports inside a function" for line in nested]
        if name.split(".")[0] == CORE and name not in COMPOSITION_ROOTS:
            upward = sorted(m for m in top if m.split(".")[0] != CORE)
            if upward:
                problems.append(f"{name} (the core) imports the apps: {', '.join(upward)}")
    for cycle in cycles(graph):
        problems.append(f"import cycle between modules: {' -> '.join(cycle)}")
    packages: dict[str, set[str]] = defaultdict(set)
    for name, targets in graph.items():
        if name in COMPOSITION_ROOTS:
            continue  # the composition roots assemble every app by design
        package = name.split(".")[0]
        packages[package] |= {t.split(".")[0] for t in targets} - {package}
    for cycle in cycles(packages):
        problems.append(f"import cycle between packages: {' -> '.join(cycle)}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"imports: {len(modules)} modules, no cycle, the core imports no app")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
