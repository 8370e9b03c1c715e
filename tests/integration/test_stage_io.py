"""dvc.yaml is the rendering of the stage catalogue, and the catalogue is what the stages really do:
every stage runs under a file tracer and a params recorder, and any undeclared read, write or
params key (or a declaration never used) fails the test. So `dvc repro` cannot call a stale stage
up to date."""

import json

import pytest

from accelops.pipeline import stages
from accelops.pipeline.catalogue import STAGE_IO, render_dvc_yaml
from helpers import REPO, write_params
from stage_trace import FileTracer, ParamsRecorder, compare

pytestmark = pytest.mark.slow


def test_dvc_yaml_is_the_rendered_catalogue():
    from accelops.config import load_params

    committed = (REPO / "dvc.yaml").read_text()
    assert committed == render_dvc_yaml(load_params(REPO / "params.yaml")), \
        "dvc.yaml is stale: run `accelops dvc-yaml --write`"
    assert list(STAGE_IO) == ["generate", *stages.TRAINING_STAGES]


def test_every_params_key_dvc_yaml_names_is_written_in_params_yaml():
    """DVC refuses to run a stage whose params key params.yaml leaves to its default (a new key with a
    default must also be written in params.yaml)."""
    import yaml

    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    dvc = yaml.safe_load((REPO / "dvc.yaml").read_text())
    missing = []
    for name, stage in dvc["stages"].items():
        for entry in stage.get("params", []):
            for key in ([entry] if isinstance(entry, str) else [k for v in entry.values() for k in v]):
                node = raw
                for part in key.split("."):
                    if not isinstance(node, dict) or part not in node:
                        missing.append(f"{name}: {key}")
                        break
                    node = node[part]
    assert missing == []


def _traced(params, tracer, name, fn):
    seen: set[str] = set()
    tracer.start()
    fn(ParamsRecorder(params, seen))
    read, written = tracer.stop()
    return compare(name, STAGE_IO[name], params.layout, read, written, seen)


def test_every_stage_touches_exactly_what_it_declares(tmp_path):
    from accelops.config import load_params

    params = load_params(write_params(tmp_path))
    tracer = FileTracer([tmp_path, params.layout.feature_repo])
    problems = []
    try:
        for name in ("generate", *stages.TRAINING_STAGES):
            problems += _traced(params, tracer, name, stages.STAGES[name])
    finally:
        tracer.close()
    assert problems == [], "\n".join(problems)


def test_the_check_fails_on_planted_violations(tmp_path):
    """A stage that reads an undeclared file and params key, writes an undeclared file, and leaves a
    declared dependency and output untouched is caught on each count."""
    from accelops.config import load_params

    params = load_params(write_params(tmp_path))
    lay = params.layout
    lay.reports.mkdir(parents=True)
    lay.metrics_file.write_text("{}")                      # undeclared input
    lay.validation_report.write_text("{}")                 # declared input, never read

    def planted(p):
        json.loads(p.layout.metrics_file.read_text())
        _ = p.train.epochs                                 # undeclared params key
        p.layout.registration_file.write_text("{}")        # undeclared output
        p.layout.materialize_report.write_text("{}")       # the one declared output... written

    io = STAGE_IO["materialize"].__class__(params=("features",), deps=("validation_report",),
                                            reports=("materialize_report", "feature_stats"))
    tracer = FileTracer([tmp_path])
    try:
        seen: set[str] = set()
        tracer.start()
        planted(ParamsRecorder(params, seen))
        read, written = tracer.stop()
    finally:
        tracer.close()
    problems = "\n".join(compare("planted", io, lay, read, written, seen))
    assert "reads " + str(lay.metrics_file.resolve()) in problems and "(metrics_file), not declared" in problems
    assert "writes " + str(lay.registration_file.resolve()) in problems
    assert "reads params key train.epochs, not declared" in problems
    assert "declares params key features but never reads it" in problems
    assert "declares dependency validation_report but never reads it" in problems
    assert "declares output feature_stats but never writes it" in problems
    assert "materialize_report" not in problems
