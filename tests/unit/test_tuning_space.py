"""The search space of train.tuning: ranges take in the values as written, trial values map back onto
TrainParams, and the study name follows the data and the train params, not the search's own knobs."""

import optuna

from accelops.config import TrainParams
from accelops.training import tuning


def _ask(base: TrainParams):
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial(tuning.written(base))
    first = study.ask()
    return study, first, tuning.suggest(first, base)


def test_written_values_are_trial_zero_and_ranges_widen_to_take_them_in():
    base = TrainParams(lr=0.1, hidden=[48, 24], dropout=0.05, embedding_dim=20,
                       tuning={"trials": 3, "parameters": ["lr", "hidden", "dropout", "embedding_dim"]})
    study, _, values = _ask(base)
    assert values == {"lr": 0.1, "hidden": "48-24", "dropout": 0.05, "embedding_dim": 20}
    frozen = study.trials[0]
    assert frozen.distributions["lr"].high == 0.1 and frozen.distributions["lr"].log      # 3e-2 widened up
    assert frozen.distributions["embedding_dim"].high == 20
    assert "48-24" in frozen.distributions["hidden"].choices
    assert tuning.apply(base, values) == base.model_copy(update={"hidden": [48, 24]})     # round trip

    second = study.ask()
    drawn = tuning.suggest(second, base)
    assert set(drawn) == set(base.tuning.parameters)
    applied = tuning.apply(base, drawn)
    assert applied.hidden == [int(w) for w in drawn["hidden"].split("-")] and applied.lr == drawn["lr"]
    assert applied.batch_size == base.batch_size and applied.epochs == base.epochs        # not searched


def test_a_sized_batch_can_be_searched():
    base = TrainParams(tuning={"trials": 2, "parameters": ["batch_size"]})     # batch_size null: sized
    study, _, values = _ask(base)
    assert values == {"batch_size": None}
    assert None in study.trials[0].distributions["batch_size"].choices
    assert tuning.apply(base, {"batch_size": 512}).batch_size == 512


def test_study_name_follows_data_and_train_params_not_the_search_knobs():
    base = TrainParams(tuning={"trials": 5})
    name = tuning.study_name("churn", "a" * 64, base)
    assert name.startswith("churn-")
    knobs = base.model_copy(update={"threads": 4, "tuning": base.tuning.model_copy(
        update={"trials": 50, "parallel": 4, "timeout_minutes": 5.0, "pruning": False})})
    assert tuning.study_name("churn", "a" * 64, knobs) == name        # more trials continue the same study
    assert tuning.study_name("churn", "b" * 64, base) != name          # other data
    assert tuning.study_name("churn", "a" * 64, base.model_copy(update={"lr": 0.01})) != name
    space = base.tuning.model_copy(update={"parameters": ["lr"]})
    assert tuning.study_name("churn", "a" * 64, base.model_copy(update={"tuning": space})) != name
