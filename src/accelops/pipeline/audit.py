"""`accelops audit`: the reliability and security figures a platform team signs, measured on this machine.

Always: personal data (recall per kind and per locale, false positives on non-personal columns, value
recall per column, free-text redaction, names of unseen locales) and the membership-inference attack
AUC of every registered version (measured by the evaluate stage, read back from the tracking backend).
On request, each on a scratch copy of the project: the bad-input catalogue per entry point
(--bad-input), canaries planted in the PII columns and swept for after a training run (--canaries),
the training flow SIGKILLed in each stage and the monitoring flow mid-file (--faults), the tracking
server stopped and the artifact disk full (--dependencies), and two trainings with a monitoring run
at once (--concurrency). A section not run is listed as such, never as passed."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any

PENDING: dict[str, str] = {}                  # sections #17 asks for that are not built (none now)
# the sections measured on request, each on a scratch copy of the project: what it runs, and its cost
ON_REQUEST = {"bad_input": "the bad-input catalogue per entry point: `accelops audit --bad-input` (a minute or two)",
              "canaries": "canaries planted in the PII columns, a training run, every file swept: `accelops audit "
                          "--canaries` (one training run)",
              "faults": "SIGKILL inside each training stage and the monitoring flow mid-file: `accelops audit "
                        "--faults` (about ten training runs)",
              "dependencies": "the tracking server stopped mid-run (briefly, then for good) and the artifact disk "
                              "full: `accelops audit --dependencies` (seven training runs; the disk needs root)",
              "concurrency": "two trainings and a monitoring run at once on the embedded SQLite default: `accelops "
                             "audit --concurrency` (four training runs); the PostgreSQL variant is a heavy test"}


def pii_figures(rows: int = 100, seed: int = 0) -> dict[str, Any]:
    from accelops.validation.pii_corpus import corpus, leave_one_out, measure, text_redaction

    started = time.perf_counter()
    columns = corpus(rows=rows, seed=seed)
    out = measure(columns)
    out["text_redaction"] = text_redaction(columns, per_column=min(rows, 40), seed=seed)
    held_out = leave_one_out(columns)
    out["names_unseen_locale"] = {"recognised": sum(held_out.values()), "locales": len(held_out),
                                  "missed": sorted(k for k, v in held_out.items() if not v)}
    out["rows_per_column"] = rows
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def membership_figures(params) -> dict[str, Any]:
    """Each registered version's membership-attack AUC and the gate's ceiling, from the tracking backend
    (nothing is created when the embedded store does not exist yet)."""
    from accelops.registry import tracking

    bound = params.register_.gate.max_membership_auc
    out: dict[str, Any] = {"model_name": params.register_.model_name, "ceiling": bound, "versions": []}
    if not params.register_.tracking_uri and not params.layout.mlflow_db.exists():
        return out
    client = tracking.connect(params)
    for v in sorted(client.search_model_versions(f"name = '{params.register_.model_name}'"), key=lambda v: int(v.version)):
        metrics = client.get_run(v.run_id).data.metrics
        out["versions"].append({"version": int(v.version), "gate_decision": v.tags.get("gate.decision"),
                                "membership_auc": metrics.get("membership_auc"),
                                "advantage": metrics.get("membership_advantage")})
    return out


def fault_figures(params_path) -> dict[str, Any]:
    """`faults.inject` over every training stage, then `faults.inject_monitoring` over three landed windows
    (demo contract only: they come from its generator), on a scratch copy of the project (deleted after)."""
    from pathlib import Path

    from accelops.config import load_params
    from accelops.pipeline.bad_inputs import demo_contract
    from accelops.pipeline.concurrency import land_batch
    from accelops.pipeline.faults import inject, inject_monitoring, scratch_project

    with _scratch("accelops-faults-") as folder:
        started = time.perf_counter()
        scratch = scratch_project(Path(params_path), folder)
        out = inject(scratch, out_dir=folder / "logs")
        params = load_params(scratch)
        if demo_contract(params):               # landed windows of the demo's generator (after training: a champion)
            batches = [land_batch(params, f"fault_window_{i}.parquet", rows=2000, seed=40 + i, after_days=7 * i)
                       for i in range(3)]
            out["monitoring"] = inject_monitoring(scratch, batches, out_dir=folder / "logs")
        out["seconds"] = round(time.perf_counter() - started, 1)
        out.pop("logs")
        return out


def dependency_figures(params_path) -> dict[str, Any]:
    """`dependencies.tracking_outage` and `dependencies.artifacts_full` on scratch copies (deleted after)."""
    from pathlib import Path

    from accelops.pipeline.dependencies import artifacts_full, tracking_outage

    with _scratch("accelops-dependencies-") as folder:
        return {"tracking": tracking_outage(Path(params_path), folder / "tracking"),
                "disk": artifacts_full(Path(params_path), folder / "disk")}


def concurrency_figures(params_path) -> dict[str, Any]:
    from pathlib import Path

    from accelops.pipeline.concurrency import embedded

    with _scratch("accelops-concurrency-") as folder:
        return embedded(Path(params_path), folder)


@contextmanager
def _scratch(prefix: str):
    import shutil
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def audit(rows: int = 100, seed: int = 0, params=None, params_path=None, sections=()) -> dict[str, Any]:
    """The figures: PII always; membership inference with `params`; each of `sections` (ON_REQUEST's
    keys, minutes each) on scratch copies of the project at `params_path`."""
    from accelops.pipeline.bad_inputs import run_catalogue
    from accelops.pipeline.canaries import canary_run

    unknown = set(sections) - set(ON_REQUEST)
    if unknown:
        raise ValueError(f"unknown audit sections {sorted(unknown)}; known: {sorted(ON_REQUEST)}")
    runners = {"bad_input": run_catalogue, "canaries": canary_run, "training_faults": fault_figures,
               "dependencies": dependency_figures, "concurrency": concurrency_figures}
    result: dict[str, Any] = {"pii": pii_figures(rows, seed)}
    if params is not None:
        result["membership_inference"] = membership_figures(params)
    for section in ON_REQUEST:
        if section in sections:
            key = "training_faults" if section == "faults" else section
            result[key] = runners[key](params_path)
    not_run = {k: v for k, v in ON_REQUEST.items() if k not in sections}
    return result | {"pending": PENDING, "not_run": not_run}


def render(result: dict[str, Any]) -> list[str]:
    """The audit as console lines, section by section (a section not in `result` is left out)."""
    lines = _render_pii(result["pii"]) if "pii" in result else []
    if (mia := result.get("membership_inference")) is not None:
        lines += _render_membership(mia)
    if (bad := result.get("bad_input")) is not None:
        lines += _render_bad_input(bad)
    if (c := result.get("canaries")) is not None:
        lines.append(f"canaries: {c['planted']} planted ({', '.join(c.get('columns', []))}, {c.get('rows_planted')} rows "
                     f"each), training run exit {c.get('flow_exit_code')}, {c.get('files')} files "
                     f"({c.get('megabytes')} MB) and the console searched: {c.get('hits')} hit(s)"
                     + "".join(f"\n    leak: {f}: {v}" for f, v in c.get("leaks", {}).items())
                     if c.get("planted") else f"canaries: {c.get('detail')}")
    if (faults := result.get("training_faults")) is not None:
        lines += _render_faults(faults)
    if (dep := result.get("dependencies")) is not None:
        lines += _render_dependencies(dep)
    if (conc := result.get("concurrency")) is not None:
        lines += _render_concurrency(conc)
    if result.get("pending"):
        lines.append("not built yet: " + "; ".join(f"{k} ({v})" for k, v in result["pending"].items()))
    if result.get("not_run"):
        lines.append("not run this time: " + "; ".join(result["not_run"].values()))
    return lines


def _render_dependencies(dep: dict[str, Any]) -> list[str]:
    t, d = dep["tracking"], dep["disk"]
    short, long = t["short"], t["long"]
    yes = {True: "survived", False: "NOT survived", None: "not run"}
    lines = [f"dependencies down ({t['stage']} stage; a real MLflow server, a real tmpfs):",
             f"  tracking server stopped {short['down_s']} s, then back: {yes[short['survived']]} (exit "
             f"{short['exit_code']}, versions added {short['versions_added']}, @champion v{short['champion_before']}"
             f" -> v{short['champion_after']})",
             f"  tracking server stopped for good: {yes[long['survived']]}: exit {long['exit_code']} after "
             f"{long['failed_after_s']} s ({long['error'][:90]}...), @champion v{long['after_failure']['champion_after']}"
             f" unchanged, {len(long['after_failure']['versions_added'])} version(s) added; server back, next run "
             f"exit {long['rerun_exit_code']}, the failed run {long['failed_run_status']}, "
             f"{len(long['after_rerun']['versions_added'])} decided version added"]
    if d.get("survived") is None:
        lines.append(f"  artifact disk full: {d['detail']}")
    else:
        lines.append(f"  artifact disk full ({d['disk']}, {d['free_bytes'] // 1024} KB left): {yes[d['survived']]}: "
                     f"exit {d['exit_code']} in {d['failed_in']} ({d['error'][:90]}...), run {d['failed_run_status']}, "
                     f"@champion unchanged: {d['after_failure']['champion_ok']}; space freed, next run exit "
                     f"{d['rerun_exit_code']}, {len(d['after_rerun']['versions_added'])} decided version added")
    return lines


def _render_concurrency(conc: dict[str, Any]) -> list[str]:
    h = conc["history"]
    lines = [f"concurrency ({conc['backend']}; {len(conc['flows'])} flows started at once, {conc['seconds']} s): "
             f"{'consistent' if conc['consistent'] else 'NOT consistent'}"]
    lines += [f"  {r['flow']:<12} exit {r['exit_code']}{' (waited for the workdir lock)' if r['waited_for_lock'] else ''}"
              f"{'; DATABASE LOCKED' if r['locked'] or r['locked_in_logs'] else ''}: {r['outcome'][:110]}"
              for r in conc["flows"]]
    lines.append(f"  @champion v{h['champion']}, {h['events']} history events in one chain: {h['chain']}, last event "
                 f"is @champion: {h['last_event_is_champion']}, undecided versions: {h['undecided'] or 'none'}; "
                 f"landed files: {', '.join(f['file'] + ' ' + f['state'] for f in conc['landed'])}")
    return lines


def _render_pii(pii: dict[str, Any]) -> list[str]:
    lines = [f"personal data: {pii['personal_columns']} personal and {pii['non_personal_columns']} non-personal "
             f"columns in {len(pii['locales'])} locales, {pii['rows_per_column']} values each "
             f"({pii['seconds']} s)",
             f"  {'kind':<15}{'column recall':>14}{'min value recall':>18}{'text redaction':>16}"]
    for kind, recall in pii["recall_by_kind"].items():
        lines.append(f"  {kind:<15}{recall:>14.1%}{pii['value_recall_min'][kind]:>18.1%}"
                     f"{pii['text_redaction'].get(kind, float('nan')):>16.1%}")
    worst = sorted(pii["recall_by_locale"].items(), key=lambda kv: kv[1])[:3]
    lines += [f"  column recall per locale: lowest {', '.join(f'{k} {v:.0%}' for k, v in worst)}",
              f"  false positives on non-personal columns: {len(pii['false_positives'])} of "
              f"{pii['non_personal_columns']} ({pii['false_positive_rate']:.1%})"
              + (f": {'; '.join(pii['false_positives'][:5])}" if pii["false_positives"] else ""),
              f"  names of a locale left out of the name lists: {pii['names_unseen_locale']['recognised']} of "
              f"{pii['names_unseen_locale']['locales']} locales' columns recognised"]
    if pii["missed"]:
        lines.append(f"  missed columns: {', '.join(pii['missed'])}")
    return lines


def _render_membership(mia: dict[str, Any]) -> list[str]:
    lines = [f"membership inference (loss-threshold attack AUC, 0.5: no leak; ceiling {mia['ceiling']}) "
             f"of {mia['model_name']}:"]
    if not mia["versions"]:
        lines.append("  no registered version yet")
    for v in mia["versions"]:
        auc = "not audited (trained before the audit existed)" if v["membership_auc"] is None else \
            f"AUC {v['membership_auc']:.4f}, advantage {v['advantage']:.4f}"
        lines.append(f"  v{v['version']} ({v['gate_decision']}): {auc}")
    return lines


def _render_faults(faults: dict[str, Any]) -> list[str]:
    final = faults["final_run"]
    lines = [f"training faults (SIGKILL halfway through each stage, then recovery and a clean run): "
             f"{faults['survived']} of {faults['injected']} survived; the next run "
             f"{'finished with one decided version' if final['ok'] else 'FAILED: exit ' + str(final['exit_code'])}",
             f"  {'stage':<12}{'killed after':>13}  {'run':<9}{'champion':<10}{'new versions':<13}survived"]
    for f in faults["faults"]:
        if not f["killed"]:
            lines.append(f"  {f['stage']:<12}{'not killed':>13}  {f['detail']}")
            continue
        lines.append(f"  {f['stage']:<12}{f['after_s']:>11.2f} s  {f['run_status_recovered'] or 'closed':<9}"
                     f"{f['champion_before']}->{f['champion_after']:<7}{len(f['versions_added']):<13}"
                     f"{'yes' if f['survived'] else 'NO'}")
    if (mon := faults.get("monitoring")) is not None:
        files = mon["files"]
        at_kill = ", ".join(f"{k} {v}" for k, v in mon["states_at_kill"].items())
        lines.append(f"monitoring fault (SIGKILL 1 s after the first of {len(files)} landed files' prediction log was "
                     f"written; ledger at the kill: {at_kill}; then a rerun): "
                     f"{'survived' if mon['survived'] else 'NOT survived'}: "
                     + ", ".join(f"{f['file']} {f['state']} {f['windows']} window(s) {f['rows_logged']}/{f['rows']} "
                                 "rows logged" for f in files))
    return lines


def _render_bad_input(bad: dict[str, Any]) -> list[str]:
    lines = [f"bad input (each case must stop with a typed error naming the file, key, column and rule, and "
             f"write nothing; {bad['seconds']} s):",
             f"  {'entry point':<18}{'tried':>6}{'rejected':>10}{'n/a':>5}{'seconds':>9}"]
    for entry, row in bad["entry_points"].items():
        clean = row["clean_accepted"]
        seconds = f"{row['seconds']:>9.1f}" if row.get("seconds") is not None else ""
        lines.append(f"  {entry:<18}{row['tried']:>6}{row['rejected']:>10}{row['not_applicable']:>5}{seconds}"
                     + ("" if clean is True else f"  the clean input was NOT accepted: {clean}" if clean else ""))
        if row.get("not_applicable_why"):
            lines.append(f"    n/a: {row['not_applicable_why']}")
        lines += [f"    missed: {m['case']}: {m['message']}" for m in row["missed"]]
    return lines
