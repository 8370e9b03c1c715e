"""The config-error catalogue: every bad-params case of tests/unit/test_config.py applied to the demo's
params.yaml, each loaded as `accelops` loads it, with the message the user sees.

    python bench/config_errors.py

Each broken file sits in its own folder with its own workdir; after the error, the workdir must not
exist (nothing ran, nothing was written). Then all the cases' field and column problems together in
one file: one error listing each under its key. Writes bench/results/config_errors.md and .json.
"""

from __future__ import annotations

import copy
import sys
import tempfile
from pathlib import Path

import yaml

from _results import RESULTS, emit

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    from accelops.pipeline.bad_inputs import PARAMS_CASES as CASES

    from accelops.config import load_params
    from accelops.errors import ConfigError

    demo = yaml.safe_load((REPO / "params.yaml").read_text())
    tmp = Path(tempfile.mkdtemp(prefix="accelops-config-"))
    rows, caught, clean = [], 0, 0
    for i, (what, mutate, key, problem) in enumerate(CASES):
        raw = copy.deepcopy(demo)
        mutate(raw)
        folder = tmp / f"case{i:02d}"
        folder.mkdir()
        raw.setdefault("paths", {})
        if isinstance(raw["paths"], dict):
            raw["paths"] = {**raw["paths"], "workdir": str(folder / "work"), "feature_repo": str(REPO / "feature_repo")}
        (folder / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
        try:
            load_params(folder / "params.yaml")
            message = "(accepted)"
        except ConfigError as exc:
            message = str(exc).split("\n", 1)[1].strip() if "\n" in str(exc) else str(exc)
            caught += key in message and problem in message
        clean += not (folder / "work").exists()
        rows.append({"case": what, "key": key, "message": message})
    md = ["# Config-error catalogue", "", f"{len(CASES)} broken params files (the demo's params.yaml with one "
          f"thing wrong): {caught} named the key and the problem, {clean} left no workdir behind.", "",
          "| case | key | message |", "|---|---|---|"]
    md += [f"| {r['case']} | `{r['key']}` | {r['message'].replace('|', '/').replace(chr(10) + '  ', '<br>')} |" for r in rows]
    print("\n".join(md))
    (RESULTS / "config_errors.md").write_text("\n".join(md) + "\n")
    emit("config_errors", {"bench": "config_errors", "cases": len(CASES), "named_key_and_problem": caught,
                           "nothing_written": clean, "rows": rows,
                           "meets_target": caught == clean == len(CASES)})
    return 0 if caught == clean == len(CASES) else 1


if __name__ == "__main__":
    sys.exit(main())
