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


if __name__ == "__main__":
    main()
