"""lrfun's modules form layers: no import cycle, and no module imports a higher layer's at
module level.

The import graph is read from the source with ``ast``: every ``import`` of an lrfun module,
except those under ``if TYPE_CHECKING:`` (annotations only, never run). An import inside a
function runs lazily, when the function is called: it may reach any layer (``cli`` draws
with ``plot`` only when asked to), but it still must not close a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import lrfun

_SOURCE = Path(lrfun.__file__).parent

# Lowest first. A module may import, at module level, modules of its own layer and of the
# layers below it; the cycle test keeps imports within a layer one-way.
LAYERS: list[tuple[str, set[str]]] = [
    # array namespaces and dtype policy, shared formulas, argument checks, the chain engine
    # (and the did-you-mean and progress helpers every layer's messages and work use)
    # (and the phase shapes the LLM families share)
    ("base", {"_backend", "_math", "_validate", "_chain", "_suggest", "_progress", "_shapes"}),
    # the live references a schedule class names (torch imported only when one runs; the
    # LLM frameworks' code transcribed)
    ("references", {"_reference", "_llm_references"}),
    # the Schedule and Configurable base classes and the registry
    ("schedule", {"_schedule"}),
    # what works on any registered class without knowing one: from_torch, live trajectories
    ("over the base", {"_convert", "_trajectory"}),
    # the schedule families, one home per schedule
    # (Megatron's module is its family's home and its public module at once)
    ("families", {
        "_decay", "_cosine", "_custom", "_cyclic", "_hf", "_plateau", "_greedy", "_optax_family",
        "_timm_family", "_keras_family", "_wsd", "_llm_presets", "megatron",
    }),
    # SequentialLR and ChainedScheduler over the families; the warmup, cooldown and resume
    # wrappers of any schedule
    ("composites", {"_compose", "_branch", "_warmup"}),
    # specs, the tolerance policy, the evaluate-and-check path plots and the CLI share
    ("tools", {"_spec", "_compare", "_check", "_completion"}),
    # the public modules
    ("public", {
        "__init__", "hf", "torch", "optax", "extend", "plot", "cli", "timm", "keras", "llm"
    }),
]

_LAYER = {module: rank for rank, (_, modules) in enumerate(LAYERS) for module in modules}
_MODULES = {path.stem for path in _SOURCE.glob("*.py")}


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(node: ast.Import | ast.ImportFrom) -> set[str]:
    """The lrfun modules an import statement names (``__init__`` for the package itself)."""
    if isinstance(node, ast.Import):
        dotted = [alias.name.split(".") for alias in node.names]
        return {[*parts, "__init__"][1] for parts in dotted if parts[0] == "lrfun"}
    module = node.module or ""
    if node.level:  # relative: within the package
        module = "lrfun" + (f".{module}" if module else "")
    parts = module.split(".")
    if parts[0] != "lrfun":
        return set()
    if len(parts) > 1:
        return {parts[1]}
    # from lrfun import a module, or a name the package exports
    return {alias.name if alias.name in _MODULES else "__init__" for alias in node.names}


def _imports(body: list[ast.stmt], lazy: bool = False) -> Iterator[tuple[str, bool, int]]:
    """(module, lazy, line) for each lrfun import in ``body``, TYPE_CHECKING blocks left out."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for module in sorted(_imported(node)):
                yield module, lazy, node.lineno
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _imports(node.body, lazy=True)
        elif isinstance(node, ast.If) and _type_checking(node.test):
            yield from _imports(node.orelse, lazy)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                block = getattr(node, field, None)
                if isinstance(block, list):
                    yield from _imports([s for s in block if isinstance(s, ast.AST)], lazy)


def _graph() -> dict[str, list[tuple[str, bool, int]]]:
    """Each lrfun module's imports of other lrfun modules: (module, lazy, line)."""
    graph = {}
    for path in sorted(_SOURCE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[path.stem] = [edge for edge in _imports(tree.body) if edge[0] != path.stem]
    return graph


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(edges.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(found)


def test_every_module_has_one_layer() -> None:
    placed = [module for _, modules in LAYERS for module in modules]
    assert len(placed) == len(set(placed)), "a module is in two layers"
    assert _MODULES - set(placed) == set(), "place these new modules in LAYERS"
    assert set(placed) - _MODULES == set(), "these modules in LAYERS no longer exist"


def test_no_module_imports_a_higher_layer_at_module_level() -> None:
    upward = [
        f"{module} ({LAYERS[_LAYER[module]][0]}) -> {target} ({LAYERS[_LAYER[target]][0]}), "
        f"lrfun/{module}.py:{line}"
        for module, edges in _graph().items()
        for target, lazy, line in edges
        if not lazy and module in _LAYER and target in _LAYER and _LAYER[target] > _LAYER[module]
    ]
    assert upward == []


def test_no_import_cycle() -> None:
    """Lazy imports included: one that closes a cycle hides it from the module-level view."""
    graph = _graph()
    cycles = _cycles({module: {edge[0] for edge in edges} for module, edges in graph.items()})
    where = [
        f"lrfun/{module}.py:{line} imports {target}{' (lazily)' if lazy else ''}"
        for cycle in cycles
        for module in cycle
        for target, lazy, line in graph[module]
        if target in cycle
    ]
    assert cycles == [], where


def test_the_graph_reader_sees_every_kind_of_import() -> None:
    """The reader itself: absolute, relative, package-level, lazy and TYPE_CHECKING imports."""
    source = """
import lrfun
import lrfun._math
from lrfun import _validate as check, __version__
from ._backend import Ctx
from lrfun._schedule import Schedule
if TYPE_CHECKING:
    from lrfun._plateau import Machine
def late():
    from lrfun import plot
try:
    from lrfun._chain import Node
except ImportError:
    pass
"""
    found = sorted(_imports(ast.parse(source).body))
    assert found == [
        ("__init__", False, 2),
        ("__init__", False, 4),
        ("_backend", False, 5),
        ("_chain", False, 12),
        ("_math", False, 3),
        ("_schedule", False, 6),
        ("_validate", False, 4),
        ("plot", True, 10),
    ]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
