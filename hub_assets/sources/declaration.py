"""The one declaration of an agency source, read from ``agencies/<name>.yaml``.

A declaration says what a drop from the agency looks like (file pattern, cadence, snapshot or
append, delimiter, encoding, date format), which of its columns identify a person and in which
style, and which columns are content, with their types and code sets. A content column the
agency assigns as an identifier (an enrollment, household, registration or employer ID) says so
(``identifier: token`` or ``identifier: drop``): it reaches the warehouse only as a keyed token,
or not at all. It also names the agency's steward (``owner``), how its staging model renames
and deduplicates (``staging``), how its rows become service episodes (``episodes``) and how the
synthetic city plays it (``synth``). The ingest asset, its pandera schema, its sensor, its
checks, the synthetic generator, governance's list of agencies and every generated dbt file
(``dbt_project/scripts/generate_staging.py``) are derived from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

AGENCIES_DIR = Path(__file__).parent / "agencies"

ContentType = Literal["str", "int", "float", "date", "bool"]
NameStyle = Literal["separate", "last_comma_first", "first_last", "last_first"]
Cadence = Literal["weekly", "monthly", "quarterly", "yearly"]
# What happens to an agency-assigned identifier among the content columns: a keyed token
# ("<stem>_token", HMAC like a record token) in the warehouse, or dropped at the door.
IdentifierHandling = Literal["token", "drop"]

# Common race/ethnicity standard (OMB categories, 2024 revision, with MENA) used in the warehouse.
OMB_RACE_ETHNICITY = (
    "HISPANIC",  # Hispanic or Latino (any race)
    "BLACK",  # Black or African American
    "WHITE",
    "ASIAN",
    "AIAN",  # American Indian or Alaska Native
    "NHPI",  # Native Hawaiian or Pacific Islander
    "MENA",  # Middle Eastern or North African
    "MULTI",  # two or more races
    "UNKNOWN",
)

CADENCE_DAYS = {"weekly": 7, "monthly": 31, "quarterly": 92, "yearly": 366}


@dataclass(frozen=True)
class IdentityColumns:
    """Which file columns carry one person's identity. Agencies with two people in a row
    (vital records: child and mother) declare two blocks; the first is the primary person."""

    role: str
    record_id: str
    name_style: NameStyle
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None  # used when name_style is not "separate"
    dob: str | None = None
    sex: str | None = None
    address: str | None = None
    zip: str | None = None
    ssn: str | None = None  # Social Security number: wage, payroll, housing and care systems
    # The last name is the one given at birth (a birth certificate's mother's maiden name), so
    # linkage expects it to differ from the same person's later records after a marriage.
    surname_at_birth: bool = False
    # The youngest a person in this role can be when the agency's drop is loaded (a wage
    # earner 14, a mother 10): linkage never joins this record to records whose date of birth
    # makes the person younger. It matters where the record has no DOB of its own.
    min_age: int | None = None

    def __post_init__(self) -> None:
        if self.min_age is not None and not (isinstance(self.min_age, int) and 0 <= self.min_age <= 100):
            raise ValueError(f"identity block {self.role!r}: min_age must be a whole number of years "
                             f"from 0 to 100, not {self.min_age!r}")

    @property
    def token_column(self) -> str:
        """Warehouse column that carries this person's record token."""
        return "record_token" if self.role == "person" else f"{self.role}_record_token"

    @property
    def file_columns(self) -> list[str]:
        cols = [self.record_id, self.first_name, self.middle_name, self.last_name,
                self.full_name, self.dob, self.sex, self.address, self.zip, self.ssn]
        return [c for c in cols if c]


@dataclass(frozen=True)
class ContentColumn:
    name: str  # as spelled in the file header
    type: ContentType
    required: bool = False
    codes: tuple[str, ...] | None = None  # accepted values, when the column is coded
    true_values: tuple[str, ...] = ("Y", "YES", "TRUE", "1", "T")
    false_values: tuple[str, ...] = ("N", "NO", "FALSE", "0", "F")
    description: str = ""
    identifier: IdentifierHandling | None = None  # agency-assigned ID: tokenised or dropped

    def __post_init__(self) -> None:
        if self.identifier not in (None, "token", "drop"):
            raise ValueError(f"content column {self.name!r}: identifier must be token or drop, "
                             f"not {self.identifier!r}")
        if self.identifier and self.type != "str":
            raise ValueError(f"content column {self.name!r}: an identifier is declared as type str")

    @property
    def file_name(self) -> str:
        """The column as the agency's file spells it, snake-cased (``enrollment_id``)."""
        return snake_case(self.name)

    @property
    def warehouse_name(self) -> str:
        """The warehouse column: the snake-cased name, or for a tokenised identifier its token
        column (``enrollment_id`` -> ``enrollment_token``)."""
        name = snake_case(self.name)
        if self.identifier == "token":
            return re.sub(r"_(id|no|num|number|key)$", "", name) + "_token"
        return name


@dataclass(frozen=True)
class Plausibility:
    """What a believable row of the agency looks like; a row that is not is quarantined with the
    rule it breaks (``hub_assets.sources.plausibility``), and a drop whose quarantined share is
    over ``max_quarantine_share`` is rejected whole."""

    service_date: str | None = None  # the content date a row's service happened on
    ages: dict[str, tuple[int, int]] = field(default_factory=dict)  # role -> youngest, oldest at service
    dob_floor: date | None = None  # no date of birth before this
    # Date columns that may lie after the day the drop arrived (a planned exit, a registration
    # for next summer), with how many days ahead they may lie.
    may_be_future: dict[str, int] = field(default_factory=dict)
    max_quarantine_share: float = 0.5
    # The share is judged on drops of at least this many rows: on a handful of rows one bad row
    # is already a large share, and such a drop is better loaded with its rows quarantined.
    share_min_rows: int = 20

    def __post_init__(self) -> None:
        if not 0 <= self.max_quarantine_share <= 1:
            raise ValueError(f"max_quarantine_share must be a share from 0 to 1, not {self.max_quarantine_share!r}")
        for role, (lo, hi) in self.ages.items():
            if not 0 <= lo <= hi <= 120:
                raise ValueError(f"ages of {role!r}: [{lo}, {hi}] is not a range of ages in years")


@dataclass(frozen=True)
class Staging:
    """How the generated dbt staging model shapes the agency's raw table: warehouse columns
    renamed where the snake_case of the agency's header is unreadable, and for a snapshot
    agency (which resends its roster in every drop) the columns that identify one row, of which
    the latest drop's copy is kept."""

    renames: dict[str, str] = field(default_factory=dict)
    snapshot_keys: tuple[str, ...] = ()


SQL_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
EPISODE_FIELDS = ("service_type", "program", "provider", "start_date", "end_date", "record_token", "source_ref",
                  "neighbourhood", "where", "group_by", "summer")


@dataclass(frozen=True)
class Episodes:
    """How the agency's staged rows become service episodes (``int_service_episodes``). Each
    field is a SQL expression over the staging model's columns; ``service_type`` is a label.
    ``group_by`` collapses rows (a tenancy from dated snapshots: the other fields are then
    aggregates); ``where`` keeps only rows that are services; ``summer`` makes the agency a
    summer provider, with the expressions deciding whether an episode is a summer programme and
    which summer it belongs to."""

    service_type: str
    program: str
    start_date: str
    end_date: str | None = None
    provider: str | None = None
    record_token: str = "record_token"
    source_ref: str = "row_token"  # what makes the episode unique within the agency and person
    neighbourhood: str = "neighbourhood"
    where: str | None = None
    group_by: tuple[str, ...] = ()
    is_summer_program: str | None = None
    summer_year: str | None = None

    @property
    def is_summer_provider(self) -> bool:
        return self.is_summer_program is not None


# How a synthetic agency's staff or system writes names and addresses: always upper case,
# title case, or as typed (a mix of both and lower case).
CaseHabit = Literal["upper", "title", "typed"]


@dataclass(frozen=True)
class Synth:
    """How the synthetic city plays this agency. ``program`` names the behaviour (who it serves,
    when, what it records) registered with ``@program`` in ``hub_assets.synth``; by default the
    agency's own name. The rest is data: how its staff write names (``case``); its noise rates
    are the declaration's ``noise``."""

    program: str
    case: CaseHabit = "typed"

    def __post_init__(self) -> None:
        if self.case not in ("upper", "title", "typed"):
            raise ValueError(f"synth.case must be upper, title or typed, not {self.case!r}")


@dataclass(frozen=True)
class AgencySource:
    name: str
    title: str
    owner: str
    description: str
    entity: str  # what one row is, for dbt naming: stg_<name>__<entity>
    file_pattern: str  # glob matched against file names in landing/<name>/
    cadence: Cadence
    expected_lag_days: int
    mode: Literal["snapshot", "append"]
    delimiter: str
    encoding: str
    date_format: str  # strftime-style format of every date column (DOB and content)
    identities: tuple[IdentityColumns, ...]
    sex_codes: dict[str, str]  # agency code -> M/F/X; unknown codes become null
    race_column: str | None
    race_codes: dict[str, str]  # agency code -> one of OMB_RACE_ETHNICITY
    content: tuple[ContentColumn, ...]
    noise: dict[str, float] = field(default_factory=dict)  # synthetic-city noise rates
    plausibility: Plausibility = field(default_factory=Plausibility)
    synth: Synth | None = None  # filled from the name when the declaration has no synth block
    staging: Staging = field(default_factory=Staging)
    episodes: Episodes | None = None  # None: the rows are events, not services

    def __post_init__(self) -> None:
        if self.synth is None:  # built in code rather than read: the behaviour named after the agency
            object.__setattr__(self, "synth", Synth(program=self.name))

    @property
    def staging_columns(self) -> list[str]:
        """Columns of the generated staging model before person keys are joined: record tokens,
        row locators, content (renamed), race/ethnicity and neighbourhood."""
        cols = [block.token_column for block in self.identities] + ["drop_token", "row_token", "loaded_at"]
        cols += [self.staging.renames.get(c.warehouse_name, c.warehouse_name) for c in self.warehouse_content]
        return cols + ["race_ethnicity", "neighbourhood"]

    @property
    def primary(self) -> IdentityColumns:
        return self.identities[0]

    def identity_source(self, block: IdentityColumns) -> str:
        """The identity source a block's people are linked as: the agency's name for its main
        person, ``<agency>_<role>`` for another person in the row (a birth record's mother)."""
        return self.name if block.role == "person" else f"{self.name}_{block.role}"

    @property
    def expected_columns(self) -> list[str]:
        """Every column a drop must have, in the order the agency writes them."""
        cols: list[str] = []
        for block in self.identities:
            cols += block.file_columns
        if self.race_column:
            cols.append(self.race_column)
        cols += [c.name for c in self.content]
        return list(dict.fromkeys(cols))

    @property
    def identifier_columns(self) -> set[str]:
        """File columns that identify a person or an agency record: identity blocks and
        agency-assigned identifiers among the content."""
        return ({c for block in self.identities for c in block.file_columns}
                | {c.name for c in self.content if c.identifier})

    @property
    def warehouse_content(self) -> tuple[ContentColumn, ...]:
        """Content columns that reach the warehouse (dropped identifiers do not)."""
        return tuple(c for c in self.content if c.identifier != "drop")

    @property
    def tokenised(self) -> tuple[ContentColumn, ...]:
        return tuple(c for c in self.content if c.identifier == "token")

    @property
    def freshness_days(self) -> int:
        return CADENCE_DAYS[self.cadence] + self.expected_lag_days

    def matches(self, file_name: str) -> bool:
        from fnmatch import fnmatch

        return fnmatch(file_name, self.file_pattern)


# Hub-assigned columns that point at one row of one agency file: the identity zone keeps them,
# the warehouse carries a drop token and a row token instead.
DROP_LOCATORS = frozenset({"drop_id", "source_row"})
# Spellings that mean an identifier whatever agency wrote them. Sex is a demographic the spine
# carries (generalised for analysts), so it is not here; a full ZIP is (the warehouse keeps the
# neighbourhood).
GENERIC_IDENTIFIERS = frozenset({
    "first_name", "middle_name", "last_name", "full_name", "name", "dob", "date_of_birth", "birth_date",
    "ssn", "phone", "address", "street", "street_address", "zip", "zip_code", "record_id"})


def identifier_column_names(sources: tuple[AgencySource, ...] | None = None) -> frozenset[str]:
    """The one list of column names that must never be outside the identity zone: every
    declared identifier column of every agency (identity blocks except sex, and agency-assigned
    content identifiers), snake-cased, the drop locators and the generic spellings. The intake
    checks, the identifier scan and the spine checks all ask this function."""
    names = set(GENERIC_IDENTIFIERS | DROP_LOCATORS)
    for source in load_agencies() if sources is None else sources:
        for block in source.identities:
            names |= {snake_case(c) for c in block.file_columns if c != block.sex}
        names |= {c.file_name for c in source.content if c.identifier}
    return frozenset(names)


def snake_case(name: str) -> str:
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def _identity(raw: dict) -> IdentityColumns:
    return IdentityColumns(**raw)


def _content(name: str, raw: dict) -> ContentColumn:
    raw = dict(raw)
    for key in ("codes", "true_values", "false_values"):
        if key in raw and raw[key] is not None:
            raw[key] = tuple(str(v) for v in raw[key])
    return ContentColumn(name=name, **raw)


def _plausibility(raw: dict) -> Plausibility:
    raw = dict(raw)
    raw["ages"] = {role: (int(lo), int(hi)) for role, (lo, hi) in raw.get("ages", {}).items()}
    raw["may_be_future"] = {str(c): int(days) for c, days in (raw.get("may_be_future") or {}).items()}
    if isinstance(raw.get("dob_floor"), str):
        raw["dob_floor"] = date.fromisoformat(raw["dob_floor"])
    return Plausibility(**raw)


def _synth(name: str, raw: dict | None) -> Synth:
    raw = dict(raw or {})
    unknown = set(raw) - {"program", "case"}
    if unknown:
        raise ValueError(f"agency {name}: synth block has unknown keys {sorted(unknown)} (known: case, program)")
    return Synth(program=str(raw.pop("program", name)), **raw)


def _staging(name: str, raw: dict | None) -> Staging:
    raw = dict(raw or {})
    unknown = set(raw) - {"renames", "snapshot_keys"}
    if unknown:
        raise ValueError(f"agency {name}: staging block has unknown keys {sorted(unknown)} "
                         f"(known: renames, snapshot_keys)")
    return Staging(renames={str(k): str(v) for k, v in (raw.get("renames") or {}).items()},
                   snapshot_keys=tuple(str(c) for c in raw.get("snapshot_keys") or ()))


def _episodes(name: str, raw: dict | None) -> Episodes | None:
    if raw is None:
        return None
    raw = dict(raw)
    unknown = set(raw) - set(EPISODE_FIELDS)
    if unknown:
        raise ValueError(f"agency {name}: episodes block has unknown keys {sorted(unknown)} "
                         f"(known: {', '.join(EPISODE_FIELDS)})")
    missing = {"service_type", "program", "start_date"} - set(raw)
    if missing:
        raise ValueError(f"agency {name}: episodes block lacks {sorted(missing)}")
    summer = raw.pop("summer", None)
    if summer is not None:
        if set(summer) != {"is_summer_program", "summer_year"}:
            raise ValueError(f"agency {name}: episodes.summer needs exactly is_summer_program and summer_year")
        raw |= {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in summer.items()}
    raw["group_by"] = tuple(raw.get("group_by") or ())
    return Episodes(**{k: (str(v) if isinstance(v, (int, float, bool)) else v) for k, v in raw.items()})


def _check_staging(source: AgencySource) -> None:
    """Names the staging and episode blocks use are the agency's own columns."""
    where = f"agency {source.name} (hub_assets/sources/agencies/{source.name}.yaml)"
    content = {c.warehouse_name for c in source.warehouse_content}
    bad = set(source.staging.renames) - content
    if bad:
        raise ValueError(f"{where}: staging.renames renames {sorted(bad)}, which are not its warehouse content "
                         f"columns ({sorted(content)})")
    if source.staging.snapshot_keys and source.mode != "snapshot":
        raise ValueError(f"{where}: staging.snapshot_keys is only for mode: snapshot (this agency is {source.mode})")
    if source.mode == "snapshot" and not source.staging.snapshot_keys:
        raise ValueError(f"{where}: a snapshot agency declares staging.snapshot_keys, the columns of one row")
    columns = source.staging_columns
    bad = [c for c in source.staging.snapshot_keys if c not in columns]
    if bad:
        raise ValueError(f"{where}: staging.snapshot_keys {bad} are not staging columns ({columns})")
    ep = source.episodes
    if ep is None:
        return
    if not SQL_IDENTIFIER.match(ep.service_type):
        raise ValueError(f"{where}: episodes.service_type is a label in snake_case, not {ep.service_type!r}")
    plain = {f: getattr(ep, f) for f in ("program", "provider", "start_date", "end_date", "record_token",
                                          "source_ref", "neighbourhood")}
    plain |= {f"group_by[{i}]": c for i, c in enumerate(ep.group_by)}
    for f, expr in plain.items():
        # A bare name is a column; anything else is a SQL expression the dbt build checks.
        if expr and SQL_IDENTIFIER.match(expr) and expr not in columns and expr not in ("true", "false", "null"):
            raise ValueError(f"{where}: episodes.{f} names column {expr!r}, which its staging model does not "
                             f"have ({columns})")


def parse_declaration(raw: dict) -> AgencySource:
    raw = dict(raw)
    name = raw.get("name", "?")
    raw["synth"] = _synth(name, raw.get("synth"))
    raw["staging"] = _staging(name, raw.get("staging"))
    raw["episodes"] = _episodes(name, raw.get("episodes"))
    raw["plausibility"] = _plausibility(raw.get("plausibility") or {})
    raw["identities"] = tuple(_identity(b) for b in raw["identities"])
    raw["content"] = tuple(_content(n, c or {}) for n, c in raw["content"].items())
    raw["sex_codes"] = {str(k): v for k, v in raw.get("sex_codes", {}).items()}
    raw["race_codes"] = {str(k): v for k, v in raw.get("race_codes", {}).items()}
    bad = set(raw["race_codes"].values()) - set(OMB_RACE_ETHNICITY)
    if bad:
        raise ValueError(f"agency {raw['name']}: race codes map to unknown categories {sorted(bad)}")
    source = AgencySource(**raw)
    _check_staging(source)
    return source


@cache
def load_agencies(directory: Path = AGENCIES_DIR) -> tuple[AgencySource, ...]:
    """Every declared agency, sorted by name."""
    sources = []
    for path in sorted(directory.glob("*.yaml")):
        with path.open() as fh:
            source = parse_declaration(yaml.safe_load(fh))
        if source.name != path.stem:
            raise ValueError(f"{path}: declares name {source.name!r}; the file must be named after it")
        sources.append(source)
    return tuple(sources)


def agency(name: str) -> AgencySource:
    for source in load_agencies():
        if source.name == name:
            return source
    raise KeyError(f"no agency source is declared with name {name!r}")
