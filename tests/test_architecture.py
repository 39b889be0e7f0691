"""The shape of recexp/: no import cycle, short modules and functions, no model-kind tests.

Read from the source with ``ast`` (nothing is imported), so a failure names the file and
line to change. An import counts wherever it is written (module level or inside a
function); one under ``if TYPE_CHECKING:`` does not, since it never runs.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "recexp"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
# isinstance/hasattr may ask what kind of model it holds only inside the models package
MODELS_PACKAGE = "recexp.models"


@functools.cache
def modules() -> dict[str, Path]:
    """Dotted name -> file of every module under recexp/ (a package is its __init__.py)."""
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


@functools.cache
def tree(name: str) -> ast.Module:
    path = modules()[name]
    return ast.parse(path.read_text(), filename=str(path))


def where(name: str, line: int | None = None) -> str:
    path = modules()[name].relative_to(ROOT).as_posix()
    return path if line is None else f"{path}:{line}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node``, skipping ``if TYPE_CHECKING:`` bodies."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _import_nodes(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _import_nodes(child)


def _known(dotted: str) -> str:
    """The longest prefix of ``dotted`` that is a recexp module (``recexp.a.B`` -> ``recexp.a``)."""
    parts = dotted.split(".")
    while parts and ".".join(parts) not in modules():
        parts.pop()
    return ".".join(parts)


def imports(name: str) -> dict[str, int]:
    """recexp modules that ``name`` imports -> the line of the first such import.

    ``from recexp.x import y`` is an edge to ``recexp.x.y`` when that is a module (a
    submodule is what gets imported), else to ``recexp.x``. The package ``__init__`` that
    Python runs on the way to a submodule is not an edge: a package whose ``__init__``
    imports its submodules, each importing a sibling by its full name, is no cycle.
    """
    package = name if modules()[name].name == "__init__.py" else name.rpartition(".")[0]
    edges: dict[str, int] = {}
    for node in _import_nodes(tree(name)):
        if isinstance(node, ast.Import):
            targets = [_known(alias.name) for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else _known(base)
                for alias in node.names
            ]
        for target in targets:
            if target and target != name:
                edges.setdefault(target, node.lineno)
    return edges


@functools.cache
def import_graph() -> dict[str, dict[str, int]]:
    return {name: imports(name) for name in modules()}


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def one_cycle(graph: dict[str, dict[str, int]], component: list[str]) -> str:
    """A shortest cycle through the component's first module, each edge with its file:line."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    for node in queue:
        for target in sorted(graph[node]):
            if target == start:
                cycle = [*paths[node], start]
                hops = (
                    f"{b} ({where(a, graph[a][b])})" for a, b in zip(cycle, cycle[1:], strict=False)
                )
                return " -> ".join([start, *hops])
            if target in members and target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def cycles_message(components: list[list[str]]) -> str:
    graph = import_graph()
    return "import cycles in recexp/:\n" + "\n".join(
        f"  {', '.join(c)}\n    e.g. {one_cycle(graph, c)}" for c in components
    )


# --- the import graph -----------------------------------------------------------------------


def test_the_graph_reader_sees_imports_at_every_level():
    graph = import_graph()
    # module level, and a submodule named in `from package import submodule`
    assert "recexp.embeddings.base" in graph["recexp.embeddings.full"]
    assert "recexp.embeddings.full" in graph["recexp.embeddings"]
    # inside a function (the builders import their layer late)
    assert "recexp.embeddings.layers.hashing" in graph["recexp.embeddings.hashing"]
    # `from recexp.embeddings.layers import EmbeddingTable`: the package, not a submodule
    assert "recexp.embeddings.layers" in graph["recexp.embeddings.report"]


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b": 1}, "b": {"c": 2, "a": 3}, "c": {}, "d": {"d": 4}}
    assert strongly_connected(graph) == [["a", "b"]]


def test_no_import_cycle():
    components = strongly_connected(import_graph())
    assert not components, cycles_message(components)


def test_no_import_cycle_in_embeddings():
    graph = {
        name: {t: line for t, line in edges.items() if t.startswith("recexp.embeddings")}
        for name, edges in import_graph().items()
        if name.startswith("recexp.embeddings")
    }
    components = strongly_connected(graph)
    assert not components, cycles_message(components)


def test_embedding_layers_import_nothing_from_the_strategy_side():
    layers = "recexp.embeddings.layers"
    wrong = [
        f"{where(name, line)}: {name} imports {target}"
        for name, edges in import_graph().items()
        if name == layers or name.startswith(f"{layers}.")
        for target, line in edges.items()
        if target.startswith(f"{PACKAGE}.")
        and not (target == layers or target.startswith(f"{layers}."))
    ]
    assert not wrong, "layers import from outside recexp.embeddings.layers:\n" + "\n".join(wrong)


def test_embedding_strategies_do_not_import_each_other():
    shared = {"recexp.embeddings", "recexp.embeddings.base", "recexp.embeddings.frequency"}
    shared |= {"recexp.embeddings.report"}
    strategies = {
        name
        for name in modules()
        if name.startswith("recexp.embeddings.")
        and not name.startswith("recexp.embeddings.layers")
        and name not in shared
    }
    assert {"recexp.embeddings.full", "recexp.embeddings.hashing"} <= strategies
    wrong = [
        f"{where(name, line)}: {name} imports {target}"
        for name in sorted(strategies)
        for target, line in import_graph()[name].items()
        if target in strategies
    ]
    assert not wrong, "embedding strategies import each other:\n" + "\n".join(wrong)


# --- sizes ----------------------------------------------------------------------------------


def test_no_module_over_300_lines():
    lengths = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    long = [
        f"  {where(name)}: {n} lines"
        for name, n in sorted(lengths.items(), key=lambda item: -item[1])
        if n > MAX_MODULE_LINES
    ]
    assert not long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)


def functions(name: str) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """``(qualified name, node)`` of every function and method in module ``name``."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                yield f"{prefix}{child.name}", child
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    for qualified, node in walk(tree(name), ""):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield qualified, node


def test_no_function_over_60_lines():
    long = sorted(
        (node.end_lineno - node.lineno + 1, f"{where(name, node.lineno)} {qualified}()")
        for name in modules()
        for qualified, node in functions(name)
        if node.end_lineno is not None and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    )
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(
        f"  {at}: {n} lines" for n, at in reversed(long)
    )


# --- model kinds ----------------------------------------------------------------------------


def _words(identifier: str) -> list[str]:
    """``keras_model`` -> keras, model; ``MFRecommender`` -> mf, recommender."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", identifier)
    return [word.lower() for word in spaced.split("_") if word]


def mentions_a_model(call: ast.Call) -> bool:
    """Whether an argument names a model: ``model``, ``self.model``, ``keras.Model``,
    ``BaselineModel``, ``SomeRecommender``, ``models.X`` (a word of an identifier)."""
    names = [
        node.id if isinstance(node, ast.Name) else node.attr
        for arg in call.args
        for node in ast.walk(arg)
        if isinstance(node, ast.Name | ast.Attribute)
    ]
    return any(
        word in {"model", "models", "recommender", "recommenders"}
        for name in names
        for word in _words(name)
    )


def model_kind_tests(name: str) -> list[str]:
    """``file:line: call`` of each isinstance/hasattr on a model in module ``name``."""
    calls = [
        node
        for node in ast.walk(tree(name))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"isinstance", "hasattr"}
        and mentions_a_model(node)
    ]
    return [
        f"  {where(name, call.lineno)}: {ast.unparse(call)}"
        for call in sorted(calls, key=lambda call: call.lineno)
    ]


def test_the_model_kind_finder():
    def found(source: str) -> bool:
        call = ast.parse(source, mode="eval").body
        assert isinstance(call, ast.Call)
        return mentions_a_model(call)

    assert found("isinstance(model, BaselineModel)")
    assert found("hasattr(self.model, 'optimizer')")
    assert found("isinstance(x, keras.Model)")
    assert found("isinstance(x, MFRecommender)")
    assert not found("isinstance(value, float)")
    assert not found("isinstance(options, ByUserSplit)")
    assert not found("hasattr(error, 'file')")


def test_no_model_kind_test_outside_the_models_package():
    found = [
        line
        for name in modules()
        if name != MODELS_PACKAGE and not name.startswith(f"{MODELS_PACKAGE}.")
        for line in model_kind_tests(name)
    ]
    assert not found, (
        f"isinstance/hasattr on a model outside {MODELS_PACKAGE} (ask the model's protocol "
        "instead):\n" + "\n".join(found)
    )
