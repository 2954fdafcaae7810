"""The layering of docs/architecture.md, checked on the source: every module under src/b2bsync
is parsed with `ast` (imports at module level, inside functions and under `TYPE_CHECKING`), so a
new import that breaks a rule fails here naming the module and what it imported.

The cycle check uses what runs when a module is imported: its module-level imports outside
`TYPE_CHECKING`, each with the packages Python initialises on the way (`import a.b.c` runs
`a/__init__`, `a/b/__init__` and `a/b/c`), except the importer's own enclosing packages, which
are being initialised already (a package's `__init__` re-exporting its modules is no cycle)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import b2bsync

SOURCE = Path(b2bsync.__file__).parent
ROOT = "b2bsync"


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement's target, as a module name."""

    module: str
    """The importing module."""
    target: str
    """The module imported (for `from a import b`, `a.b` when that is a module, else `a`)."""
    runtime: bool
    """At module level and not under `if TYPE_CHECKING:`: it runs when the module is imported."""
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")
    is_package = _modules()[module].name == "__init__.py"
    base = package[: len(package) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports_of(module: str) -> Iterator[Import]:
    tree = ast.parse(_modules()[module].read_text(encoding="utf-8"))

    def visit(nodes: list[ast.stmt], runtime: bool) -> Iterator[Import]:
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(module, alias.name, runtime, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, node)
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    target = submodule if submodule in _modules() else base
                    yield Import(module, target, runtime, node.lineno)
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                yield from visit(node.body, False)
                yield from visit(node.orelse, runtime)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from visit(node.body, False)
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    children = getattr(node, field, None)
                    if isinstance(children, list):
                        stmts = [c for c in children if isinstance(c, ast.stmt)]
                        handlers = [c for c in children if isinstance(c, ast.ExceptHandler)]
                        yield from visit(stmts, runtime)
                        for handler in handlers:
                            yield from visit(handler.body, runtime)

    yield from visit(tree.body, True)


@cache
def _all_imports() -> tuple[Import, ...]:
    return tuple(found for module in _modules() for found in _imports_of(module))


def _ours(target: str) -> bool:
    return target == ROOT or target.startswith(f"{ROOT}.")


def _within(module: str, package: str) -> bool:
    name = f"{ROOT}.{package}"
    return module == name or module.startswith(f"{name}.")


def _violations(importer: str, forbidden: tuple[str, ...]) -> list[str]:
    """Imports from the `importer` package of any `forbidden` package (top level names)."""
    return [
        f"{found.module}:{found.line} imports {found.target}"
        for found in _all_imports()
        if _within(found.module, importer)
        and any(_within(found.target, package) for package in forbidden)
    ]


def _chain(name: str) -> list[str]:
    """`a.b.c` -> `a`, `a.b`, `a.b.c`: what Python initialises for `import a.b.c`."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts) + 1)]


def _initialised(target: str, importer: str) -> list[str]:
    """The modules `importer` makes Python run by importing `target`: the chain of `target`
    less `importer` and the packages that enclose it."""
    enclosing = set(_chain(importer))
    return [name for name in _chain(target) if name not in enclosing]


def test_the_import_graph_has_no_cycles() -> None:
    graph: dict[str, set[str]] = {module: set() for module in _modules()}
    for found in _all_imports():
        if found.runtime and _ours(found.target):
            graph[found.module] |= set(_initialised(found.target, found.module))
    # Depth-first search; a grey node met again closes a cycle, reported as its path.
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    cycles: list[str] = []

    def visit(module: str, path: list[str]) -> None:
        colour[module] = grey
        for target in sorted(graph[module]):
            if target not in graph:
                continue
            if colour[target] == grey:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif colour[target] == white:
                visit(target, [*path, target])
        colour[module] = black

    for module in sorted(graph):
        if colour[module] == white:
            visit(module, [module])
    assert cycles == []


def test_the_domain_imports_nothing_of_ours() -> None:
    others = sorted({module.split(".")[1] for module in _modules() if module != ROOT} - {"domain"})
    root = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in _all_imports()
        if _within(found.module, "domain") and found.target == ROOT
    ]
    assert _violations("domain", tuple(others)) + root == []


def test_bigcommerce_imports_neither_sync_store_web_nor_config() -> None:
    assert _violations("bigcommerce", ("sync", "store", "web", "config")) == []


PRODUCT_TO_SANDBOX = {
    ("b2bsync.cli", "b2bsync.sandbox.cli"): "mounts the sandbox's own commands",
    # `b2bsync demo` runs the sandbox store in-process (docs/architecture.md, Modes): the one
    # command of the product that needs it, by design.
    ("b2bsync.commands.demo", "b2bsync.sandbox.app"): "the demo serves the sandbox in-process",
    ("b2bsync.commands.demo", "b2bsync.sandbox.config"): "the demo configures that sandbox",
    ("b2bsync.commands.demo", "b2bsync.sandbox.seed"): "the demo seeds that sandbox",
}
"""The only imports of the sandbox from the product, each with its reason."""


def test_the_sandbox_and_the_product_never_import_each_other() -> None:
    product = sorted({module.split(".")[1] for module in _modules() if module != ROOT})
    sandbox_to_product = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in _all_imports()
        if _within(found.module, "sandbox")
        and _ours(found.target)
        and not _within(found.target, "sandbox")
    ]
    product_to_sandbox = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in _all_imports()
        if not _within(found.module, "sandbox")
        and _within(found.target, "sandbox")
        and (found.module, found.target) not in PRODUCT_TO_SANDBOX
    ]
    assert product
    assert sandbox_to_product == []
    assert product_to_sandbox == []


def _third_party(found: Import, names: tuple[str, ...]) -> bool:
    return found.target.split(".")[0] in names


def test_in_the_product_only_web_imports_fastapi_or_starlette() -> None:
    offenders = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in _all_imports()
        if _third_party(found, ("fastapi", "starlette"))
        and not _within(found.module, "web")
        and not _within(found.module, "sandbox")
    ]
    assert offenders == []


def test_only_the_cli_commands_and_the_sandbox_cli_import_typer() -> None:
    allowed = ("b2bsync.cli", "b2bsync.sandbox.cli")
    offenders = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in _all_imports()
        if _third_party(found, ("typer",))
        and found.module not in allowed
        and not _within(found.module, "commands")
    ]
    assert offenders == []


@pytest.mark.parametrize("module", ["b2bsync.domain", "b2bsync.bigcommerce", "b2bsync.config"])
def test_the_rules_see_the_packages(module: str) -> None:
    # A guard for the test itself: a path or parsing mistake would make every rule pass.
    assert module in _modules()
    assert any(found.module.startswith(module) for found in _all_imports())


def test_outside_bigcommerce_only_its_public_surface_is_imported() -> None:
    # The package root and the response models; the rest of `bigcommerce/` is `_private`.
    public = ("b2bsync.bigcommerce", "b2bsync.bigcommerce.models")
    offenders = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in _all_imports()
        if _within(found.target, "bigcommerce")
        and not _within(found.module, "bigcommerce")
        and not any(found.target == p or found.target.startswith(f"{p}.") for p in public[1:])
        and found.target != public[0]
    ]
    assert offenders == []
