"""Clerical review of the merges an incremental attach would not make on its own.

An attach queues a new record that matches two or more existing people (``review_queue``,
incremental.py): it joins the strongest, and the question "are these people one person?" waits
for a reviewer. A reviewer answers it in ``review_decisions``: ``merge`` (they are one person)
or ``keep_apart`` (they are not).

A full re-link keeps apart the people of every ``keep_apart`` decision, always. People still
awaiting review are kept apart too while the board's policy (``governance.yaml``,
``linkage.pending_review_at_relink``) is ``hold``, the default: otherwise the nightly re-link
would merge them unseen, which is exactly what queueing them was for, and retire a key each
time. With ``merge`` the re-link decides as its model says. A ``merge`` decision lifts the hold;
the next full re-link makes the merge (and logs it as a key event).
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import combinations
from typing import Literal, get_args

import duckdb
import polars as pl

from hub_assets.linkage import store
from hub_assets.linkage.cluster import KeptApart
from hub_assets.review_policy import POLICIES, Policy

Decision = Literal["merge", "keep_apart"]
DECISIONS: tuple[str, ...] = get_args(Decision)
DECISION_SCHEMA = {"record_token": pl.String, "decision": pl.String, "decided_by": pl.String,
                   "note": pl.String, "decided_at": pl.Datetime("us", "UTC")}


def latest_decisions(decisions: pl.DataFrame) -> pl.DataFrame:
    """The newest decision per queued record (a reviewer may change their mind)."""
    if decisions.height == 0:
        return decisions.select("record_token", "decision")
    return (decisions.sort("decided_at").group_by("record_token")
            .agg(pl.col("decision").last()))


def pending(queue: pl.DataFrame, decisions: pl.DataFrame) -> pl.DataFrame:
    """Queued records nobody has decided yet, oldest first."""
    return (queue.join(latest_decisions(decisions), on="record_token", how="anti")
            .sort("queued_at", "record_token"))


def kept_apart(queue: pl.DataFrame, decisions: pl.DataFrame, previous_keys: pl.DataFrame,
               policy: Policy = "hold") -> KeptApart:
    """The people a full re-link must not merge: every pair of candidate keys of a queued record
    decided ``keep_apart``, and, under ``hold``, of one not decided yet."""
    if policy not in POLICIES:
        raise ValueError(f"pending-review policy must be one of {POLICIES}, not {policy!r}")
    held_if = pl.col("decision") == "keep_apart"
    if policy == "hold":
        held_if = held_if | pl.col("decision").is_null()
    held = (queue.join(latest_decisions(decisions), on="record_token", how="left")
            .filter(held_if))
    pairs: set[frozenset[str]] = set()
    for attached, candidates in held.select("attached_key", "candidate_keys").iter_rows():
        keys = sorted({attached, *(candidates or [])} - {None})
        pairs.update(frozenset(pair) for pair in combinations(keys, 2))
    keys = sorted({key for pair in pairs for key in pair})
    records = (previous_keys.filter(pl.col("person_key").is_in(keys))
               .select("record_token", pl.col("person_key").alias("held_key")))
    return KeptApart(records, frozenset(pairs))


def record_decision(identity: duckdb.DuckDBPyConnection, record_token: str, decision: Decision,
                    by: str, note: str = "", at: datetime | None = None) -> dict:
    """Record a reviewer's answer for one queued record; returns the queue row it answers."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    if not by.strip():
        raise ValueError("a decision needs the reviewer's name (decided_by)")
    queued = _queued(identity, record_token)
    row = pl.DataFrame([{"record_token": record_token, "decision": decision, "decided_by": by,
                         "note": note, "decided_at": at or datetime.now(UTC)}],
                       schema=DECISION_SCHEMA)
    store.append(identity, "review_decisions", row)
    return queued


# What a reviewer sees of each record: enough to judge, in the identity zone only.
SHOWN_COLUMNS = ("source", "first_name", "middle_name", "last_name", "dob", "sex", "address", "zip")


def side_by_side(identity: duckdb.DuckDBPyConnection, record_token: str) -> pl.DataFrame:
    """The queued record above the current records of each candidate person: ``who`` ("queued"
    or the person key), the identity columns, and the SSN's last four digits only."""
    queued = _queued(identity, record_token)
    keys = [queued["attached_key"], *queued["candidate_keys"]]
    # Filtered in DuckDB: only the candidates' few records leave the store, not a million rows.
    shown = ", ".join(f"c.{column}" for column in SHOWN_COLUMNS)
    return identity.sql(f"""
        with who as (
            select ?::varchar as record_token, 'queued' as who
            union all
            select record_token, person_key from person_keys
            where person_key in (select unnest(?::varchar[])) and record_token <> ?
        )
        select who.who, {shown}, right(c.ssn::varchar, 4) as ssn_last4
        from who left join current_records c using (record_token)
        order by who.who <> 'queued', who.who, c.source, who.record_token
    """, params=[record_token, keys, record_token]).pl()


def _queued(identity: duckdb.DuckDBPyConnection, record_token: str) -> dict:
    """The latest queue row of a record; KeyError when it was never queued."""
    queued = store.read(identity, "review_queue").filter(pl.col("record_token") == record_token)
    if queued.height == 0:
        raise KeyError(f"record token {record_token!r} is not in the review queue")
    return queued.to_dicts()[-1]
