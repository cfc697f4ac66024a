"""The import graph of Keepmark's own code (``backup``, ``inventory``, ``watermark``): no import
cycles, and no import that climbs against the layers.

Every import counts: at module level, inside functions, and under ``if TYPE_CHECKING:`` (a reader
follows those too). ``import a.b.c`` and ``from a.b import c`` are edges to the module they name
(``a.b.c`` when it is a module, else ``a.b``); the packages above it are not counted, so a
package's ``__init__`` that re-exports its own modules is not taken for a cycle.

The layers, top imports bottom (docs/design.md): ``backup/cli`` (and the browser app it starts,
``backup/web``) over ``backup/app`` over
``backup/daemon``, ``stages``, ``runs``, ``targets``, ``proof``, ``profile``; then ``watermark``;
then ``inventory``.

Run as a script (``python -m tests.test_layers``) it prints every cycle and every import that
breaks a rule, known exceptions included."""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("backup", "inventory", "watermark")
BELOW_APP = (
    "backup.daemon",
    "backup.stages",
    "backup.runs",
    "backup.targets",
    "backup.proof",
    "backup.profile",
)


class Edge(NamedTuple):
    """``source`` imports ``target``, at ``path``:``line``."""

    source: str
    target: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} imports {self.target}"


class Cycle(NamedTuple):
    """Modules that import each other, round: every import among them, and one closed path."""

    members: list[str]
    imports: list[Edge]
    loop: list[Edge]

    def __str__(self) -> str:
        lines = [f"cycle among {', '.join(self.members)}; one way round:"]
        lines += [f"  {e}" for e in self.loop]
        lines += ["every import among them:"] + [f"  {e}" for e in self.imports]
        return "\n".join(lines)


class Rule(NamedTuple):
    """Modules under any of ``sources`` (but not under ``allowed``) never import ``forbidden``."""

    name: str
    sources: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()

    def broken_by(self, edge: Edge) -> bool:
        return (
            under(edge.source, self.sources)
            and not under(edge.source, self.allowed)
            and under(edge.target, self.forbidden)
        )


RULES = (
    Rule("inventory never imports watermark or backup", ("inventory",), ("watermark", "backup")),
    Rule("watermark never imports backup", ("watermark",), ("backup",)),
    # backup/__main__.py is the entry point of ``python -m backup``: it runs the CLI.
    Rule(
        "only backup/cli imports backup.cli", ("backup",), ("backup.cli",), ("backup.cli", "backup.__main__")
    ),
    Rule("nothing below backup/app imports backup.app", BELOW_APP, ("backup.app",)),
    # The CLI parses, calls one use case and prints: besides backup/app it may use only what
    # every layer shares (errors, the progress events, numbers and times for people, where the
    # home folder is).
    Rule(
        "only backup ui (backup/cli) starts the browser app",
        ("backup",),
        ("backup.web",),
        ("backup.cli", "backup.web"),
    ),
    Rule(
        "the CLI and the browser app call only the use cases",
        ("backup.cli", "backup.web"),
        (
            "backup.daemon",
            "backup.runs",
            "backup.targets",
            "backup.proof",
            "backup.profile",
            "backup.stages",
            "watermark",
            "inventory.store",
            "inventory.record",
            "inventory.ledger",
            "inventory.match",
            "inventory.media",
        ),
    ),
    Rule("the daemon gets its jobs from the use cases", ("backup.daemon",), ("backup.app", "backup.stages")),
    Rule(
        "proof sits below the backup runs",
        ("backup.proof",),
        ("backup.runs", "backup.daemon", "backup.stages"),
    ),
    Rule(
        "the engine never starts the daemon",
        ("backup.runs", "backup.targets"),
        ("backup.daemon", "backup.stages"),
    ),
)

# Imports that break a rule today, as (importing module, imported module). Cycles are never
# excepted. Each entry is to be fixed and removed; the test fails once an entry no longer occurs.
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()


def under(module: str, prefixes: Iterable[str]) -> bool:
    """Whether ``module`` is one of ``prefixes`` or inside one of them."""
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def modules(root: Path = REPO) -> dict[str, Path]:
    """Every first-party module: its dotted name and its file."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The first-party module ``name`` names, or the nearest package above it."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def _imported(
    module: str, path: Path, node: ast.Import | ast.ImportFrom, known: dict[str, Path]
) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            target = _resolve(alias.name, known)
            if target is not None:
                yield target
        return
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1])
        name = f"{base}.{node.module}" if node.module else base
    else:
        name = node.module or ""
    for alias in node.names:
        full = f"{name}.{alias.name}"
        target = full if full in known else _resolve(name, known)
        if target is not None:
            yield target


def edges(root: Path = REPO) -> list[Edge]:
    """Every import between first-party modules, wherever it sits in the file."""
    known = modules(root)
    found: set[Edge] = set()
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _imported(module, path, node, known):
                    if target != module:
                        found.add(Edge(module, target, rel, node.lineno))
    return sorted(found, key=lambda e: (e.path, e.line, e.target))


def cycles(graph_edges: Iterable[Edge]) -> list[Cycle]:
    """Every strongly connected group of modules (Tarjan's algorithm, without recursion)."""
    all_edges = list(graph_edges)
    graph: dict[str, dict[str, Edge]] = {}
    for e in all_edges:
        graph.setdefault(e.source, {}).setdefault(e.target, e)
        graph.setdefault(e.target, {})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
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
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph[node]:
                    groups.append(sorted(group))
    return [
        Cycle(group, [e for e in all_edges if e.source in group and e.target in group], _loop(graph, group))
        for group in sorted(groups)
    ]


def _loop(graph: dict[str, dict[str, Edge]], group: list[str]) -> list[Edge]:
    """A shortest closed path through the group's first module (breadth first)."""
    members = set(group)
    start = group[0]
    came: dict[str, Edge] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target, e in sorted(graph[node].items()):
            if target not in members or target in came:
                continue
            came[target] = e
            if target == start:
                queue = []
                break
            queue.append(target)
    path = [came[start]]
    while path[-1].source != start:
        path.append(came[path[-1].source])
    return path[::-1]


def violations(graph_edges: Iterable[Edge]) -> list[tuple[Rule, Edge]]:
    """Every import that breaks one of ``RULES``."""
    return [(rule, e) for e in graph_edges for rule in RULES if rule.broken_by(e)]


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Imports in functions, under TYPE_CHECKING and relative ones are edges too; a cycle made of
    them is found, and a rule broken by one of them is reported."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "backup" / "runs").mkdir()
    (tmp_path / "backup" / "runs" / "__init__.py").write_text("")
    (tmp_path / "backup" / "runs" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from backup.runs.b import B\n"
    )
    (tmp_path / "backup" / "runs" / "b.py").write_text("def f():\n    from . import a\n")
    (tmp_path / "backup" / "app.py").write_text("import backup.runs.a\n")
    (tmp_path / "inventory" / "low.py").write_text("def g():\n    import backup.app\n")
    found = edges(tmp_path)
    pairs = {(e.source, e.target) for e in found}
    assert pairs == {
        ("backup.runs.a", "backup.runs.b"),
        ("backup.runs.b", "backup.runs.a"),
        ("backup.app", "backup.runs.a"),
        ("inventory.low", "backup.app"),
    }
    loops = cycles(found)
    assert [[(e.source, e.target) for e in c.loop] for c in loops] == [
        [("backup.runs.a", "backup.runs.b"), ("backup.runs.b", "backup.runs.a")]
    ]
    assert [(e.path, e.line) for e in loops[0].imports] == [("backup/runs/a.py", 3), ("backup/runs/b.py", 2)]
    assert [(rule.name, e.path, e.line) for rule, e in violations(found)] == [
        ("inventory never imports watermark or backup", "inventory/low.py", 2)
    ]


def test_no_import_cycles() -> None:
    loops = cycles(edges())
    assert not loops, "import cycles:\n" + "\n\n".join(map(str, loops))


def test_imports_follow_the_layers() -> None:
    found = violations(edges())
    new = [f"{e} ({rule.name})" for rule, e in found if (e.source, e.target) not in KNOWN_VIOLATIONS]
    assert not new, "imports against the layers:\n" + "\n".join(new)
    stale = KNOWN_VIOLATIONS - {(e.source, e.target) for _, e in found}
    assert not stale, f"fixed, so remove them from KNOWN_VIOLATIONS: {sorted(stale)}"


def main() -> int:
    graph_edges = edges()
    loops = cycles(graph_edges)
    for c in loops:
        print(c)
    found = violations(graph_edges)
    for rule, e in found:
        known = " [known]" if (e.source, e.target) in KNOWN_VIOLATIONS else ""
        print(f"{e} ({rule.name}){known}")
    print(
        f"{len(modules())} modules, {len(graph_edges)} imports, {len(loops)} cycles, {len(found)} against the layers"
    )
    return 1 if loops or found else 0


if __name__ == "__main__":
    sys.exit(main())


SQL = re.compile(
    r"""\.(execute|executemany|executescript)\(|\.conn\b|sqlite3\.connect|["'](SELECT|INSERT|UPDATE|DELETE|CREATE TABLE) """
)


def test_no_sql_outside_the_store() -> None:
    """The inventory's schema is no API: every query lives in inventory/store, behind named
    methods returning typed rows."""
    found = []
    for name, path in modules().items():
        if under(name, ("inventory.store",)):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SQL.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not found, "SQL outside inventory/store:\n" + "\n".join(found)
