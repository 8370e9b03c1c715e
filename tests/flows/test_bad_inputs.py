"""A catalogue of malformed and bad inputs: each stops the training flow with a named error that
names the file (and the column and rule where there is one); the champion and registry stay put."""

import pytest

from accelops.errors import AccelopsError
from accelops.pipeline.bad_inputs import DATA_CASES
from accelops.training.model_folder import WEIGHTS
from helpers import copy_project

CASES = DATA_CASES        # the library's catalogue, also run by `accelops audit --bad-input`


@pytest.fixture(scope="module")
def project(_trained_project, tmp_path_factory):
    """A copy of the session's trained project (a champion in the registry) that these flows run on:
    the rejected batches' reports and quarantine files land in the copy."""
    return copy_project(_trained_project, tmp_path_factory.mktemp("bad_inputs") / "project")


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_the_flow_with_a_named_error(case, project, tmp_path):
    from accelops.registry.status import collect
    from accelops_flows.training import training_flow

    path, params = project.path, project.params
    make, error, fragment = CASES[case]
    bad = make(tmp_path / case.replace(" ", "_"))
    before = collect(params)
    model_mtime = (params.layout.model_dir / WEIGHTS).stat().st_mtime
    with pytest.raises(AccelopsError) as err:
        training_flow(data=str(bad), params_path=str(path), reason=f"bad input: {case}")
    assert isinstance(err.value, error), f"{case}: {type(err.value).__name__}: {err.value}"
    msg = str(err.value)
    assert str(bad.name) in msg and fragment in msg, msg
    after = collect(params)
    assert after["champion"] == before["champion"] and after["versions"] == before["versions"]
    assert (params.layout.model_dir / WEIGHTS).stat().st_mtime == model_mtime
    summary = (params.layout.reports / "last_failure.md").read_text()      # the failure hook's summary
    assert summary.startswith("# training run ") and type(err.value).__name__ in summary and bad.name in summary
    from accelops.registry import tracking

    client = tracking.connect(params)
    (last,) = client.search_runs([client.get_experiment_by_name(params.register_.experiment).experiment_id],
                                 order_by=["attributes.start_time DESC"], max_results=1)
    assert last.info.status == "FAILED" and last.data.tags["trigger"] == f"bad input: {case}"
    assert last.data.tags["mlflow.note.content"].startswith("Failed in stage ")
