import pytest

from accelops.config import load_params, parse_params
from accelops.errors import ConfigError
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


@pytest.mark.parametrize("mutate, key, problem", [
    (lambda r: r["train"].update(epochs=0), "train.epochs", "greater than 0"),
    (lambda r: r["train"].update(split=[0.5, 0.2, 0.2]), "train", "sum"),
    (lambda r: r["train"].update(epoch=3), "train.epoch", "Extra inputs"),
    (lambda r: r["dataset"].update(slices=["email"]), "dataset", "slices must be categorical"),
    (lambda r: r["dataset"].update(pii=["plan"]), "dataset", "PII columns can never be features"),
    (lambda r: r.pop("register"), "register", "Field required"),
    (lambda r: r["pii"].update(policy="encrypt"), "pii.policy", "'drop' or 'hash'"),
    (lambda r: r["features"]["views"]["customer_usage"]["features"].append("plan"), "<top>",
     "each feature belongs to one view; in several: ['plan']"),
    (lambda r: r["features"]["views"]["customer_usage"]["features"].remove("late_payments"), "<top>",
     "contract features in no view: ['late_payments']"),
    (lambda r: r["features"]["views"]["customer_usage"]["features"].append("email"), "<top>",
     "not contract features: ['email']"),
    (lambda r: r["features"]["views"]["customer_usage"].update(ttl_days=0), "features.views.customer_usage.ttl_days",
     "greater than 0"),
])
def test_invalid_params_name_the_key_and_the_problem(mutate, key, problem, tmp_path):
    raw = _raw()
    mutate(raw)
    with pytest.raises(ConfigError) as err:
        parse_params(raw, root=tmp_path, source="params.yaml")
    msg = str(err.value)
    assert msg.startswith("params.yaml: invalid parameters")
    assert f"  {key}" in msg and problem in msg, msg


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
