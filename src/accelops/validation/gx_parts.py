"""The suite's row-wise rules per entity partition (accelops.fanout): each part of the rows is validated by
Great Expectations as one piece, and each rule's counts are summed back into one result, with GE's own
success rule (`mostly` over the rows it considers) applied to the sums. The table-wide rules (the column set,
the row count, minima, maxima, means, near-duplicates across entities) run once on the whole frame.

Exact, not approximate: a row-wise rule's counts (rows, nulls, violations) are sums over any split of the
rows, and a uniqueness rule whose columns include the entity id only ever finds duplicates within one
entity, whose rows all land in one part. Percentages are computed from the summed counts as GE computes
them (`_format_map_output`), so the merged result equals the whole frame's result.
"""

from __future__ import annotations

import json

import pandas as pd

from accelops.fanout import Fanout, entity_parts

ROW_WISE = frozenset({"expect_column_values_to_not_be_null", "expect_column_values_to_be_in_set",
                      "expect_column_values_to_be_between"})
NO_EXCEPTION = {"raised_exception": False, "exception_traceback": None, "exception_message": None}


def per_part(expectation, entity: str) -> bool:
    """Whether a rule's result is the sum of its results on the entity partitions."""
    kind = expectation.configuration.type
    if kind in ROW_WISE:
        return True
    return (kind == "expect_compound_columns_to_be_unique"
            and entity in expectation.configuration.kwargs.get("column_list", ()))


def rule_key(config) -> tuple[str, str, str]:
    """A rule's identity across suites (a copy of an expectation gets a new id): type, arguments, meta."""
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return (config.type, json.dumps(kwargs, sort_keys=True, default=str),
            json.dumps(config.meta or {}, sort_keys=True, default=str))


def run_parts(fan: Fanout, frame: pd.DataFrame, entity: str, rules: list, result_format: dict) -> list:
    """One GE result per rule (in the order of `rules`) over the whole frame, from its results per part."""
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult

    parts = [rows for rows in entity_parts(frame[entity], fan.workers) if len(rows)]
    pieces = fan.map(_validate_part, [frame.take(rows) for rows in parts], rules=[_copy(e) for e in rules],
                     result_format=result_format)
    out = []
    for i, e in enumerate(rules):
        success, result, exception = merge([piece[i] for piece in pieces], e.configuration.kwargs.get("mostly", 1.0))
        out.append(ExpectationValidationResult(success=success, expectation_config=e.configuration, result=result,
                                               exception_info=exception))
    return out


def merge(pieces: list[dict], mostly: float) -> tuple[bool, dict, dict]:
    """(success, result, exception info) of one rule from its BASIC results per part."""
    for piece in pieces:
        if (piece["exception_info"] or {}).get("raised_exception"):
            return False, {}, piece["exception_info"]
    element = sum(p["result"]["element_count"] for p in pieces)
    unexpected = sum(p["result"]["unexpected_count"] for p in pieces)
    with_missing = "missing_count" in pieces[0]["result"]        # not_null considers every row
    missing = sum(p["result"]["missing_count"] for p in pieces) if with_missing else 0
    considered = element - missing
    total = unexpected / element * 100 if element else None
    nonmissing = (unexpected / considered * 100 if considered else None) if with_missing else total
    result = {"element_count": element, "unexpected_count": unexpected, "unexpected_percent": nonmissing,
              "partial_unexpected_list": []}
    if with_missing:
        result.update(missing_count=missing, missing_percent=missing / element * 100 if element else None,
                      unexpected_percent_total=total, unexpected_percent_nonmissing=nonmissing)
    # GE: vacuously true with no rows considered, else the share of rows that pass against `mostly`
    success = not element or not considered or (float(considered) - float(unexpected)) / float(considered) >= mostly
    return bool(success), result, dict(NO_EXCEPTION)


def _validate_part(frame: pd.DataFrame, rules: list, result_format: dict) -> list[dict]:
    """A piece: the rules on one part of the rows, as plain dicts in the order of `rules`."""
    from accelops.validation.expectations import context

    ctx, batch = context()
    import great_expectations as gx

    # copies: a worker's shared inputs serve every piece it runs, and a suite takes its expectations' ids
    suite = ctx.suites.add(gx.ExpectationSuite(name="part", expectations=[_copy(e) for e in rules]))
    ids = [e.id for e in suite.expectations]
    definition = ctx.validation_definitions.add(gx.ValidationDefinition(name="part", data=batch, suite=suite))
    by_id = {r.expectation_config.id: r for r in
             definition.run(batch_parameters={"dataframe": frame}, result_format=result_format).results}
    return [{"success": by_id[i].success, "result": dict(by_id[i].result or {}),
             "exception_info": dict(by_id[i].exception_info or {})} for i in ids]


def _copy(expectation):
    """The same rule, not yet in any suite (a suite takes ownership of its expectations' ids)."""
    e = expectation.configuration.to_domain_obj()
    e.id = None
    return e
