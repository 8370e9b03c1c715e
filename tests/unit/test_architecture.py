"""Rules of the codebase: the import contracts in pyproject.toml hold (the library imports downward
only and never imports Prefect or accelops_flows, not even by name); importing the CLI does no heavy
work. Each rule is also shown to fail on a planted violation."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "accelops"
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))
ORCHESTRATION = {"prefect", "accelops_flows"}


PLANTED = {   # contract -> (file under src/, an appended import that breaks it and no other)
    "the library never imports Prefect nor the flows package": ("accelops/errors.py", "import prefect"),
    "library layers import downward only": ("accelops/config.py", "import accelops.pipeline"),
    "flows package: entry points > flows > tasks": ("accelops_flows/tasks.py", "import accelops_flows.training"),
}


def lint_imports(src: Path, cwd: Path) -> subprocess.CompletedProcess:
    """lint-imports over the packages under `src`, with the contracts in `cwd`/pyproject.toml."""
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=cwd, env={**os.environ, "PYTHONPATH": str(src)},
                          capture_output=True, text=True, timeout=120)


def broken(res: subprocess.CompletedProcess) -> list[str]:
    return [line.removesuffix(" BROKEN") for line in res.stdout.splitlines() if line.endswith(" BROKEN")]


def test_import_contracts_hold():
    res = lint_imports(ROOT / "src", ROOT)
    assert res.returncode == 0 and broken(res) == [], res.stdout + res.stderr
    assert res.stdout.count(" KEPT") == len(PLANTED)      # every contract ran (and has a planted test)


@pytest.mark.parametrize("contract", PLANTED)
def test_each_contract_fails_on_a_planted_violation(contract, tmp_path):
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    module, line = PLANTED[contract]
    with open(tmp_path / "src" / module, "a") as f:
        f.write(f"\n{line}\n")
    res = lint_imports(tmp_path / "src", tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    assert broken(res) == [contract], res.stdout
    assert module.removesuffix(".py").replace("/", ".") in res.stdout     # the offending import is named


def loads_by_name(package: Path) -> list[str]:
    """`importlib.import_module(...)` / `__import__(...)` calls that import-linter cannot see, as
    "file:line: name" for names of the orchestration side or names computed at run time."""
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and _loads_by_name(node.func)):
                continue
            arg = node.args[0] if node.args else None
            name = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
            if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant) \
                    and "." in arg.values[0].value:
                name = arg.values[0].value      # f"faker.providers.person.{locale}": the package is fixed
            if name is None or name.split(".")[0] in ORCHESTRATION:
                offenders.append(f"{path.relative_to(package)}:{node.lineno}: {name or 'computed name'}")
    return offenders


def _loads_by_name(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id in {"__import__", "import_module"}) or \
        (isinstance(func, ast.Attribute) and func.attr == "import_module")


def test_library_never_loads_the_orchestrator_by_name():
    assert loads_by_name(SRC) == []


def test_loads_by_name_are_seen(tmp_path):
    (tmp_path / "planted.py").write_text(
        "import importlib\nfrom importlib import import_module\n"
        "importlib.import_module('prefect')\nimport_module('accelops_flows.training')\n"
        "__import__('prefect.deployments')\nimportlib.import_module(NAME)\nimportlib.import_module('json')\n")
    assert loads_by_name(tmp_path) == ["planted.py:3: prefect", "planted.py:4: accelops_flows.training",
                                       "planted.py:5: prefect.deployments", "planted.py:6: computed name"]


def test_cli_import_is_light():
    code = ("import sys, accelops_flows.cli, accelops.config, accelops.pipeline.stages; "
            "print(sorted(m for m in ('torch','mlflow','feast','great_expectations','evidently','prefect') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
