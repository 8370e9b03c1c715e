"""The validate stage's label check: confident-learning flags over the accepted rows (or, for a
drift retraining's data, over its newer rows), judged against the reference data's own rate."""

from __future__ import annotations

import logging

import pandas as pd

from accelops.config import Params
from accelops.data import io
from accelops.fanout import Fanout
from accelops.pipeline.files import read_model, write_model
from accelops.validation.label_quality import LabelCheck

log = logging.getLogger("accelops.stages")

MIN_LABEL_CHECK_ROWS = 500        # the new rows a retraining's label check fits its folds on, at least


def label_check(params: Params, df: pd.DataFrame, source: str, new_after: str | None, fan: Fanout) -> LabelCheck:
    """Confident-learning flags written for inspection (keys, label, out-of-fold probability only);
    blocks when the rate is well above the reference data's. With `new_after`, only the newer rows,
    out of fold among themselves (when there are enough of them for the folds)."""
    from accelops.validation.label_quality import ReferenceLabels, check_against_reference

    lay, contract = params.layout, params.dataset
    reference_labels = read_model(ReferenceLabels, lay.reference_label_quality, "reference")
    summary, flags, judged, reference_labels, scope = _label_flags(params, df, reference_labels, new_after, fan)
    io.write_parquet(judged.loc[flags, [contract.entity_id, contract.timestamp, contract.label]], lay.label_issues)
    write_model(summary, lay.label_quality_report)          # kept when the check below blocks
    result = check_against_reference(summary, reference_labels, params.validate_.max_excess_label_issue_rate,
                                     f"{source} ({scope})").model_copy(update={"scope": scope})
    write_model(result, lay.label_quality_report)
    log.info("label check: %d of %d rows (%.1f%%) flagged as likely label errors (reference %.1f%%)",
             summary.flagged, summary.rows, 100 * summary.rate, 100 * result.reference_rate)
    return result


def _label_flags(params: Params, df: pd.DataFrame, reference_labels, new_after: str | None, fan):
    """The label check's flags over `df` or, with `new_after`, its newer rows (against a reference sample
    at their positive rate): (summary, flags, the rows judged, the reference, the scope in words)."""
    from accelops.validation.label_quality import label_quality, matched_reference_rate

    contract = params.dataset
    scope = "all rows"
    if new_after is not None:
        recent = df[pd.DatetimeIndex(df[contract.timestamp]) > pd.Timestamp(new_after)]
        if len(recent) >= MIN_LABEL_CHECK_ROWS and recent[contract.label].nunique() == 2:
            df = recent
            from accelops.pipeline.stages import profile_rows

            source_rows = profile_rows(params, reference_labels.source)
            reference_labels = matched_reference_rate(source_rows, contract, len(recent),
                                                      float(recent[contract.label].mean()),
                                                      params.validate_.label_folds, params.train.threads,
                                                      params.train.seed, fan)
            scope = (f"the {len(recent)} rows after {new_after}, by a model fit on them, against "
                     f"{reference_labels.rows} reference rows at their positive rate "
                     f"{recent[contract.label].mean():.3f}")
        else:
            scope = f"all rows (only {len(recent)} after {new_after}: too few to fit on)"
    summary, flags = label_quality(df, contract, params.validate_.label_folds, params.train.threads,
                                   params.train.seed, params.validate_.label_fit_rows, fan)
    return summary, flags, df, reference_labels, scope
