"""Every facebench module imports, and the imports follow the layers (no cycles).

cli -> runner -> tasks / leaderboard -> score / evaluate / metrics -> core. Read from the source (every ``import``
statement, at module level or inside a function), so a lazy import that breaks a layer is caught
too. A task's package imports neither the plugin manager, a metric, the runner nor the CLI: what
it needs comes in its TaskContext.
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import facebench

ROOT = Path(facebench.__file__).parent

# Modules of the middle layer (everything not listed in a layer is core).
MIDDLE_PREFIXES = ("facebench.leaderboard", "facebench.metrics", "facebench.score", "facebench.evaluate",
                   "facebench.diagnostics", "facebench.testing", "facebench.tasks.")
# Inside the middle layer, a stage imports only the stages before it on the data path
# (score -> evaluate -> leaderboard): module prefix -> middle-layer prefixes it may not import.
STAGE_FORBIDDEN = {
    "facebench.evaluate": ("facebench.metrics", "facebench.score", "facebench.leaderboard", "facebench.diagnostics",
                           "facebench.testing", "facebench.tasks."),
    "facebench.score": ("facebench.evaluate", "facebench.leaderboard", "facebench.tasks."),
    "facebench.metrics": ("facebench.score", "facebench.evaluate", "facebench.leaderboard", "facebench.tasks."),
}
CORE_EXCEPTIONS = ("facebench.metrics.base", "facebench.metrics._linalg", "facebench.metrics._backend", "facebench.tasks.base")
# The package's __init__ is the public facade: ``facebench.rank`` hands the call on to the runner,
# importing it inside the function (``import facebench`` loads nothing of the runner).
FACADE = {"facebench": ("facebench.runner.rank",)}


def layer(module: str) -> int:
    if module == "facebench.__main__" or module.startswith("facebench.cli"):
        return 3
    if module.startswith("facebench.runner"):
        return 2
    if module in CORE_EXCEPTIONS:
        return 0
    if module.startswith(MIDDLE_PREFIXES):
        return 1
    return 0


def is_task(module: str) -> bool:
    return module.startswith("facebench.tasks.") and module != "facebench.tasks.base"


def all_modules() -> list[str]:
    names = ["facebench"]
    for info in pkgutil.walk_packages([str(ROOT)], prefix="facebench."):
        names.append(info.name)
    return sorted(names)


def source_of(module: str) -> Path:
    rel = Path(*module.split(".")[1:])
    pkg = ROOT / rel / "__init__.py"
    return pkg if pkg.exists() else (ROOT / rel).with_suffix(".py")


def imports_of(module: str) -> set[str]:
    """The facebench modules that ``module`` imports (resolved relative imports; modules, not names)."""
    path = source_of(module)
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    known = set(all_modules())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("facebench"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("facebench"):
                continue
            for alias in node.names:  # "from . import x" may import a submodule x
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    return {m for m in out if m in known and m != module}


@pytest.mark.parametrize("module", [m for m in all_modules() if m != "facebench.__main__"])  # __main__ runs the CLI
def test_module_imports(module):
    importlib.import_module(module)


def test_the_import_reader_sees_lazy_and_relative_imports():
    deps = imports_of("facebench.tasks.classification.task")
    assert {"facebench.tasks.classification.options", "facebench.tasks.base", "facebench.tasks.classification.data"} <= deps
    assert "facebench.runner.only_score" in imports_of("facebench.cli.score")  # imported inside a function


def test_layers():
    bad = []
    for module in all_modules():
        for dep in imports_of(module):
            if dep == "facebench":
                continue  # __version__ and hookimpl
            if dep in FACADE.get(module, ()):
                continue
            if layer(dep) > layer(module):
                bad.append(f"{module} (layer {layer(module)}) imports {dep} (layer {layer(dep)})")
            if is_task(module) and not is_task(dep) and layer(dep) > 0:
                bad.append(f"task module {module} imports {dep}")
            if is_task(module) and dep in ("facebench.plugins", "facebench.config"):
                bad.append(f"task module {module} imports {dep} (it gets what it needs in its TaskContext)")
            if is_task(module) and is_task(dep) and dep.split(".")[2] != module.split(".")[2]:
                bad.append(f"task module {module} imports another task's module {dep} (share it through the core)")
            if module.startswith("facebench.leaderboard") and is_task(dep):
                bad.append(f"{module} imports the task module {dep}")
            for stage, forbidden in STAGE_FORBIDDEN.items():
                if module.startswith(stage) and dep.startswith(forbidden) and dep not in CORE_EXCEPTIONS:
                    bad.append(f"{module} (stage {stage}) imports {dep}, a stage after it or beside it")
    assert not bad, "\n".join(bad)


def test_the_stages_have_homes():
    """Each stage of the data path is a folder of its own (config -> resolve -> plan -> execute -> score -> evaluate -> leaderboard)."""
    for module in ("facebench.runner.resolve", "facebench.runner.plan", "facebench.runner.execute.local",
                   "facebench.runner.execute.pool", "facebench.runner.execute.ray", "facebench.runner.score",
                   "facebench.score.zoo", "facebench.evaluate.correlations", "facebench.evaluate.reliability",
                   "facebench.evaluate.significance", "facebench.leaderboard.build"):
        assert module in all_modules(), module
    assert "facebench.runner.plan" in imports_of("facebench.runner.run")
    assert "facebench.runner.resolve" in imports_of("facebench.runner.plan")


def test_no_import_cycles():
    graph = {m: imports_of(m) - {"facebench"} for m in all_modules()}
    # a package's __init__ may import its own submodules (re-exports); that is not a cycle between layers
    for m in graph:
        graph[m] = {d for d in graph[m] if not (source_of(m).name == "__init__.py" and d.startswith(m + "."))}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep):] + [dep]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_printing_only_in_the_cli():
    """print() and click.echo live in facebench/cli/ (the scaffold's template writes a file, not stdout)."""
    offenders = []
    for module in all_modules():
        if layer(module) == 3:
            continue
        tree = ast.parse(source_of(module).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f"{getattr(f.value, 'id', '')}.{f.attr}" if isinstance(f, ast.Attribute) else ""
                if name in ("print", "click.echo", "click.secho"):
                    offenders.append(f"{module}:{node.lineno} {name}")
    assert not offenders, "\n".join(offenders)
