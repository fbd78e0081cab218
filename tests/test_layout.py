"""The shape of the test tree: it mirrors the code's, and what tests share lives in
tests/support, so no test module imports another (or a conftest)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent

# The packages whose tests live in tests/<package>/.
PACKAGES = (
    "core",
    "workflows",
    "config_store",
    "docsearch",
    "activities",
    "temporal",
    "services",
    "api",
    "orch",
)
# Test directories that mirror no package, and why.
NAMED_EXCEPTIONS = {
    "e2e": "the product from outside: HTTP, the CLI, a browser",
    "drills": "long runs and crash drills: the product's promises under load and failure",
    "deploy": "the Dockerfile, docker-compose.yml and their setup scripts",
    "support": "fixtures and helpers the tests share",
    "fakes": "real servers that stand in for outside services",
    "histories": "recorded workflow histories, replayed by tests/workflows/test_replay.py",
    "bench": "smoke runs of the benchmarks in bench/, so that they cannot rot",
}
# Directly in tests/: the checks of the whole tree (this layout, the import contracts).
TOP_LEVEL_FILES = {"__init__.py", "conftest.py", "test_layout.py", "test_contracts.py"}


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def _is_test_module(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "tests" and (parts[-1].startswith("test_") or parts[-1] == "conftest")


def imported_test_modules(source: str, module: str) -> list[str]:
    """The test modules (and conftests) that `module`, whose code is `source`, imports."""
    package = module.split(".")[:-1]
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            names = [origin, *(f"{origin}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.extend(name for name in names if _is_test_module(name))
    return found


def _python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_test_module_imports_another() -> None:
    offences = {
        str(path.relative_to(REPO)): imported
        for path in _python_files()
        if (imported := imported_test_modules(path.read_text(), _module_name(path)))
    }
    assert offences == {}, "move what they share into tests/support"


def test_the_import_check_sees_every_form() -> None:
    module = "tests.e2e.test_new"
    assert imported_test_modules("from tests.e2e.test_cli import orch", module)
    assert imported_test_modules("from tests.e2e import test_cli", module)
    assert imported_test_modules("from .test_cli import orch", module)
    assert imported_test_modules("from ..workflows import conftest", module)
    assert imported_test_modules("def f():\n    import tests.e2e.test_cli\n", module)
    assert not imported_test_modules("from tests.support.cli import orch", module)
    assert not imported_test_modules("from tests.fakes import FakeProviderServer", module)


def test_every_test_directory_mirrors_a_package() -> None:
    strays = []
    for directory in sorted(p for p in TESTS.rglob("*") if p.is_dir()):
        parts = directory.relative_to(TESTS).parts
        if "__pycache__" in parts or any(part.startswith(".") for part in parts):
            continue
        if parts[0] in NAMED_EXCEPTIONS:
            continue
        if parts[0] not in PACKAGES or not (REPO.joinpath(*parts) / "__init__.py").is_file():
            strays.append("/".join(parts))
    assert strays == [], "tests/<dir> must mirror a package (or be one of NAMED_EXCEPTIONS)"
    missing = [name for name in PACKAGES if not (TESTS / name).is_dir()]
    assert missing == [], "every package has its tests under tests/<package>/"


def test_no_test_module_sits_outside_the_tree() -> None:
    top = {p.name for p in TESTS.glob("*.py")}
    assert top <= TOP_LEVEL_FILES, sorted(top - TOP_LEVEL_FILES)
