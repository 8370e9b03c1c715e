"""`accelops` command line. Heavy imports happen inside commands, so `--help` is instant.

This is the library's command set; it never imports Prefect or accelops_flows. The console script
is accelops_flows.cli, which adds the commands that start flows (`run`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from accelops.errors import AccelopsError, ConfigError

app = typer.Typer(help="accelops: orchestrated MLOps pipeline for tabular models.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
data_app = typer.Typer(help="Synthetic data.", no_args_is_help=True)
features_app = typer.Typer(help="Feature store.", no_args_is_help=True)
params_app = typer.Typer(help="params.yaml: what each key does, and its JSON schema.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(features_app, name="features")
app.add_typer(params_app, name="params")

ParamsOpt = typer.Option(None, "--params", envvar="ACCELOPS_PARAMS", help="params.yaml to use")


@app.callback()
def _console(verbose: bool = typer.Option(False, "--verbose", "-v", help="every log line on the console "
                                          "(default: a line per stage; the rest is in <workdir>/logs/)")) -> None:
    """accelops: orchestrated MLOps pipeline for tabular models."""
    if verbose:
        import os

        from accelops.runtime import VERBOSE_ENV, configure_logging

        os.environ[VERBOSE_ENV] = "1"
        configure_logging(verbose_console=True)


def _params(path: Optional[Path]):
    from accelops import runtime
    from accelops.config import load_params

    params = load_params(path)
    runtime.configure(params)      # tool env defaults (quiet MLflow downloads, Prefect home) before their import
    return params


def _echo_json(obj) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))


@data_app.command("generate")
def data_generate(
    out: Path = typer.Option(..., help="Parquet file to write (a .manifest.json is written beside it)"),
    rows: Optional[int] = typer.Option(None, help="default: params.yaml generate.rows"),
    days: Optional[int] = typer.Option(None, help="default: generate.days"),
    start: Optional[str] = typer.Option(None, help="first day (UTC); default: generate.start"),
    seed: Optional[int] = typer.Option(None, help="default: generate.seed"),
    scenario: Optional[str] = typer.Option(None, help="none|covariate_shift|slice_shift|new_category|missing_spike|"
                                           "concept_drift|label_noise; default: generate.scenario"),
    severity: float = typer.Option(1.0, min=0.0, help="scales the injected effect"),
    params: Optional[Path] = ParamsOpt,
) -> None:
    """Generate synthetic churn data with a drift scenario and its ground-truth manifest. Options not
    given come from params.yaml's `generate` section when there is one, else the model's defaults
    (`accelops params explain generate`)."""
    from accelops.config import load_section
    from accelops.data.generator import generate, write

    g = load_section("generate", params, rows=rows, days=days, start=start, seed=seed, scenario=scenario)
    data, manifest = write(generate(g.rows, g.days, g.start, g.seed, g.scenario, severity=severity), out)
    typer.echo(f"wrote {g.rows} rows to {data} (manifest {manifest})")


@params_app.command("explain")
def params_explain(key: Optional[str] = typer.Argument(None, help="a key (train.batch_size) or a section (train); "
                                                       "default: every key"),
                   params: Optional[Path] = ParamsOpt) -> None:
    """Type, default, description and the value params.yaml sets for each key (from the typed model)."""
    from accelops.config import default_params_path, read_raw
    from accelops.params_doc import explain

    path = params or default_params_path()
    typer.echo(explain(key, read_raw(path) if params or path.is_file() else None))


@params_app.command("schema")
def params_schema(out: Optional[Path] = typer.Option(None, help="file to write (params.schema.json); "
                                                     "default: standard output")) -> None:
    """JSON schema of params.yaml from the typed model, for editors (params.yaml's first line names
    params.schema.json); regenerate it with `accelops params schema --out params.schema.json`."""
    from accelops.config import params_schema as schema

    text = json.dumps(schema(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        typer.echo(f"wrote {out}")


@app.command()
def init(data: Path = typer.Option(..., "--data", help="your CSV or Parquet file"),
         label: Optional[str] = typer.Option(None, help="the label column (asked when it cannot be told)"),
         id_column: Optional[str] = typer.Option(None, "--id", help="the entity id column (integers; default: "
                                                 "found by name, else a row id is made)"),
         timestamp: Optional[str] = typer.Option(None, help="the event-time column (default: found by type or "
                                                 "name, else the ingestion time is used)"),
         out: Path = typer.Option(Path("params.yaml"), help="the params file to write"),
         force: bool = typer.Option(False, "--force", help="overwrite an existing params file")) -> None:
    """Profile a table and write a commented params.yaml for it (roles, types, ranges with a margin,
    category sets, slices, PII columns); review the lines marked `# check`, then `accelops validate`."""
    import os

    from accelops.config import load_params
    from accelops.data import io
    from accelops.data.infer import propose, render_params
    from accelops.validation.pii_scan import scan

    if out.exists() and not force:
        raise ConfigError(f"{out}: already exists (--force overwrites it, or --out names another file)")
    df = io.read_table(data)

    def ask(question: str, candidates: list[str]) -> str:
        return typer.prompt(f"{question} [{', '.join(candidates)}]")

    proposal = propose(df, str(data), label=label, entity_id=id_column, timestamp=timestamp,
                       ask=ask if sys.stdin.isatty() else None, pii_scan=scan)
    history = os.path.relpath(data.resolve(), out.resolve().parent)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_params(proposal, history))
    load_params(out)                      # what init writes always loads
    for line in init_summary(proposal):
        typer.echo(line)
    typer.echo(f"wrote {out}; next: accelops validate {data} --params {out}, then accelops run training "
               f"--params {out}")


def init_summary(p) -> list[str]:
    """The lines `accelops init` prints: each role with its reason, the features, what was left out."""
    def reason(key: str) -> str:
        return f"  ({'guessed: ' if key in p.guessed else ''}{p.reasons[key]})" if p.reasons.get(key) else ""

    lines = [f"{p.source}: {p.rows} rows, {len(p.numeric) + len(p.categorical)} features"]
    lines += [f"  {key:<15}{getattr(p, key)!s}{reason(key)}" for key in ("label", "positive_label", "entity_id",
                                                                         "timestamp")]
    lines.append(f"  numeric        {len(p.numeric)}: {', '.join(p.numeric) or '-'}")
    lines.append(f"  categorical    {len(p.categorical)}: {', '.join(p.categorical) or '-'}"
                 + (f"  (coded numbers: {', '.join(p.coded)})" if p.coded else ""))
    lines += [f"  {key:<15}{', '.join(getattr(p, key)) or '-'}" for key in ("slices", "pii", "text")]
    lines += [f"  ignored        {c}: {why}" for c, why in p.ignored.items()]
    lines += [f"  check: {note}" for note in p.notes]
    return lines


@app.command()
def validate(path: Path, as_json: bool = typer.Option(False, "--json"), params: Optional[Path] = ParamsOpt) -> None:
    """Validate a CSV/Parquet file against the contract (PII scan, suite, quarantine):
    exit 0 accepted, 1 rejected (report printed, failing rows quarantined), 2 unreadable."""
    from accelops.data import io
    from accelops.errors import DataValidationError, PiiDetectedError
    from accelops.validation import batch_check

    p = _params(params)
    df = io.conform(io.read_table(path), p.dataset, path)
    checked = batch_check.check(df, p, str(path), p.layout.quarantine_dir, docs_dir=p.layout.data_docs)
    if as_json:
        _echo_json(checked.summary().model_dump(mode="json"))
    if not as_json:
        for line in batch_check.warning_lines(checked.report, checked.quality):
            typer.echo(line, err=True)
    try:
        checked.enforce()
    except (DataValidationError, PiiDetectedError) as exc:
        if not as_json:
            typer.echo(str(exc), err=True)
            if checked.quarantine:
                typer.echo(f"{checked.quarantine['quarantined_rows']} row(s) quarantined in "
                           f"{checked.quarantine['rows_file']}", err=True)
        raise typer.Exit(1)
    if not as_json:
        typer.echo(f"{path}: accepted ({len(checked.accepted)} of {checked.report.rows} rows, "
                   f"{checked.report.evaluated} expectations, {len(checked.report.warnings)} warning(s))")


@features_app.command("training-set")
def features_training_set(entities: Path = typer.Option(...), out: Path = typer.Option(...),
                          params: Optional[Path] = ParamsOpt) -> None:
    """Point-in-time training set for an entity file (id, timestamp, optional label) from the applied store."""
    import pandas as pd

    from accelops.data import io
    from accelops.features import store as fs

    p = _params(params)
    contract = p.dataset
    ents = io.read_table(entities)
    missing = [col for col in (contract.entity_id, contract.timestamp) if col not in ents.columns]
    if missing:
        raise AccelopsError(f"{entities}: missing column(s) {missing}")
    ents[contract.timestamp] = pd.to_datetime(ents[contract.timestamp], utc=True)
    keep = [col for col in (contract.entity_id, contract.timestamp, contract.label) if col in ents.columns]
    result, missing = fs.training_set(fs.open_store(p), p, ents[keep])
    io.write_parquet(result, out)
    typer.echo(f"wrote {len(result)} rows x {len(result.columns)} columns to {out}; "
               f"rows with no feature row per view: {missing}")


@features_app.command("online")
def features_online(ids: list[int] = typer.Argument(..., help="entity ids"),
                    params: Optional[Path] = ParamsOpt) -> None:
    """Latest features per entity id from the online store; unknown ids are reported (exit 1), and
    so are values older than their view's TTL (stale_views; Feast serves them anyway)."""
    from accelops.features import store as fs

    p = _params(params)
    found = fs.online_lookup(fs.open_store(p), p, ids)
    unknown = found.unknown
    _echo_json({"features": found.frame.to_dict(orient="records"), "unknown_ids": unknown,
                "stale_views": found.stale})
    if unknown:
        typer.echo(f"unknown id(s) in the online store: {unknown}", err=True)
        raise typer.Exit(1)


@app.command()
def bench(model: str = typer.Option(..., "--model", help="models:/NAME@ALIAS or models:/NAME/VERSION"),
          data: Optional[Path] = typer.Option(None, help="labelled rows with the contract's features "
                                              "(default: the last training's test split)"),
          as_json: bool = typer.Option(False, "--json"), params: Optional[Path] = ParamsOpt) -> None:
    """Benchmark a registered model on every device / precision / runtime / batch size present and print
    the variant table and the recommendation (the registry is not changed)."""
    import shutil
    import tempfile

    from accelops.data import io
    from accelops.errors import ServingError
    from accelops.registry.fetch import fetch_model
    from accelops.serving.benchmark import run_benchmark, table

    p = _params(params)
    source = data or p.layout.predictions
    if not source.exists():
        raise ServingError(f"{source}: no benchmark data (run the training flow, or pass --data)")
    rows = io.read_table(source)
    if missing := [col for col in [*p.model_contract.feature_columns, p.dataset.label] if col not in rows.columns]:
        raise ServingError(f"{source}: missing column(s) {missing}")
    out = p.layout.bench_dir(model)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir, serving_dir = fetch_model(p, model, Path(tmp) / "model")
        work = Path(tmp) / "serving"
        if serving_dir is not None:
            shutil.copytree(serving_dir, work)
        result = run_benchmark(model_dir, rows, p.model_contract, p.benchmark, out, work)
    if as_json:
        _echo_json(result.model_dump(mode="json") | {"model": model})
    else:
        typer.echo(table(result) + f"\n\nwritten to {out}")


@app.command()
def predict(ids: list[int] = typer.Argument(..., help="entity ids"), params: Optional[Path] = ParamsOpt) -> None:
    """Online scoring: latest features from the online store, scored by @champion on its recommended
    online variant; unknown ids are reported (exit 1)."""
    from accelops.pipeline.online import score_online

    result = score_online(_params(params), ids)
    _echo_json(result)
    if result["unknown_ids"]:
        typer.echo(f"unknown id(s) in the online store: {result['unknown_ids']}", err=True)
        raise typer.Exit(1)


@app.command()
def score(data: Path = typer.Argument(..., help="CSV or Parquet file (id, timestamp, features; no label needed)"),
          out: Optional[Path] = typer.Option(None, help="Parquet to write (default: <workdir>/scores/"
                                             "<file>.scores.parquet)"),
          params: Optional[Path] = ParamsOpt) -> None:
    """Batch scoring: every row of a file scored by @champion on its recommended batch variant; writes
    the id, timestamp, probability, model version and variant of each row (no other column)."""
    from accelops.pipeline.online import score_batch

    scored = score_batch(_params(params), data, out)
    typer.echo(f"{scored.rows} rows scored by v{scored.model_version} ({scored.variant}) in {scored.seconds:.1f} s "
               f"-> {scored.out}")


@app.command()
def stage(name: str, params: Optional[Path] = ParamsOpt) -> None:
    """Run one pipeline stage (as dvc.yaml calls it)."""
    from accelops.pipeline.stages import STAGES

    if name not in STAGES:
        raise AccelopsError(f"unknown stage {name!r}; choose one of {', '.join(STAGES)}")
    typer.echo(STAGES[name](_params(params)).model_dump_json(indent=2))


@app.command("dvc-yaml")
def dvc_yaml(write: bool = typer.Option(False, "--write", help="write dvc.yaml beside params.yaml"),
             params: Optional[Path] = ParamsOpt) -> None:
    """dvc.yaml rendered from the stage catalogue (accelops.pipeline.catalogue): printed, or written."""
    from accelops.pipeline.catalogue import render_dvc_yaml

    p = _params(params)
    text = render_dvc_yaml(p)
    if write:
        (p.root / "dvc.yaml").write_text(text)
        typer.echo(f"wrote {p.root / 'dvc.yaml'}")
    else:
        typer.echo(text, nl=False)


@app.command()
def status(as_json: bool = typer.Option(False, "--json"), params: Optional[Path] = ParamsOpt) -> None:
    """Champion, registered versions with gate decisions, last drift decision."""
    from accelops.registry.status import collect, render

    facts = collect(_params(params))
    typer.echo(json.dumps(facts, indent=2, default=str) if as_json else render(facts))


@app.command()
def audit(rows: int = typer.Option(100, "--rows", min=20, help="values per corpus column"),
          as_json: bool = typer.Option(False, "--json"),
          out: Optional[Path] = typer.Option(None, "--out", help="also write the figures to this JSON file"),
          faults: bool = typer.Option(False, "--faults", help="also SIGKILL the training flow inside each stage "
                                      "on a scratch copy of the project (minutes: about ten training runs)"),
          bad_input: bool = typer.Option(False, "--bad-input", help="also run the bad-input catalogue through "
                                         "each entry point on a scratch copy (a minute or two)"),
          canaries: bool = typer.Option(False, "--canaries", help="also plant canaries in the PII columns, run "
                                        "the training flow on a scratch copy and sweep every file it wrote"),
          dependencies: bool = typer.Option(False, "--dependencies", help="also stop a tracking server mid-run "
                                            "and fill the artifact disk, on scratch copies (seven training runs)"),
          concurrency: bool = typer.Option(False, "--concurrency", help="also start two trainings and a "
                                           "monitoring run at once on a scratch copy (four training runs)"),
          params: Optional[Path] = ParamsOpt) -> None:
    """Reliability and security figures measured now: personal-data recall and false positives per kind
    and locale on a labelled corpus, the membership-attack AUC of every registered version, with
    --bad-input the bad inputs tried and rejected per entry point, with --canaries the planted values
    found after a training run (0 expected), with --faults the training and monitoring flows killed
    mid-work, with --dependencies the tracking server stopped and the disk full, with --concurrency two
    trainings and a monitoring run at once; a section not run is named, never counted as passed."""
    from accelops.config import default_params_path
    from accelops.pipeline.audit import audit as run_audit, render

    path = params or default_params_path()
    chosen = {"faults": faults, "bad_input": bad_input, "canaries": canaries, "dependencies": dependencies,
              "concurrency": concurrency}
    result = run_audit(rows=rows, params=_params(params), params_path=path,
                       sections=[name for name, on in chosen.items() if on])
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False) if as_json else "\n".join(render(result)))


@app.command()
def history(at: Optional[str] = typer.Option(None, "--at", help="ISO time: which version was champion then"),
            as_json: bool = typer.Option(False, "--json"), params: Optional[Path] = ParamsOpt) -> None:
    """Every move of @champion (who, when, from, to, why, the gate's status), from the tracking backend."""
    from datetime import datetime, timezone

    from accelops.registry import history as h

    when = None
    if at is not None:            # checked before the tracking store is opened (a rejected --at writes nothing)
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise AccelopsError(f"--at {at!r}: not an ISO time (e.g. 2026-11-29T06:00:00+00:00)") from None
    hist = h.for_params(_params(params))
    if when is not None:
        event = hist.at(when if when.tzinfo else when.replace(tzinfo=timezone.utc))
        if as_json:
            _echo_json(event and event.model_dump())
        else:
            typer.echo(f"champion at {at}: " + (f"v{event.to_version} (since {event.at}, {event.action} by "
                                                f"{event.who}: {event.reason})" if event else "none"))
        return
    events = hist.events()
    if as_json:
        _echo_json([e.model_dump() for e in events])
        return
    for e in events:
        typer.echo(f"{e.at}  {e.action:8} v{e.from_version or '-'} -> v{e.to_version}  by {e.who}  "
                   f"[{e.decision_status or '-'}]  {e.reason}")
    if not events:
        typer.echo("no champion yet")


@app.command()
def rollback(reason: str = typer.Option(..., "--reason", help="why (recorded in the history)"),
             to: Optional[str] = typer.Option(None, "--to", help="version (default: the one the champion replaced)"),
             force: bool = typer.Option(False, "--force", help="allow a version that never passed the gate"),
             params: Optional[Path] = ParamsOpt) -> None:
    """Move @champion back (to the version it replaced, or --to VERSION) and record it."""
    from accelops.registry import history as h

    event = h.rollback(h.for_params(_params(params)), reason, to, force)
    typer.echo(f"@champion v{event.from_version} -> v{event.to_version} (rollback, recorded at {event.at})")


@app.command()
def promote(version: str = typer.Argument(..., help="the version to make @champion"),
            reason: str = typer.Option(..., "--reason", help="why (recorded in the history)"),
            force: bool = typer.Option(False, "--force", help="allow a version that never passed the gate"),
            params: Optional[Path] = ParamsOpt) -> None:
    """An audited override: make VERSION @champion and record who, when and why."""
    from accelops.registry import history as h

    event = h.promote(h.for_params(_params(params)), version, reason, force)
    typer.echo(f"@champion v{event.from_version} -> v{event.to_version} (override, recorded at {event.at})")


@app.command()
def ui(which: str = typer.Argument(..., help="mlflow | prefect"), port: int = typer.Option(0),
       params: Optional[Path] = ParamsOpt) -> None:
    """Open the MLflow or Prefect UI on 127.0.0.1 over this project's local state; Ctrl-C or SIGTERM
    stops the server and every process it started."""
    import os

    from accelops import runtime
    from accelops.registry.tracking import tracking_uri

    p = _params(params)
    bin_dir = Path(sys.executable).parent
    if which == "mlflow":
        cmd = [str(bin_dir / "mlflow"), "ui", "--backend-store-uri", tracking_uri(p),
               "--host", "127.0.0.1", "--port", str(port or runtime.UI_PORTS["mlflow"])]
    elif which == "prefect":       # _params has applied runtime.configure (Prefect's home)
        port = port or runtime.UI_PORTS["prefect"]
        cmd = [str(bin_dir / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        # the UI calls the API on the port it is served from (else it looks for 4200: "Can't connect")
        os.environ["PREFECT_UI_API_URL"] = f"http://127.0.0.1:{port}/api"
    else:
        raise AccelopsError("ui: choose 'mlflow' or 'prefect'")
    typer.echo("$ " + " ".join(cmd))
    raise typer.Exit(runtime.supervise(cmd, env=os.environ.copy()))


def main() -> None:
    """Run `app` with one-line named errors (exit 2): an AccelopsError, and a usage error (unknown
    command, bad or missing option or argument) as `error: UsageError: <command>: <what>` instead of
    click's usage block and box; accelops_flows.cli.main calls this."""
    from typer._click import exceptions as click_errors

    from accelops.runtime import configure_logging

    configure_logging()
    try:
        code = app(standalone_mode=False)     # usage errors come back raised, printed below on one line
    except AccelopsError as exc:
        typer.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
    except click_errors.NoArgsIsHelpError as exc:          # `accelops` alone: the help (printed already by rich)
        if text := exc.format_message().strip():
            typer.echo(text, err=True)
        sys.exit(exc.exit_code)
    except click_errors.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "accelops"
        typer.echo(f"error: UsageError: {where}: {exc.format_message()} (see {where} --help)", err=True)
        sys.exit(exc.exit_code)
    except click_errors.ClickException as exc:
        typer.echo(f"error: {type(exc).__name__}: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("Aborted!", err=True)
        sys.exit(1)
    except Exception as exc:             # a dependency's failure (tracking server gone, disk full): named
        from accelops.errors import named_failure

        if (named := named_failure(exc)) is None:
            raise
        typer.echo(f"error: {type(named).__name__}: {named}", err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
