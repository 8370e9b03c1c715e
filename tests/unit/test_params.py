"""params.yaml's one source of defaults and descriptions: the typed model, its JSON schema, `params explain`."""

import json

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from accelops.cli import app
from accelops.config import GenerateParams, Params, params_schema
from accelops.errors import ConfigError
from accelops.params_doc import explain, key_docs
from helpers import REPO


def _sections(model: type[BaseModel], seen: set) -> None:
    """Every section model reachable from `model` (through optional, mapping and list fields)."""
    from accelops.params_doc import _section

    seen.add(model)
    for field in model.model_fields.values():
        inner, _ = _section(field.annotation)
        if inner is not None and inner not in seen:
            _sections(inner, seen)


def test_committed_schema_is_the_generated_one():
    committed = json.loads((REPO / "params.schema.json").read_text())
    assert committed == params_schema(), \
        "params.schema.json is stale: run `accelops params schema --out params.schema.json`"
    assert (REPO / "params.yaml").read_text().splitlines()[0] == "# yaml-language-server: $schema=params.schema.json"


def test_schema_describes_keys_and_forbids_unknown_ones():
    schema = params_schema()
    train = schema["$defs"]["TrainParams"]
    assert train["properties"]["lr"]["exclusiveMinimum"] == 0
    assert {"type": "integer", "exclusiveMinimum": 0} in train["properties"]["batch_size"]["anyOf"]
    assert "optimiser step" in train["properties"]["batch_size"]["description"]
    assert schema["required"] == ["dataset"]         # every other section has defaults (names from dataset.name)
    assert train["additionalProperties"] is False
    assert {"validate", "register"} <= set(schema["properties"]) and "root" not in schema["properties"]


def test_the_repo_params_meet_the_schema_and_a_typo_does_not():
    jsonschema = pytest.importorskip("jsonschema")          # installed with Great Expectations
    validator = jsonschema.Draft202012Validator(params_schema())
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    assert [e.message for e in validator.iter_errors(raw)] == []
    raw["train"]["batchsize"] = 256
    assert ["Additional properties are not allowed ('batchsize' was unexpected)"] == \
        [e.message for e in validator.iter_errors(raw)]


def test_every_field_of_every_section_has_a_description():
    models: set = set()
    _sections(Params, models)
    assert len(models) > 15
    missing = [f"{m.__name__}.{name}" for m in models for name, f in m.model_fields.items() if not f.description]
    assert missing == []
    assert [m.__name__ for m in models if not m.__doc__] == []


def test_explain_prints_type_default_value_and_description():
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    text = explain("train.batch_size", raw)
    lines = text.splitlines()
    assert lines[0] == "train.batch_size  int | null, > 0; default null"
    assert lines[1].startswith("    Rows per optimiser step (the global batch under torchrun); null = from the training rows")
    assert lines[2:] == [f"    params.yaml: {raw['train']['batch_size']}"]
    seed = explain("generate.seed", raw)
    assert "int; default 0" in seed and "Random seed" in seed and f"params.yaml: {raw['generate']['seed']}" in seed


def test_explain_a_section_lists_its_keys_and_names_mapping_entries():
    train = explain("train")
    assert train.startswith("train  section; default per key")
    listed = {line.split()[0] for line in train.splitlines() if line.startswith("train.")}
    fields = Params.model_fields["train"].annotation.model_fields
    assert {f"train.{k}" for k in fields if k != "distributed"} <= listed          # a nested section: its keys
    assert {k for k in listed if k.startswith("train.distributed.")} == {
        f"train.distributed.{k}" for k in fields["distributed"].annotation.model_fields}
    raw = {"features": {"views": {"customer_usage": {"ttl_days": 9}}}}
    view = explain("features.views.customer_usage.ttl_days", raw)
    assert view.splitlines()[0].startswith("features.views.customer_usage.ttl_days  int, > 0")
    assert view.endswith("params.yaml: 9")
    assert "not set (the default applies)" in explain("validate.max_rows", {"validate": {}})


def test_explain_without_a_key_lists_every_key():
    every = explain()
    assert every.count("\n\n") + 1 == len(key_docs())
    assert "register.gate.min_auc_gain  float; default 0.0" in every and "evaluate.directional[].delta" in every


def test_unknown_key_names_it_and_the_closest_keys():
    with pytest.raises(ConfigError, match=r"unknown params key 'train.batchsize': did you mean train.batch_size\?"):
        explain("train.batchsize")
    with pytest.raises(ConfigError, match="unknown params key 'nosuch': `accelops params explain` lists every key"):
        explain("nosuch")


def test_cli_explain_reads_the_given_params(tmp_path):
    res = CliRunner().invoke(app, ["params", "explain", "generate.seed", "--params", str(REPO / "params.yaml")])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0] == "generate.seed  int; default 0"


def _generated_seed(tmp_path, *args) -> int:
    out = tmp_path / "g.parquet"
    res = CliRunner().invoke(app, ["data", "generate", "--out", str(out), "--rows", "40", "--days", "2", *args])
    assert res.exit_code == 0, res.output
    return json.loads((tmp_path / "g.manifest.json").read_text())["seed"]


def test_data_generate_defaults_come_from_params(tmp_path, monkeypatch):
    yaml_seed = yaml.safe_load((REPO / "params.yaml").read_text())["generate"]["seed"]
    assert _generated_seed(tmp_path, "--params", str(REPO / "params.yaml")) == yaml_seed
    assert _generated_seed(tmp_path, "--params", str(REPO / "params.yaml"), "--seed", "11") == 11
    monkeypatch.chdir(tmp_path)                      # no params.yaml here: the model's defaults
    assert _generated_seed(tmp_path, "--start", "2026-06-01") == GenerateParams.model_fields["seed"].default


def test_data_generate_with_a_bad_option_names_the_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["data", "generate", "--out", str(tmp_path / "g.parquet"), "--rows", "0"])
    assert isinstance(res.exception, ConfigError)
    assert "generate.rows: Input should be greater than 0" in str(res.exception)
    assert not (tmp_path / "g.parquet").exists()
