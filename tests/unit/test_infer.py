"""`accelops init`'s profiler (accelops.data.infer) on real public tables shipped in installed packages
(scikit-learn's breast cancer, statsmodels' fair affairs) and a hand-built customer table: the roles it
proposes, and a params.yaml that parses back into a valid dataset contract."""

import numpy as np
import pandas as pd
import pytest
import yaml

from accelops.config import Contract
from accelops.data.infer import Proposal, dataset_name, propose, render_params
from accelops.errors import ConfigError
from accelops.validation.pii_scan import scan


def contract_of(text: str) -> Contract:
    """The rendered `dataset` section as a Contract."""
    return Contract.model_validate(yaml.safe_load(text)["dataset"])


def assert_ranges_hold(p: Proposal) -> None:
    assert set(p.numeric) == set(p.observed)
    for col, (lo, hi) in p.numeric.items():
        seen_lo, seen_hi = p.observed[col]
        assert lo <= seen_lo <= seen_hi <= hi, col
        assert (lo == 0) == (seen_lo >= 0), col


@pytest.fixture(scope="module")
def breast_cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame          # 30 numeric features + target (0/1)


@pytest.fixture(scope="module")
def fair() -> pd.DataFrame:
    from statsmodels.datasets import fair

    df = fair.load_pandas().data
    return df.assign(affairs=(df["affairs"] > 0).astype(int))


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 600
    words = "billing cycle upgrade options router modem outage refund invoice portal slow fast".split()
    return pd.DataFrame({
        "customer_id": np.repeat(np.arange(1000, 1200), 3),                    # 200 customers, 3 rows each
        "account_id": [f"C-{i:04d}" for i in range(n)],                        # string id: not the key
        "signup_date": pd.date_range("2025-01-01", periods=n, freq="6h").strftime("%Y-%m-%d %H:%M"),
        "plan": rng.choice(["basic", "standard", "premium"], n),
        "answer": rng.choice(["yes", "no", "on", "1"], n),                     # values YAML would misread
        "monthly_spend": rng.gamma(2.0, 30.0, n).round(2),
        "balance: net #1": rng.normal(0, 100, n),                              # negative; a key to quote
        "contact": [f"user{i}@example.com" for i in range(n)],                 # email: caught by the scan
        "notes": [" ".join(rng.choice(words, 8)) for _ in range(n)],           # free text
        "source_system": "crm",                                                # constant
        "is_active": rng.random(n) < 0.7,
        "response": np.where(rng.random(n) < 0.7, "yes", "no"),                # the label, "yes" positive though commoner
    })


def test_breast_cancer_all_numeric_without_keys(breast_cancer):
    p = propose(breast_cancer, "data/Breast Cancer.csv", pii_scan=scan)
    assert (p.name, p.rows, p.label, p.positive_label) == ("breast_cancer", 569, "target", 1)
    assert (p.entity_id, p.timestamp, p.derive_keys) == ("row_id", "ingested_at", ["entity_id", "timestamp"])
    assert len(p.numeric) == 30 and p.categorical == {} and p.slices == [] and p.pii == p.text == []
    assert_ranges_hold(p)
    assert set(p.guessed) == {"label"} and any("row_id" in n for n in p.notes)
    assert any("ingestion time" in n and "random, stratified" in n for n in p.notes)
    text = render_params(p, "data/raw/breast_cancer.parquet")
    assert yaml.safe_load(text)["paths"] == {"history": "data/raw/breast_cancer.parquet"}
    contract = contract_of(text)
    assert contract.label == "target" and set(contract.numeric_features) == set(p.numeric)
    assert "# check" in next(line for line in text.splitlines() if line.strip().startswith("label:"))


def test_fair_affairs_coded_categories_and_slices(fair):
    p = propose(fair, "fair.csv", pii_scan=scan)
    assert (p.label, p.positive_label, p.derive_keys) == ("affairs", 1, ["entity_id", "timestamp"])
    coded = {"rate_marriage", "religious", "educ", "occupation", "occupation_husb"}
    assert set(p.categorical) == set(p.coded) == coded
    assert set(p.numeric) == {"age", "yrs_married", "children"}          # 17.5, 2.5, 5.5: not whole numbers
    assert p.categorical["occupation"] == ["1", "2", "3", "4", "5", "6"]
    assert any("coded as categories" in n and "occupation" in n for n in p.notes)
    assert p.slices == ["religious", "rate_marriage", "educ", "occupation"]  # fewest values first, at most 4
    assert_ranges_hold(p)
    text = render_params(p, "history.parquet")
    contract = contract_of(text)
    assert contract.categorical_features["educ"] == p.categorical["educ"]      # strings, not numbers
    assert "# check" in next(line for line in text.splitlines() if line.strip().startswith("occupation:"))


def test_customer_table_roles(customers):
    p = propose(customers, "exports/Customer-Churn 2025.csv", pii_scan=scan)
    assert p.name == "customer_churn_2025"
    assert (p.entity_id, p.timestamp, p.derive_keys) == ("customer_id", "signup_date", [])
    assert (p.label, p.positive_label) == ("response", "yes")
    assert any("'yes' of 'no'/'yes' reads as the positive answer" in n and "dataset.positive_label" in n for n in p.notes)
    assert p.pii == ["contact"] and p.text == ["notes"]
    assert p.ignored["source_system"] == "constant"
    assert p.ignored["account_id"].startswith("identifier (not integer")
    assert set(p.numeric) == {"monthly_spend", "balance: net #1"} and p.coded == []
    assert p.categorical == {"plan": ["basic", "premium", "standard"], "answer": ["1", "no", "on", "yes"],
                             "is_active": ["False", "True"]}
    assert p.numeric["balance: net #1"][0] < p.observed["balance: net #1"][0] < 0
    assert_ranges_hold(p)
    assert set(p.slices) == {"plan", "answer", "is_active"} and p.slices[0] == "is_active"
    assert set(p.guessed) == {"label", "entity_id", "timestamp", "positive_label"}


def test_customer_params_round_trip(customers):
    p = propose(customers, "customers.csv", pii_scan=scan)
    text = render_params(p, "data/raw/customers.parquet")
    doc = yaml.safe_load(text)
    assert set(doc) == {"paths", "dataset"}
    ds = doc["dataset"]
    assert "derive_keys" not in ds and ds["positive_label"] == "yes"
    assert ds["categorical_features"]["answer"] == ["1", "no", "on", "yes"]      # quoted, still strings
    assert ds["numeric_features"]["balance: net #1"] == list(p.numeric["balance: net #1"])
    contract = contract_of(text)
    assert (contract.entity_id, contract.timestamp, contract.label) == ("customer_id", "signup_date", "response")
    assert contract.pii == ["contact"] and contract.text == ["notes"] and contract.slices == p.slices
    lines = {ln.split(":")[0].strip(): ln for ln in text.splitlines() if not ln.startswith("#")}
    for key in ("label", "entity_id", "timestamp", "positive_label"):
        assert "# check" in lines[key], key
    assert "#   source_system: constant" in text and text.startswith("# Written by `accelops init` from")
    if "derive_keys" in Contract.model_fields:
        assert contract.positive_label == "yes"


def test_given_keys_are_not_marked_check(customers):
    p = propose(customers, "c.csv", label="response", entity_id="customer_id", timestamp="signup_date")
    assert p.guessed == ["positive_label"]
    lines = {ln.split(":")[0].strip(): ln for ln in render_params(p, "h.parquet").splitlines()}
    assert all("# check" not in lines[k] for k in ("label", "entity_id", "timestamp"))
    assert p.pii == [] and "contact" in p.ignored          # no scan passed: names only, and the note says so
    assert any("scan was not run" in n for n in p.notes)


def test_ambiguous_label_raises_or_asks():
    df = pd.DataFrame({"target": [0, 1] * 50, "class": ["a", "b"] * 50, "x": np.arange(100) * 1.5})
    with pytest.raises(ConfigError) as err:
        propose(df, "twins.csv")
    assert all(s in str(err.value) for s in ("twins.csv", "target", "class", "--label"))
    asked = []

    def ask(question: str, candidates: list[str]) -> str:
        asked.append((question, candidates))
        return "class"

    p = propose(df, "twins.csv", ask=ask)
    assert p.label == "class" and p.positive_label == "b" and asked[0][1] == ["target", "class"]
    assert "label" in p.guessed


def test_bad_given_keys_raise():
    df = pd.DataFrame({"grade": ["a", "b", "c"] * 40, "ref_id": [f"r{i}" for i in range(120)],
                       "y": [0, 1] * 60, "x": np.linspace(0, 1, 120)})
    with pytest.raises(ConfigError, match=r"f\.csv: column 'grade'.*exactly two values; found 3: \['a', 'b', 'c'\]"):
        propose(df, "f.csv", label="grade")
    with pytest.raises(ConfigError, match=r"f\.csv: column 'ref_id'.*--id.*integer"):
        propose(df, "f.csv", entity_id="ref_id")
    with pytest.raises(ConfigError, match=r"f\.csv: no column 'nope' \(--label\)"):
        propose(df, "f.csv", label="nope")
    with pytest.raises(ConfigError, match=r"f\.csv: column 'x'.*--timestamp"):
        propose(df, "f.csv", timestamp="x")


def test_numeric_label_and_names():
    df = pd.DataFrame({"outcome": [1, 2, 2, 2] * 30, "x": np.arange(120.0) ** 2, "when": pd.date_range(
        "2025-01-01", periods=120, freq="D"), "created_at": pd.date_range("2024-01-01", periods=120, freq="D")})
    p = propose(df, "a.parquet")
    assert p.positive_label == 2 and any("the larger of 1/2" in n for n in p.notes)
    assert p.timestamp == "when" and p.ignored["created_at"] == "a second time column"
    assert dataset_name("/x/2024 Sales.data.csv.gz") == "data_2024_sales_data"
    assert dataset_name("CreditDefault.parquet") == "credit_default"


def test_init_writes_params_that_load_and_refuses_to_overwrite(tmp_path, breast_cancer):
    from typer.testing import CliRunner

    from accelops.cli import app
    from accelops.config import load_params

    data = tmp_path / "data" / "Breast Cancer.csv"
    data.parent.mkdir()
    breast_cancer.rename(columns={"target": "benign"}).to_csv(data, index=False)
    out = tmp_path / "project" / "params.yaml"
    res = CliRunner().invoke(app, ["init", "--data", str(data), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "label          benign  (guessed: the only two-valued column)" in res.output
    assert "entity_id      row_id  (made:" in res.output and f"wrote {out}" in res.output
    params = load_params(out)
    assert params.layout.history.resolve() == data.resolve() and yaml.safe_load(out.read_text())["paths"]["history"] == \
        "../data/Breast Cancer.csv"
    assert params.register_.model_name == "breast-cancer-classifier" and len(params.dataset.numeric_features) == 30
    again = CliRunner().invoke(app, ["init", "--data", str(data), "--out", str(out)])
    assert isinstance(again.exception, ConfigError) and "already exists (--force overwrites it" in str(again.exception)
    two = breast_cancer.rename(columns={"target": "benign"}).assign(flag=breast_cancer["target"].map({0: "a", 1: "b"}).sample(frac=1, random_state=0).values)
    two.to_csv(tmp_path / "two.csv", index=False)
    res = CliRunner().invoke(app, ["init", "--data", str(tmp_path / "two.csv"), "--out", str(tmp_path / "p2.yaml")])
    assert isinstance(res.exception, ConfigError) and "pass --label COLUMN" in str(res.exception)
    assert not (tmp_path / "p2.yaml").exists()


def test_zero_based_integers_stay_numeric_and_codes_from_one_become_categories():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"tickets": rng.integers(0, 6, 400), "grade": rng.integers(1, 5, 400),
                       "flag": rng.integers(0, 2, 400), "y": rng.integers(0, 2, 400)})
    p = propose(df, "t.csv", label="y")
    assert "tickets" in p.numeric and p.categorical["grade"] == ["1", "2", "3", "4"] and "grade" in p.coded
    assert p.categorical["flag"] == ["0", "1"]
