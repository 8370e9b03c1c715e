"""Rules of the codebase: the library never imports Prefect; importing accelops does no heavy work."""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "accelops"


def test_library_never_imports_prefect():
    offenders = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in {"prefect", "accelops_flows"}]
    assert offenders == []


def test_cli_import_is_light():
    code = ("import sys, accelops_flows.cli, accelops.config, accelops.pipeline.stages; "
            "print(sorted(m for m in ('torch','mlflow','feast','great_expectations','evidently','prefect') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
