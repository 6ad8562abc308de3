"""The import graph of `oai_magics`, read from the source with `ast` (nothing is imported).

`modules()` names every module of the package from its files (`oai_magics.client.core`, a package by
its `__init__`). `import_graph()` maps each module to the modules of ours it imports: absolute and
relative imports, at the top, inside functions and under `if TYPE_CHECKING:` alike (a type taken from
another module is a dependency on it, even if it is never imported at run time). `from X import name`
points at `X.name` when that is a module of ours, else at `X`. The parents Python imports before a
module (`oai_magics.client` before `oai_magics.client.core`) are not edges: they are how packages
work, not a choice of the module's author.

`circles(graph)` gives the strongly connected components of more than one module (and any module
that imports itself): each is a set of modules that import one another round a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "oai_magics"
Graph = dict[str, set[str]]


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """{module name: its file} for every module of the package."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(node: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules of ours that one import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        return {_nearest(name, known) for name in names if name.split(".")[0] == PACKAGE} - {""}
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    if base.split(".")[0] != PACKAGE:
        return set()
    targets = set()
    for alias in node.names:
        target = f"{base}.{alias.name}"
        targets.add(target if target in known else _nearest(base, known))
    return targets - {""}


def _nearest(name: str, known: set[str]) -> str:
    """`name` or its nearest enclosing module of ours ("" when none)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


def _imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of a file, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def import_graph(root: Path = ROOT) -> Graph:
    """{module: the modules of ours it imports}, for every module of the package."""
    files = module_files(root)
    known = set(files)
    graph: Graph = {}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        graph[module] = set().union(*(_imported(node, module, is_package, known) for node in _imports(path)))
    return graph


def outside_packages(root: Path = ROOT) -> set[str]:
    """The top-level names of every other package or module the package imports (stdlib included)."""
    names = set()
    for path in module_files(root).values():
        for node in _imports(path):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif not node.level and node.module:
                names.add(node.module.split(".")[0])
    return names - {PACKAGE, "__future__"}


def circles(graph: Graph) -> list[set[str]]:
    """The strongly connected components of more than one module, and modules that import themselves
    (Tarjan's algorithm, iterative so a deep package cannot overflow the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    found.append(component)
    return found
