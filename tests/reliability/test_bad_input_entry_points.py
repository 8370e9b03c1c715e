"""The bad-input catalogue's CLI, predict-id and label-file entry points (accelops.pipeline.bad_inputs,
also run by `accelops audit --bad-input`): each case stops with a typed error (or, for the console
script, exit 2 and one `error: ...` line) naming the file or argument, the column and the rule, and
writes nothing; the clean input of each is accepted."""

import json
import subprocess
import time

import numpy as np
import pandas as pd
import pytest

from accelops.errors import DataFormatError, EntityIdError
from accelops.pipeline.bad_inputs import (ACCELOPS, CLI_CASES, LABEL_CASES, NEEDS_TRAINED, PREDICT_CASES, cli_case,
                                          run_cli, run_labels, run_predict, serving_ready)
from helpers import copy_project


def _report(rows):
    return "\n".join(f"{r['case']}: {r.get('message', r.get('why'))}" for r in rows)


def test_bad_cli_arguments_exit_2_with_one_line_naming_them_and_write_nothing(tmp_path, params_path):
    started = time.perf_counter()
    rows, clean = run_cli(params_path, tmp_path / "cli")
    seconds = time.perf_counter() - started
    assert clean is True, clean                                   # `accelops --help` exits 0
    tried = [r for r in rows if r["applies"]]
    assert [r["case"] for r in rows if not r["applies"]] == ["rollback to a version that does not exist"]
    assert all(r["why"] == NEEDS_TRAINED for r in rows if not r["applies"])
    assert len(tried) == len(CLI_CASES) - 1 >= 10
    assert all(r["rejected"] for r in tried), _report([r for r in tried if not r["rejected"]])
    for row in tried:                                             # the typed error's name or UsageError, first
        assert row["message"].startswith("exit 2: error: "), row
        assert all(f in row["message"] for f in CLI_CASES[row["case"]][2]), row
    assert seconds < 60, f"{seconds:.1f} s for {len(tried)} invocations (4 at a time)"


def test_a_usage_error_is_one_line_and_a_command_s_own_exit_code_is_kept(tmp_path, params_path):
    res = subprocess.run([str(ACCELOPS), "run", "nightly"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr == ("error: UsageError: accelops run: No such command 'nightly'. "
                                                  "(see accelops run --help)\n"), res.stderr
    helped = subprocess.run([str(ACCELOPS), "run"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert helped.returncode == 2 and "Usage" in helped.stdout + helped.stderr      # a group alone: its help
    assert "Traceback" not in helped.stderr
    from accelops.data.generator import generate

    rejected = tmp_path / "rejected.parquet"                      # validate's own exit 1 (typer.Exit) survives
    generate(300, 5, "2026-06-01", seed=2).frame.assign(churned=7).to_parquet(rejected)
    res = subprocess.run([str(ACCELOPS), "validate", str(rejected), "--params", str(params_path)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 1 and "column churned: expect_column_values_to_be_in_set" in res.stderr, res.stderr


@pytest.fixture(scope="module")
def serving_project(_trained_project, tmp_path_factory):
    """A copy of the session's trained project (a champion, a loaded online store): scoring fetches the
    champion into its serving cache."""
    return copy_project(_trained_project, tmp_path_factory.mktemp("bad_predict") / "project")


def test_bad_predict_ids_raise_entity_id_errors_before_anything_is_opened(serving_project):
    assert serving_ready(serving_project.params) is None
    rows, clean = run_predict(serving_project.path)
    assert clean is True, clean                                   # three known ids scored, in order
    assert [r["case"] for r in rows] == list(PREDICT_CASES)
    assert all(r["rejected"] for r in rows), _report([r for r in rows if not r["rejected"]])
    for row in rows:
        error = PREDICT_CASES[row["case"]][1]
        if error is None:                                         # unknown ids: reported, not scored
            assert "error" not in row and "unknown_ids [" in row["message"], row
        else:
            assert row["error"] == error.__name__ == "EntityIdError", row
            assert row["message"].startswith("ids: customer_id: "), row


def test_unknown_ids_are_reported_and_never_scored_as_zeros(serving_project):
    from accelops.pipeline.bad_inputs import _known_ids
    from accelops.pipeline.online import score_online

    params = serving_project.params
    known, unknown = _known_ids(params)
    got = score_online(params, [unknown, known[0], str(known[1]), float(known[2])])   # "12" and 12.0 are ids
    assert got["unknown_ids"] == [unknown]
    assert [p["id"] for p in got["predictions"]] == known and all(0 < p["probability"] < 1 for p in got["predictions"])
    with pytest.raises(EntityIdError, match=r"ids: customer_id: id\(s\) given more than once: \[%d\]" % known[0]):
        score_online(params, [known[0], str(known[0])])           # the same id, once as text


def test_predict_on_the_console_reports_unknown_ids_with_exit_1(serving_project):
    from accelops.pipeline.bad_inputs import _known_ids

    known, unknown = _known_ids(serving_project.params)
    res = subprocess.run([str(ACCELOPS), "predict", str(known[0]), str(unknown), "--params", str(serving_project.path)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 1 and f"unknown id(s) in the online store: [{unknown}]" in res.stderr, res.stderr
    out = json.loads(res.stdout)
    assert out["unknown_ids"] == [unknown] and [p["id"] for p in out["predictions"]] == [known[0]]
    twice = subprocess.run([str(ACCELOPS), "predict", str(known[0]), str(known[0]), "--params",
                            str(serving_project.path)], capture_output=True, text=True, timeout=300)
    assert twice.returncode == 2 and twice.stderr.startswith("error: EntityIdError: ids: customer_id: id(s) given "
                                                             f"more than once: [{known[0]}]"), twice.stderr


def test_rollback_to_a_version_that_does_not_exist_changes_nothing(serving_project, tmp_path):
    from accelops.pipeline.bad_inputs import cli_params_text
    from accelops.registry.status import collect

    args, files, fragments = CLI_CASES["rollback to a version that does not exist"]
    before = collect(serving_project.params)
    row = cli_case(args, files, fragments, tmp_path / "case", cli_params_text(serving_project.path),
                   serving_project.path)
    assert row["rejected"], row
    after = collect(serving_project.params)
    assert after["champion"] == before["champion"] and after["versions"] == before["versions"]


def test_entity_ids_are_64_bit_integers_given_once():
    from accelops.pipeline.online import entity_ids

    assert entity_ids([3, np.int64(4), "5", " 6 ", 7.0, np.float32(8)], "id") == [3, 4, 5, 6, 7, 8]
    assert entity_ids(np.array([2 ** 63 - 1, -(2 ** 63)]), "id") == [2 ** 63 - 1, -(2 ** 63)]
    for ids, message in (([], "no id given"), ([1.5], "1.5"), ([np.bool_(True)], "True"), ([float("nan")], "nan"),
                         (["1e3"], "'1e3'"), ([2 ** 64], str(2 ** 64)), ([1, 2, 1, 2], r"more than once: \[1, 2\]"),
                         ("123", "expected a list of entity ids, got str"), (7, "got int 7")):
        with pytest.raises(EntityIdError, match=rf"^ids: id: .*{message}"):
            entity_ids(ids, "id")


@pytest.mark.parametrize("case", list(LABEL_CASES))
def test_bad_label_file_is_named_with_its_column_and_rule(case, params, tmp_path):
    from accelops.monitoring.performance import read_labels

    c = params.dataset
    make, fragments = LABEL_CASES[case]
    bad = make(tmp_path, c)
    files = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(DataFormatError) as err:
        read_labels(tmp_path, c)
    msg = str(err.value)
    names = {"id": c.entity_id, "ts": c.timestamp, "label": c.label, "two": "3 label(s) not 0 or 1"}
    assert msg.startswith(f"{bad}: ") and all(f.format(**names) in msg for f in fragments), msg
    assert sorted(p.name for p in tmp_path.iterdir()) == files            # read only


def test_the_label_catalogue_and_a_clean_label_file(params, tmp_path):
    rows, clean = run_labels(params.dataset, tmp_path / "labels")
    assert clean is True, clean
    assert len(rows) == len(LABEL_CASES) >= 9 and all(r["rejected"] for r in rows), \
        _report([r for r in rows if not r["rejected"]])


def test_label_corrections_come_in_later_files_and_a_repeated_label_is_kept_once(params, tmp_path):
    from accelops.monitoring.performance import read_labels

    c = params.dataset
    ts = pd.Timestamp("2026-06-01", tz="UTC")
    first = pd.DataFrame({c.entity_id: [1, 1, 2], c.timestamp: [ts, ts, ts], c.label: [0, 0, 1]})   # row 2 repeats row 1
    first.to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({c.entity_id: ["2"], c.timestamp: [ts.isoformat()], c.label: [0]}).to_csv(tmp_path / "b.csv", index=False)
    got = read_labels(tmp_path, c).sort_values(c.entity_id)
    assert got[c.label].tolist() == [0, 0] and got[c.entity_id].tolist() == [1, 2]     # b.csv corrects id 2
    assert got[c.entity_id].dtype == "int64"
