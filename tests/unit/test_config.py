import pytest

from accelops.config import load_params, parse_params
from accelops.errors import ConfigError
from accelops.pipeline.bad_inputs import PARAMS_CASES
from helpers import REPO


def test_repo_params_load_and_describe_the_contract():
    p = load_params(REPO / "params.yaml")
    assert p.dataset.entity_id == "customer_id"
    assert len(p.dataset.numeric_features) >= 12
    assert set(p.dataset.slices) <= set(p.dataset.categorical_features)
    assert p.layout.workdir == REPO / ".accelops"
    assert p.layout.history.is_absolute()


def _raw():
    import yaml

    return yaml.safe_load((REPO / "params.yaml").read_text())


# (what is wrong, how the demo's params.yaml is broken, the key the error names, what it says): the
# library's catalogue, also run by `accelops audit --bad-input` and bench/config_errors.py
CASES = PARAMS_CASES


@pytest.mark.parametrize("mutate, key, problem", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_params_name_the_key_and_the_problem(mutate, key, problem, tmp_path):
    raw = _raw()
    mutate(raw)
    with pytest.raises(ConfigError) as err:
        parse_params(raw, root=tmp_path, source="params.yaml")
    msg = str(err.value)
    assert msg.startswith("params.yaml: invalid parameters")
    assert f"  {key}" in msg and problem in msg, msg


def test_every_problem_is_reported_at_once_under_its_key(tmp_path):
    """Problems in several sections, field-level and cross-key, come in one error (a new user's four
    config round-trips become one)."""
    raw = _raw()
    raw["train"]["epochs"] = -1                                          # a field rule
    raw["dataset"]["slices"] = ["region", "tenure_months"]               # the contract's own consistency
    raw["dataset"]["numeric_features"]["tenure_months"] = [10, 1]
    raw["evaluate"]["sensitive"] = ["nosuch"]                            # keys naming columns
    raw["evaluate"]["invariance"]["columns"] = ["gone"]
    raw["features"]["windows"]["mean"] = ["plan"]
    with pytest.raises(ConfigError) as err:
        parse_params(raw, root=tmp_path, source="params.yaml")
    lines = str(err.value).splitlines()
    assert lines[0] == "params.yaml: invalid parameters:"
    keys = [line.split(":")[0].strip() for line in lines[1:]]
    assert keys == ["dataset.slices", "dataset.numeric_features.tenure_months", "train.epochs",
                    "evaluate.sensitive", "evaluate.invariance.columns", "features.windows.mean"], lines


def test_missing_paths_are_named_before_anything_runs(tmp_path):
    import yaml

    raw = _raw()
    raw["paths"] = {"workdir": str(tmp_path / "work"), "feature_repo": "no_such_repo",
                    "reference": "data/missing.parquet"}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as err:
        load_params(tmp_path / "params.yaml")
    msg = str(err.value)
    assert f"paths.feature_repo: {tmp_path / 'no_such_repo'} does not exist" in msg
    assert f"paths.reference: {tmp_path / 'data' / 'missing.parquet'} does not exist" in msg
    assert not (tmp_path / "work").exists()                             # nothing was written


def test_model_dataset_adds_the_windowed_aggregates_with_bounds(tmp_path):
    raw = _raw()
    p = parse_params(raw, root=tmp_path)
    m = p.model_contract
    assert m.feature_columns[:len(p.dataset.numeric_features)] == list(p.dataset.numeric_features)
    assert set(m.numeric_features) - set(p.dataset.numeric_features) == set(p.features.windows.columns())
    assert m.numeric_features["events_7d"] == (0.0, None)
    assert m.numeric_features["support_tickets_mean_30d"] == p.dataset.numeric_features["support_tickets"]
    assert m.categorical_features == p.dataset.categorical_features
    raw["features"]["windows"] = None
    raw["features"]["views"].pop("customer_usage_windows")
    off = parse_params(raw, root=tmp_path)
    assert off.model_contract == off.dataset


def test_missing_or_malformed_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "p.yaml"
    bad.write_text("train: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(bad)


def test_workdir_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("ACCELOPS_WORKDIR", str(tmp_path / "w"))
    assert load_params(REPO / "params.yaml").layout.workdir == tmp_path / "w"


def test_third_party_chatter_goes_to_the_tools_log_not_the_console(tmp_path, capsys):
    import logging
    import warnings

    from accelops.runtime import route_tool_logs

    log = tmp_path / "logs" / "tools.log"
    logging.captureWarnings(False)                   # an earlier configure in this process may hold it
    try:
        with warnings.catch_warnings():          # pytest records warnings itself; route them here instead
            warnings.simplefilter("always")
            route_tool_logs(log)
            logging.getLogger("great_expectations._docs_decorators").info("Skipping registering function x")
            warnings.warn("a library's deprecation", FutureWarning)
        logging.getLogger("accelops.stages").warning("our own progress")
        for h in logging.getLogger("great_expectations").handlers:
            h.flush()
        text = log.read_text()
        assert "Skipping registering function x" in text and "a library's deprecation" in text
        assert "our own progress" not in text
        assert "Skipping registering" not in capsys.readouterr().err
    finally:
        logging.captureWarnings(False)


def test_names_and_the_feature_view_default_from_the_dataset(tmp_path):
    """A user's own table needs no Feast or MLflow names and no view list: they derive from dataset.name,
    and nothing of the demo's churn setup leaks in; keys given explicitly win."""
    raw = _raw()
    raw["dataset"]["name"] = "Heart Survey 2026"
    del raw["register"]["experiment"], raw["register"]["model_name"]
    for key in ("project", "entity", "feature_service", "views"):
        del raw["features"][key]
    p = parse_params(raw, root=tmp_path)
    assert (p.features.project, p.features.entity, p.features.feature_service) == \
        ("heart_survey_2026", "customer_id", "heart_survey_2026_model_v1")
    assert (p.register_.experiment, p.register_.model_name) == ("accelops-heart_survey_2026",
                                                               "heart-survey-2026-classifier")
    (view,) = p.features.views.values()
    assert list(p.features.views) == ["heart_survey_2026_features"]
    assert sorted(view.features) == sorted(p.model_contract.feature_columns)   # every feature and aggregate, once
    assert len(view.features) == len(set(view.features))
    assert "churn" not in str(p.model_dump(by_alias=True, exclude={"dataset", "generate", "monitor"}))
    raw["register"]["model_name"] = "mine"
    assert parse_params(raw, root=tmp_path).register_.model_name == "mine"


def test_a_params_file_of_only_the_contract_runs_on_generic_defaults(tmp_path):
    """Every section but `dataset` has defaults; names derive from dataset.name and the Feast
    definitions default to accelops' own (no feature_repo folder needed); sizes follow the data."""
    (tmp_path / "params.yaml").write_text(
        "dataset:\n  name: Loans 2024\n  entity_id: loan_id\n  timestamp: opened\n  label: defaulted\n"
        "  numeric_features: {amount: [0, null]}\n  categorical_features: {grade: [A, B]}\n")
    p = load_params(tmp_path / "params.yaml")
    assert (p.features.project, p.features.feature_service, p.register_.model_name, p.register_.experiment) == \
        ("loans_2024", "loans_2024_model_v1", "loans-2024-classifier", "accelops-loans_2024")
    assert p.layout.feature_repo is None and list(p.features.views) == ["loans_2024_features"]
    assert p.train.batch_size is None and p.train.epochs is None and p.validate_.label_folds is None
    assert p.features.windows is None and p.evaluate.directional == [] and p.evaluate.invariance.columns == []


def test_the_server_profile_names_every_embedded_backend_at_once(tmp_path):
    raw = _raw()
    raw["profile"] = "server"
    with pytest.raises(ConfigError) as err:
        parse_params(raw, root=tmp_path, source="params.yaml")
    keys = [line.split(":")[0].strip() for line in str(err.value).splitlines()[1:]]
    assert keys == ["register.tracking_uri", "features.registry", "features.online_store", "monitor.ledger_url"]
    raw["register"]["tracking_uri"] = "http://127.0.0.1:5000"
    raw["features"].update(registry="postgresql+psycopg://accelops@127.0.0.1:5432/feast", online_store="redis")
    raw["monitor"]["ledger_url"] = "postgresql+psycopg://accelops@127.0.0.1:5432/ledger"
    assert parse_params(raw, root=tmp_path).profile == "server"


def test_torchrun_across_hosts_needs_a_rendezvous_and_one_process_means_no_torchrun(tmp_path):
    raw = _raw()
    assert not parse_params(raw, root=tmp_path).train.distributed.enabled          # the default: in process
    raw["train"]["distributed"] = {"nproc_per_node": 2}
    assert parse_params(raw, root=tmp_path).train.distributed.enabled
    raw["train"]["distributed"] = {"nnodes": 2}
    with pytest.raises(ConfigError, match=r"train\.distributed(.|\n)*nnodes 2 needs rdzv_endpoint"):
        parse_params(raw, root=tmp_path)
    raw["train"]["distributed"] = {"nnodes": 2, "rdzv_endpoint": "10.0.0.5:29400"}
    assert parse_params(raw, root=tmp_path).train.distributed.rdzv_id == "accelops"
