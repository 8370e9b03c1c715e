"""Dependencies down: the online store deleted or its registry reset, named on the next lookup and
rebuilt by the materialize stage (an incremental load alone would skip every view and leave every
id unknown)."""

import pandas as pd
import pytest

from accelops.errors import FeatureStoreError


def _known_ids(params, n: int = 5) -> list[int]:
    history = pd.read_parquet(params.layout.history)
    return [int(i) for i in history[params.model_contract.entity_id].drop_duplicates().tail(n)]


@pytest.mark.parametrize("lost,message", [
    ("online_rows.db", "holds no feature table"),
    ("registry.db", "has no feature service 'churn_model_v3': the registry is missing or was reset"),
])
def test_a_deleted_online_store_or_registry_is_named_then_rebuilt_by_materialize(trained_copy, lost, message):
    from accelops.features import store as fs
    from accelops.pipeline import stages

    params = trained_copy.params
    ids = _known_ids(params)
    before = fs.online_lookup(fs.open_store(params), params, ids)
    assert before.unknown == []
    (params.layout.feast_dir / lost).unlink()

    with pytest.raises(FeatureStoreError, match=message) as caught:
        fs.online_lookup(fs.open_store(params), params, ids)
    assert "accelops stage materialize" in str(caught.value)

    summary = stages.STAGES["materialize"](params)           # what the next training run (or the operator) does
    assert not summary.skipped and all(v.entities > 0 and not v.skipped for v in summary.views.values())
    after = fs.online_lookup(fs.open_store(params), params, ids)
    assert after.unknown == []
    pd.testing.assert_frame_equal(after.frame, before.frame)
    again = stages.STAGES["materialize"](params)              # once rebuilt, loads are incremental again
    assert again.skipped
