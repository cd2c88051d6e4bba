"""The ``hub`` command: the platform team's scripted entry points.

Each sub-command imports its machinery lazily so that ``hub --help`` stays instant.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


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
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Data directory (default: $HUB_DATA_DIR or ./data).")
def run(data_dir: Path | None) -> None:
    """Register new drops and materialise the whole asset graph, as the sensors would."""
    from hub_assets.run import run_hub

    sys.exit(run_hub(data_dir))


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help="Where to write record_id,person_key (.csv or .parquet).")
def link(inputs: tuple[Path, ...], out: Path) -> None:
    """Link identity records in the standard schema with the hub's own settings."""
    from hub_assets.linkage.cli import link_files

    link_files(list(inputs), out)


@main.command()
def prepare() -> None:
    """Prepare the dbt manifest Dagster builds the use-case assets from (``dbt parse``)."""
    from hub_assets.defs.dbt.project import prepare_manifest

    click.echo(f"dbt manifest: {prepare_manifest()}")


@main.command("export-analyst")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Data directory (default: $HUB_DATA_DIR or ./data).")
def export_analyst(out: Path, data_dir: Path | None) -> None:
    """Write a DuckDB file with just the schemas the analyst role may read (governance.yaml)."""
    from hub_assets.privacy.analyst_export import export_for_analysts
    from hub_assets.settings import data_dir as default_data_dir

    summary, hits = export_for_analysts(data_dir or default_data_dir(), out)
    if hits:
        click.echo("refused: the export held identifiers and was deleted:\n" + "\n".join(map(str, hits[:20])), err=True)
        sys.exit(1)
    click.echo(f"wrote {summary.out}: {len(summary.tables)} tables, "
               f"{len(summary.dropped_columns)} record-token columns dropped, sha256 {summary.digest}")


@main.command()
@click.option("--limit", default=20, show_default=True, help="How many recent events to show.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Data directory (default: $HUB_DATA_DIR or ./data).")
def audit(limit: int, data_dir: Path | None) -> None:
    """Print the most recent audit events (materialisations, public releases, exports)."""
    from hub_assets.privacy.audit import read_log
    from hub_assets.settings import data_dir as default_data_dir

    for event in read_log(data_dir or default_data_dir())[-limit:]:
        click.echo(f"{event['at']}  {event['who']:<10} {event['action']:<16} {event['what']}"
                   f"  approval={event.get('approval') or '-'}  sha256={(event.get('digest') or '-')[:12]}")


if __name__ == "__main__":
    main()
