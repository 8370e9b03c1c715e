"""The as-of engine against a brute-force oracle on random data: ties, duplicates, TTL edges."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from accelops.features.asof import ViewSpec, gather, match_positions
from helpers import PartsInProcess

ROW = "__row__"

T0 = pd.Timestamp("2026-01-01", tz="UTC")
rows = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20)), min_size=0, max_size=25)
feature_rows = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20), st.floats(-5, 5, allow_nan=False)),
                        min_size=0, max_size=25)


def _oracle(entities, table, ttl):
    out = []
    for k, t in entities:
        best = None
        for order, (fk, fts, value) in enumerate(table):
            if fk == k and fts <= t and (ttl is None or t - fts <= ttl):
                if best is None or (fts, order) >= (best[0], best[1]):
                    best = (fts, order, value)
        out.append(np.nan if best is None else best[2])
    return np.array(out, dtype=float)


@settings(max_examples=300, deadline=None)
@given(entities=rows, table=feature_rows, ttl=st.one_of(st.none(), st.integers(0, 10)))
def test_asof_join_matches_the_oracle(entities, table, ttl):
    ent = pd.DataFrame({"k": [k for k, _ in entities], "t": [T0 + pd.Timedelta(seconds=t) for _, t in entities]},
                       columns=["k", "t"]).astype({"k": "int64", "t": "datetime64[ns, UTC]"})
    ent[ROW] = np.arange(len(ent))
    tab = pd.DataFrame({"k": [k for k, _, _ in table], "ts": [T0 + pd.Timedelta(seconds=s) for _, s, _ in table],
                        "x": [v for _, _, v in table]}, columns=["k", "ts", "x"]).astype(
        {"k": "int64", "ts": "datetime64[ns, UTC]", "x": "float64"})
    spec = ViewSpec("v", "-", "ts", ("k",), ("x",), None if ttl is None else pd.Timedelta(seconds=ttl))
    pos = match_positions(ent, tab, spec, "t")              # what historical_features does per view
    joined = pd.DataFrame({ROW: ent[ROW].to_numpy(), "__found": pos >= 0, "x": gather(tab, "x", pos)}).sort_values(ROW)
    expected = _oracle(entities, table, ttl)
    assert len(joined) == len(entities)                                   # no entity row lost or merged
    np.testing.assert_array_equal(joined["x"].to_numpy(float), expected)
    assert (joined["__found"].to_numpy() == ~np.isnan(expected)).all()
    # per entity partition (how the features stage fans out): the same positions, some parts empty
    for workers in (2, 5):
        np.testing.assert_array_equal(match_positions(ent, tab, spec, "t", PartsInProcess(workers)), pos)
