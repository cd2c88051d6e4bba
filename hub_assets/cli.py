"""The ``hub`` command: the platform team's scripted entry points.

Each sub-command imports its machinery lazily so that ``hub --help`` stays instant.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

DATA_DIR_OPTION = click.option("--data-dir", type=click.Path(path_type=Path), default=None,
                               help="Data directory (default: $HUB_DATA_DIR or ./data).")
# Every read of the identity zone is audited with who read it and why.
PURPOSE_OPTION = click.option("--purpose", required=True,
                              help="Why the identity zone is read (kept in the audit log).")
BY_OPTION = click.option("--by", "by", default=None, help="Who reads (default: the OS account).")


@click.group()
def main() -> None:
    """Youth Data Hub: intake, linkage, use cases and publication for youth-serving agencies."""


@main.command()
@click.option("--persons", default=2000, show_default=True, help="How many people live in the city.")
@click.option("--seed", default=7, show_default=True, help="Random seed; the same seed gives the same city.")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="Directory to write landing/<agency>/<file> drops and truth/ into.")
def synth(persons: int, seed: int, out: Path) -> None:
    """Generate a synthetic city of agency drops, with ground truth kept apart in truth/."""
    from hub_assets.synth import generate_city

    summary = generate_city(persons=persons, seed=seed, out=out)
    click.echo(summary)


@main.command()
@DATA_DIR_OPTION
@click.option("--wait", "wait_seconds", type=float, default=0.0, show_default=True,
              help="If another hub command holds the data directory, wait this many seconds "
                   "for it before refusing.")
def run(data_dir: Path | None, wait_seconds: float) -> None:
    """Register new drops and materialise the whole asset graph, as the sensors would."""
    from hub_assets.run import run_hub

    _paths(data_dir)  # the permission contract, before anything is read or written
    sys.exit(run_hub(data_dir, wait_seconds))


@main.command()
@DATA_DIR_OPTION
@click.option("--wait", "wait_seconds", type=float, default=0.0, show_default=True,
              help="If another hub command holds the data directory, wait this many seconds.")
def rebuild(data_dir: Path | None, wait_seconds: float) -> None:
    """Recreate identity.duckdb and warehouse.duckdb from the archive and the saved state
    (person keys, key history, reviews), then bring everything downstream up to date.
    The stores present are set aside (renamed), never deleted."""
    from hub_assets.run import run_hub

    sys.exit(run_hub(data_dir, wait_seconds, rebuild=True))


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="Where to write record_id,person_key (.csv or .parquet).")
@click.option("--purpose", default=None, help="Why, when an input is in the hub's data directory (audited).")
@BY_OPTION
@DATA_DIR_OPTION
def link(inputs: tuple[Path, ...], out: Path, purpose: str | None, by: str | None, data_dir: Path | None) -> None:
    """Link identity records in the standard schema with the hub's own settings. Inputs taken
    from the hub's data directory are identity-zone reads: they need --purpose and are audited."""
    from hub_assets.linkage.cli import link_files

    paths = _paths(data_dir)
    own = [p for p in inputs if p.resolve().is_relative_to(paths.root)]
    if own:
        _audit_read(paths, f"hub link {' '.join(map(str, own))}", purpose, by)
    link_files(list(inputs), out)


@main.command()
def prepare() -> None:
    """Prepare the dbt manifest Dagster builds the use-case assets from (``dbt parse``)."""
    from hub_assets.dbt.project import prepare_manifest

    click.echo(f"dbt manifest: {prepare_manifest()}")


@main.command("export-analyst")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--agreement", required=True, help="The data-sharing agreement (governance.yaml use case) "
                                                 "the export serves: only its sources and models go.")
@click.option("--lineage", type=click.Choice(["compiled", "manifest"]), default="compiled", show_default=True,
              help="Scope from what the compiled SQL reads (compiles the project, ~1 min), or from the "
                   "manifest's depends_on alone.")
@PURPOSE_OPTION
@BY_OPTION
@DATA_DIR_OPTION
def export_analyst(out: Path, agreement: str, lineage: str, purpose: str, by: str | None,
                   data_dir: Path | None) -> None:
    """Write a DuckDB file for one agreement's analysts: its sources, the spine and the models
    that use them, quasi-identifiers generalised to k-anonymity (governance.yaml). The export
    reads the identity zone to prove itself clean, so it is audited with --purpose."""
    from hub_assets.governance.analyst_export import export_for_analysts

    paths = _paths(data_dir)
    try:
        summary, hits = export_for_analysts(paths.root, out, agreement, purpose, by, compiled=lineage == "compiled")
    except (KeyError, FileExistsError, ValueError) as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    if hits:
        click.echo("refused: the export held identifiers and was deleted:\n" + "\n".join(map(str, hits[:20])), err=True)
        sys.exit(1)
    click.echo(f"wrote {summary.out}: {len(summary.tables)} tables, "
               f"{len(summary.dropped_columns)} record-token columns dropped, k={summary.k} "
               f"(smallest class {summary.smallest_class}), report {summary.report}, sha256 {summary.digest}")


@main.command()
@click.option("--limit", default=20, show_default=True, help="How many recent events to show.")
@DATA_DIR_OPTION
def audit(limit: int, data_dir: Path | None) -> None:
    """Print the most recent audit events (materialisations, public releases, exports)."""
    from hub_assets.governance.audit import read_log
    from hub_assets.settings import data_dir as default_data_dir

    for event in read_log(data_dir or default_data_dir())[-limit:]:
        click.echo(f"{event['at']}  {event['who']:<10} {event['action']:<16} {event['what']}"
                   f"  approval={event.get('approval') or '-'}  sha256={(event.get('digest') or '-')[:12]}")


@main.group()
def review() -> None:
    """Clerical review of people an incremental attach would have merged (identity zone)."""



@review.command("list")
@click.option("--purpose", default="clerical review", show_default=True, help="Why (kept in the audit log).")
@BY_OPTION
@DATA_DIR_OPTION
def review_list(purpose: str, by: str | None, data_dir: Path | None) -> None:
    """Print the queued records nobody has decided yet, oldest first."""
    from hub_assets.linkage import review as reviews
    from hub_assets.linkage import store

    with _identity(data_dir, "review queue", purpose, by) as con:
        waiting = reviews.pending(store.read(con, "review_queue"), store.read(con, "review_decisions"))
    click.echo(f"{waiting.height} awaiting review")
    for row in waiting.iter_rows(named=True):
        click.echo(f"{row['record_token']}  attached to {row['attached_key']}  candidates "
                   f"{', '.join(row['candidate_keys'])}  p={row['best_probability']:.3f}  "
                   f"queued {row['queued_at']}")


@review.command("show")
@click.argument("record_token")
@PURPOSE_OPTION
@BY_OPTION
@DATA_DIR_OPTION
def review_show(record_token: str, purpose: str, by: str | None, data_dir: Path | None) -> None:
    """Print a queued record beside the records of each person it could be (names, dates,
    addresses; SSNs to their last four digits). Identity zone: the platform role only; the read
    is audited with --purpose and --by (default: the OS account)."""
    import polars as pl

    from hub_assets.linkage.review import side_by_side

    with _identity(data_dir, f"review show {record_token}: identities of the record and its candidates",
                   purpose, by) as con:
        try:
            shown = side_by_side(con, record_token)
        except KeyError as exc:
            raise click.ClickException(str(exc.args[0])) from exc
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, tbl_hide_dataframe_shape=True,
                   tbl_hide_column_data_types=True, fmt_str_lengths=40):
        click.echo(shown.fill_null(""))


@review.command("decide")
@click.argument("record_token")
@click.argument("decision", type=click.Choice(["merge", "keep_apart"]))
@click.option("--by", "by", required=True, help="The reviewer's name, kept with the decision.")
@click.option("--note", default="", help="Why, for the next reviewer.")
@DATA_DIR_OPTION
def review_decide(record_token: str, decision: str, by: str, note: str, data_dir: Path | None) -> None:
    """Answer a queued record: its candidate people are one person (merge) or not (keep_apart).
    The next full re-link acts on it."""
    from hub_assets.linkage.review import record_decision

    with _identity(data_dir, f"review decide {record_token}", "clerical review decision", by) as con:
        try:
            row = record_decision(con, record_token, decision, by, note)
        except (KeyError, ValueError) as exc:
            raise click.ClickException(str(exc.args[0])) from exc
    click.echo(f"{decision}: {', '.join(row['candidate_keys'])} (record {record_token}); "
               "the next full re-link acts on it")


@main.group()
def drops() -> None:
    """Drops that are rejected or not loaded, and the operator's way to act on them."""


@drops.command("list")
@DATA_DIR_OPTION
def drops_list(data_dir: Path | None) -> None:
    """List every drop that is rejected or received but not loaded."""
    from hub_assets.settings import HubPaths
    from hub_assets.settings import data_dir as default_data_dir
    from hub_assets.sources.declaration import load_agencies
    from hub_assets.sources.outcomes import outstanding

    paths = HubPaths(data_dir or default_data_dir())
    found = [o for source in load_agencies() for o in outstanding(paths, source.name)]
    for drop in found:
        click.echo(drop.line())
    click.echo(f"{len(found)} drop(s) not loaded")


@drops.command("withdraw")
@click.argument("agency")
@click.argument("drop_id")
@click.option("--reason", required=True, help="Why, for the record (e.g. the agency's answer).")
@DATA_DIR_OPTION
def drops_withdraw(agency: str, drop_id: str, reason: str, data_dir: Path | None) -> None:
    """Withdraw a rejected or unloaded drop, so runs stop reporting it (its archived copy stays)."""
    import os

    from hub_assets.defs.resources import hub_resource
    from hub_assets.sources.declaration import agency as declared
    from hub_assets.sources.intake import withdraw_drop

    if data_dir:
        os.environ["HUB_DATA_DIR"] = str(data_dir.resolve())
    try:
        withdraw_drop(declared(agency), drop_id, hub_resource(), reason)
    except (KeyError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"agency {agency}: drop {drop_id} withdrawn")


@main.group(invoke_without_command=True)
@click.option("--labels", "labels", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="A file of labelled pairs (record_token_l, record_token_r, is_match) or records "
                   "(person_id with record_token, or with source and record_id). Repeatable.")
@click.option("--purpose", default="linkage quality evaluation", show_default=True,
              help="Why (kept in the audit log).")
@BY_OPTION
@DATA_DIR_OPTION
@click.pass_context
def evaluate(ctx: click.Context, labels: tuple[Path, ...], purpose: str, by: str | None,
             data_dir: Path | None) -> None:
    """Estimate precision and recall, with 95% intervals, at each candidate match threshold from
    the reviewed sample (linkage/labels/), any --labels file and the decisions of hub review."""
    if ctx.invoked_subcommand is not None:
        return
    from hub_assets.linkage.evaluate_store import evaluate_hub, label_files
    from hub_assets.linkage.operations import LinkagePaths
    from hub_assets.settings import HubPaths
    from hub_assets.settings import data_dir as default_data_dir

    paths = HubPaths(data_dir or default_data_dir())
    with _identity(data_dir, "evaluate: scored pairs and reviewed labels", purpose, by) as con:
        try:
            result = evaluate_hub(con, paths, [*label_files(LinkagePaths.of(paths).labels), *labels])
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(result["markdown"])
    click.echo(f"written to {result['path']}")


@evaluate.command("sample")
@click.option("--per-band", default=50, show_default=True, help="Pairs drawn from each match-probability band.")
@click.option("--seed", default=1, show_default=True, help="The same seed draws the same pairs.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Where to write the sheet (default: <data dir>/linkage/labels/sample-<seed>.csv).")
@click.option("--purpose", default="clerical review sample", show_default=True,
              help="Why (kept in the audit log).")
@BY_OPTION
@DATA_DIR_OPTION
def evaluate_sample(per_band: int, seed: int, out: Path | None, purpose: str, by: str | None,
                    data_dir: Path | None) -> None:
    """Draw a stratified sample of scored pairs for clerical review: fill in is_match (yes/no)
    and run hub evaluate. Holds identifiers: the identity zone's owner only."""
    from hub_assets.linkage.evaluate_store import write_sample
    from hub_assets.linkage.operations import LinkagePaths
    from hub_assets.settings import HubPaths
    from hub_assets.settings import data_dir as default_data_dir

    out = out or LinkagePaths.of(HubPaths(data_dir or default_data_dir())).labels / f"sample-{seed}.csv"
    with _identity(data_dir, f"evaluate sample: identities of scored pairs to {out}", purpose, by) as con:
        try:
            sheet = write_sample(con, out, per_band, seed)
        except FileExistsError as exc:
            raise click.ClickException(str(exc)) from exc
    counts = ", ".join(f"{band:g}: {n}" for band, n in sheet.group_by("band").len().sort("band").iter_rows())
    click.echo(f"{sheet.height} pairs to review ({counts}) -> {out}")


def _paths(data_dir: Path | None):
    """The data directory's paths, after the start-up permission check (a group- or
    world-readable identity store, archive or key file stops the command, naming it)."""
    from hub_assets.settings import HubPaths, require_private
    from hub_assets.settings import data_dir as default_data_dir

    paths = HubPaths(Path(data_dir or default_data_dir()).resolve())
    try:
        require_private(paths)
    except PermissionError as exc:
        raise click.ClickException(str(exc)) from exc
    return paths


def _audit_read(paths, what: str, purpose: str | None, by: str | None) -> None:
    from hub_assets.governance import audit

    try:
        audit.record_access(paths.root, what, purpose or "", by)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.sync_if_free(paths.root)


@contextmanager
def _identity(data_dir: Path | None, what: str, purpose: str | None, by: str | None):
    """A connection to the identity store, the read audited first (who, what, why)."""
    import duckdb

    from hub_assets.settings import private_files

    paths = _paths(data_dir)
    path = paths.identity_db
    if not path.exists():
        raise click.ClickException(f"no identity store at {path}: run the hub first")
    _audit_read(paths, what, purpose, by)
    with private_files(), duckdb.connect(str(path)) as con:  # a WAL it creates is the owner's only
        yield con


if __name__ == "__main__":
    main()
