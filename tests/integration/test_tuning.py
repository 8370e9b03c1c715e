"""The network's Optuna search (train.tuning) through the train stage: trial 0 is the params as written,
the final fit reproduces the best trial, the study survives a rerun (no trial is run twice), grows when
trials rise, drops a trial a killed search left running, and a search on other data is a new study."""

import yaml

from accelops.config import load_params
from accelops.pipeline import stages
from accelops.pipeline import tuning as tuning_stage
from accelops.training import model_folder, tuning


def _with_tuning(project, **tuning_values):
    raw = yaml.safe_load(project.path.read_text())
    raw["train"]["tuning"] = {**raw["train"].get("tuning", {}), **tuning_values}
    project.path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_params(project.path)


def test_search_from_the_written_params_then_the_best_values_train_the_network(trained_copy):
    params = _with_tuning(trained_copy, trials=5, pruning=True)
    summary = stages.train(params)
    tuned = summary.tuning
    assert [t.number for t in tuned.trials] == [0, 1, 2, 3, 4]
    first = tuned.trials[0]
    assert first.state == "COMPLETE" and first.values == tuning.written(params.train)   # the defaults
    assert tuned.default_valid_auc == first.valid_auc
    assert len({str(t.values) for t in tuned.trials}) == 5                                # five distinct draws
    best = max((t for t in tuned.trials if t.state == "COMPLETE"), key=lambda t: t.valid_auc)
    assert (tuned.best_number, tuned.best_values) == (best.number, best.values)
    assert tuned.best_valid_auc >= tuned.default_valid_auc
    for t in tuned.trials:
        if t.state == "PRUNED":                        # stopped at an epoch below the earlier trials' median
            assert t.epochs < params.train.epochs
    # the final fit is the best trial again (same seed, same split): the network reaches its AUC exactly
    assert summary.best_valid_auc == tuned.best_valid_auc
    arch = model_folder.read_architecture(params.layout.candidate_dir("network"))
    assert "-".join(map(str, arch["hidden"])) == tuned.best_values["hidden"]
    assert arch["embedding_dim"] == tuned.best_values["embedding_dim"]
    assert summary.batch_size == params.train.batch_size                                 # not searched

    again = stages.train(params).tuning                # a rerun (e.g. after a later stage failed): nothing rerun
    assert again.trials == tuned.trials and again.best_values == tuned.best_values

    more = stages.train(_with_tuning(trained_copy, trials=7)).tuning    # raising trials continues the study
    assert more.study == tuned.study and more.trials[:5] == tuned.trials and len(more.trials) == 7


def test_a_killed_search_leaves_no_running_trial_and_other_data_is_a_new_study(trained_copy, caplog):
    params = _with_tuning(trained_copy, trials=2, pruning=False)
    name = tuning_stage.study_of(params)
    study = tuning.open_study(name, tuning.storage_for(params.train.tuning, params.layout.tuning_study), params.train)
    study.enqueue_trial(tuning.written(params.train))
    killed = study.ask()                                # asked, then the process died: RUNNING forever
    tuning.suggest(killed, params.train)

    result = tuning_stage.search(params)
    assert "1 trial(s) of an interrupted search marked failed" in caplog.text
    assert [(t.number, t.state) for t in result.trials] == [(0, "FAIL"), (1, "COMPLETE"), (2, "COMPLETE")]
    assert result.trials[1].values == tuning.written(params.train)      # the killed defaults asked again
    assert result.default_valid_auc == result.trials[1].valid_auc

    other = _with_tuning(trained_copy, trials=2)
    raw = yaml.safe_load(trained_copy.path.read_text())
    raw["train"]["seed"] = 7                           # other train params: another study
    trained_copy.path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert tuning_stage.study_of(load_params(trained_copy.path)) != tuning_stage.study_of(other)
