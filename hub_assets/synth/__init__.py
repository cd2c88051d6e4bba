"""The synthetic city: ``generate_city`` writes every declared agency's drops and the truth.

``OUT/landing/<agency>/<file>`` holds the drops, each in its agency's declared format;
``OUT/truth/`` holds who everyone really is (persons), which person each agency record is
(records), which person each file row is (rows), the planted bad rows (problems), headline
facts computed from the truth (facts.json) and the planted programme effects
(programme_effects.csv). Same seed, same bytes.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import polars as pl

from hub_assets.sources.declaration import AgencySource, load_agencies
from hub_assets.synth.cohorts import add_cohorts
from hub_assets.synth.drops import build_drops, write_drop
from hub_assets.synth.facts import write_facts
from hub_assets.synth.outcomes import plant_outcomes
from hub_assets.synth.population import build_population
from hub_assets.synth.programs import program_for
from hub_assets.synth.ssn import assign_ssns

TRUTH_PERSON_COLUMNS = [
    "person_id", "first_name", "middle_name", "last_name", "birth_last_name", "suffix", "dob", "sex",
    "race_ethnicity", "csa", "zip", "address", "prev_address", "prev_zip", "prev_csa", "move_date",
    "household_id", "mother_person_id", "is_twin", "is_youth", "kind", "in_school", "disconnected",
    "foster", "djs", "hmis_family", "hmis_youth", "public_housing", "ssn",
]


def agency_seed(name: str) -> int:
    """A stable number from the agency's name (not its position among the declarations), so
    declaring another agency leaves every other agency's drops byte-identical."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")


def generate_city(persons: int, seed: int, out: Path, noise_scale: float = 1.0,
                  agencies: tuple[AgencySource, ...] | None = None) -> str:
    """Generate a city of ``persons`` youth (0-24, plus their adult mothers) into ``out``, with
    drops from ``agencies`` (default: every declared agency)."""
    started = time.perf_counter()
    out = Path(out)
    rng = np.random.default_rng(seed)
    people = add_cohorts(build_population(persons, rng), rng)
    people = assign_ssns(people, np.random.default_rng([seed, 0]))
    truth = out / "truth"
    truth.mkdir(parents=True, exist_ok=True)
    records, rows, problems, counts, n_files = [], [], [], {}, 0
    agencies = load_agencies() if agencies is None else agencies
    programs = {agency.name: program_for(agency) for agency in agencies}  # every one known before any is drawn
    # One generator per agency, seeded from its name, so adding an agency does not change the
    # others' drops.
    rngs = {agency.name: np.random.default_rng([seed, agency_seed(agency.name)]) for agency in agencies}
    program_rows = {agency.name: programs[agency.name](people, rngs[agency.name]) for agency in agencies}
    # Programme selection and effects are planted across agencies once every agency's rows exist.
    program_rows, effects = plant_outcomes(people, program_rows, np.random.default_rng([seed, 0, 1]))
    for agency in agencies:
        drops = build_drops(agency, program_rows[agency.name], people, rngs[agency.name], noise_scale,
                            agency.synth.case, ssn_rng=np.random.default_rng([seed, agency_seed(agency.name), 0]))
        for name, frame in drops.files.items():
            write_drop(agency, frame, out / "landing" / agency.name / name)
        n_files += len(drops.files)
        counts[agency.name] = sum(f.height for f in drops.files.values())
        records.append(drops.records)
        rows.append(drops.rows)
        problems.append(drops.problems)
    people.select(TRUTH_PERSON_COLUMNS).write_parquet(truth / "persons.parquet")
    records_df = pl.concat(records)
    records_df.write_parquet(truth / "records.parquet")
    rows_df = pl.concat(rows, how="diagonal_relaxed")
    rows_df.write_parquet(truth / "rows.parquet")
    pl.concat(problems).write_parquet(truth / "problems.parquet")
    write_facts(people, rows_df, truth)
    effects.write_csv(truth / "programme_effects.csv")
    seconds = time.perf_counter() - started
    youth = int(people["is_youth"].sum())
    lines = [f"synthetic city (seed {seed}): {youth} youth + {people.height - youth} adult mothers, "
             f"{records_df.height} identity records, {sum(counts.values())} rows in {n_files} files, "
             f"{seconds:.1f} s -> {out}"]
    lines += [f"  {name:<18} {n:>8} rows" for name, n in counts.items()]
    return "\n".join(lines)
