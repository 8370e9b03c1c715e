import numpy as np
import pandas as pd
import pytest

from accelops.data.generator import SCENARIOS, UnknownScenario, _sigmoid, churn_logit, generate, write

ARGS = dict(rows=6000, days=30, start="2026-06-01", seed=11)


@pytest.fixture(scope="module")
def base():
    return generate(**ARGS).frame


def test_deterministic_for_a_seed_and_different_across_seeds(base):
    pd.testing.assert_frame_equal(base, generate(**ARGS).frame)
    other = generate(**{**ARGS, "seed": 12}).frame
    assert not other["monthly_charges"].equals(base["monthly_charges"])


def test_schema_keys_and_realism(base):
    assert len(base) == 6000
    assert not base.duplicated(["customer_id", "event_timestamp"]).any()
    assert base["event_timestamp"].is_monotonic_increasing
    assert str(base["event_timestamp"].dt.tz) == "UTC"
    numeric = base.select_dtypes("number").drop(columns=["customer_id", "churned"])
    assert numeric.shape[1] >= 12
    assert (numeric >= 0).all().all()
    # correlated by construction: total charges follow tenure x monthly charges; engagement drives usage
    assert base["total_charges"].corr(base["tenure_months"] * base["monthly_charges"]) > 0.95
    assert base["sessions_last_30d"].corr(base["calls_per_month"]) > 0.3
    assert base["email"].str.contains("@").all() and base["phone"].str.startswith("+").all()
    assert 0.05 < base["churned"].mean() < 0.35


def test_label_follows_the_documented_function(base):
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(base["churned"], _sigmoid(churn_logit(base))) > 0.75


def test_unknown_scenario_is_rejected():
    with pytest.raises(UnknownScenario, match="choose one of"):
        generate(**ARGS, scenario="meteor")


def test_covariate_shift_moves_declared_columns(base):
    g = generate(**ARGS, scenario="covariate_shift")
    ratio = g.frame["monthly_charges"].mean() / base["monthly_charges"].mean()
    assert ratio == pytest.approx(g.manifest["injected"]["monthly_charges"]["amount"], rel=0.02)
    assert g.frame["support_tickets"].mean() - base["support_tickets"].mean() == pytest.approx(1.0, abs=0.01)
    assert g.frame["region"].equals(base["region"])


def test_slice_shift_only_touches_its_slice(base):
    g = generate(**ARGS, scenario="slice_shift")
    north = (base["region"] == "north").to_numpy()
    assert g.manifest["where"] == {"slice": {"region": "north"}, "rows": int(north.sum())}
    cols = list(g.manifest["injected"])
    pd.testing.assert_frame_equal(g.frame.loc[~north, cols], base.loc[~north, cols])
    assert (g.frame.loc[north, "monthly_charges"] > base.loc[north, "monthly_charges"]).all()


def test_new_category_and_missing_spike(base):
    g = generate(**ARGS, scenario="new_category")
    share = (g.frame["channel"] == "marketplace").mean()
    assert share == pytest.approx(0.15, abs=0.02)
    assert g.manifest["injected"]["channel"]["rows"] == (g.frame["channel"] == "marketplace").sum()
    m = generate(**ARGS, scenario="missing_spike")
    for col, info in m.manifest["injected"].items():
        assert m.frame[col].isna().sum() == info["rows"]
        assert m.frame[col].isna().mean() == pytest.approx(0.3, abs=0.03)
    assert base.isna().sum().sum() == 0


def test_concept_drift_changes_labels_not_features(base):
    from sklearn.metrics import roc_auc_score

    g = generate(**ARGS, scenario="concept_drift")
    features = [c for c in base.columns if c != "churned"]
    pd.testing.assert_frame_equal(g.frame[features], base[features])
    old_rule = _sigmoid(churn_logit(base))
    assert roc_auc_score(g.frame["churned"], old_rule) < roc_auc_score(base["churned"], old_rule) - 0.03


def test_label_noise_manifest_is_the_ground_truth(base):
    g = generate(**ARGS, scenario="label_noise")
    flipped = np.asarray(g.manifest["flipped_rows"])
    changed = np.flatnonzero(g.frame["churned"].to_numpy() != base["churned"].to_numpy())
    np.testing.assert_array_equal(changed, flipped)
    assert len(flipped) / len(base) == pytest.approx(0.05, abs=0.01)


def test_every_scenario_writes_parquet_and_manifest(tmp_path):
    import json

    for scenario in SCENARIOS:
        data, manifest = write(generate(500, 5, "2026-06-01", 1, scenario), tmp_path / f"{scenario}.parquet")
        assert len(pd.read_parquet(data)) == 500
        assert json.loads(manifest.read_text())["scenario"] == scenario
