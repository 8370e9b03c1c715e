"""Content-hash keys of the training flow's stages (accelops.pipeline.stage_cache): a stage is skipped only
while its declared params, input files, code and flow arguments hash as recorded and the files it wrote are
still the ones it wrote; its typed result then comes back from its report."""

from __future__ import annotations

import shutil

import pandas as pd

from accelops.pipeline import stage_cache, stages


def test_a_stage_is_reused_only_while_its_inputs_and_outputs_are_as_recorded(trained_copy):
    params = trained_copy.params
    lay = params.layout
    calls = []

    def features(p=params):
        calls.append(p.features.max_missing_fraction)
        return stages.features(p)

    first = stage_cache.run(params, "features", features)
    assert stage_cache.run(params, "features", features) == first and len(calls) == 1     # reused, same result
    assert (lay.stage_keys_dir / "features.json").exists()

    looser = params.model_copy(update={"features": params.features.model_copy(update={"max_missing_fraction": 0.9})})
    stage_cache.run(looser, "features", lambda: features(looser))             # a declared param changed
    assert len(calls) == 2
    stage_cache.run(params, "features", features)                             # and back: the record is looser's
    assert len(calls) == 3

    training = pd.read_parquet(lay.training_set)
    training.iloc[:-1].to_parquet(lay.training_set)                           # an output changed behind its back
    stage_cache.run(params, "features", features)
    assert len(calls) == 4 and len(pd.read_parquet(lay.training_set)) == len(training)

    validated = pd.read_parquet(lay.validated)
    validated.iloc[:-1].to_parquet(lay.validated)                             # an input file changed
    stage_cache.run(params, "features", features)
    assert len(calls) == 5
    stage_cache.run(params, "features", features)
    assert len(calls) == 5

    stage_cache.forget(params)                                                # a completed flow run forgets
    stage_cache.run(params, "features", features)
    assert len(calls) == 6


def test_the_key_reads_a_data_file_by_content_and_the_flows_arguments(trained_copy, tmp_path):
    params = trained_copy.params
    data = params.layout.history
    copy = shutil.copy(data, tmp_path / "renamed.parquet")
    key = stage_cache.stage_key(params, "validate", [data], {"new_after": None})
    assert stage_cache.stage_key(params, "validate", [copy], {"new_after": None}) == key       # same bytes
    assert stage_cache.stage_key(params, "validate", [data], {"new_after": "2026-07-01"}) != key
    pd.read_parquet(copy).iloc[1:].to_parquet(copy)
    assert stage_cache.stage_key(params, "validate", [copy], {"new_after": None}) != key
    stricter = params.model_copy(update={"validate_": params.validate_.model_copy(update={"max_null_fraction": 0.0})})
    assert stage_cache.stage_key(stricter, "validate", [data], {"new_after": None}) != key
    unrelated = params.model_copy(update={"register_": params.register_.model_copy(update={"model_name": "other"})})
    assert stage_cache.stage_key(unrelated, "validate", [data], {"new_after": None}) == key  # not a validate input
