"""Clerical review: which people a full re-link keeps apart, and the reviewer's commands."""

from datetime import UTC, datetime

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from hub_assets.cli import main
from hub_assets.linkage import store
from hub_assets.linkage.incremental import REVIEW_SCHEMA
from hub_assets.linkage.review import DECISION_SCHEMA, kept_apart, pending, record_decision
from hub_assets.settings import private_files

AT = datetime(2026, 11, 1, tzinfo=UTC)
PREVIOUS = pl.DataFrame({"record_token": ["r1", "r2", "r3", "r4", "r5", "new1", "new2"],
                         "person_key": ["A", "A", "B", "C", "D", "A", "C"]})


def _queue(*rows):
    return pl.DataFrame([dict(record_token=t, attached_key=k, candidate_keys=c, best_probability=0.99,
                              reason="matches more than one existing person", queued_at=AT)
                         for t, k, c in rows], schema=REVIEW_SCHEMA)


def _decisions(*rows):
    return pl.DataFrame([dict(record_token=t, decision=d, decided_by="reviewer", note="", decided_at=when)
                         for t, d, when in rows], schema=DECISION_SCHEMA)


QUEUE = _queue(("new1", "A", ["A", "B"]), ("new2", "C", ["C", "D", "B"]))


def test_pending_people_are_held_apart_under_the_hold_policy_only():
    held = kept_apart(QUEUE, _decisions(), PREVIOUS, "hold")
    assert held.pairs == {frozenset(p) for p in [("A", "B"), ("B", "C"), ("B", "D"), ("C", "D")]}
    assert dict(held.records.iter_rows()) == {"r1": "A", "r2": "A", "new1": "A", "r3": "B",
                                              "r4": "C", "new2": "C", "r5": "D"}
    assert kept_apart(QUEUE, _decisions(), PREVIOUS, "merge").pairs == frozenset()
    with pytest.raises(ValueError, match="hold"):
        kept_apart(QUEUE, _decisions(), PREVIOUS, "sometimes")


def test_a_keep_apart_decision_holds_under_either_policy_and_a_merge_decision_lifts_the_hold():
    later = datetime(2026, 11, 2, tzinfo=UTC)
    decisions = _decisions(("new1", "keep_apart", AT), ("new2", "keep_apart", AT), ("new2", "merge", later))
    assert kept_apart(QUEUE, decisions, PREVIOUS, "merge").pairs == {frozenset(("A", "B"))}
    # new2's latest answer is merge: only new1's pair is held, whatever the policy
    assert kept_apart(QUEUE, decisions, PREVIOUS, "hold").pairs == {frozenset(("A", "B"))}
    assert pending(QUEUE, decisions).height == 0
    assert pending(QUEUE, _decisions(("new1", "merge", AT)))["record_token"].to_list() == ["new2"]


def test_reviewer_commands_list_decide_and_refuse_unknown_tokens(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    with private_files(), duckdb.connect(str(tmp_path / "identity.duckdb")) as con:
        store.append(con, "review_queue", QUEUE)
    runner = CliRunner()
    listed = runner.invoke(main, ["review", "list"])
    assert listed.exit_code == 0, listed.output
    assert "2 awaiting review" in listed.output and "candidates C, D, B" in listed.output

    decided = runner.invoke(main, ["review", "decide", "new2", "keep_apart", "--by", "J. Reviewer"])
    assert decided.exit_code == 0, decided.output
    unknown = runner.invoke(main, ["review", "decide", "nope", "merge", "--by", "J. Reviewer"])
    assert unknown.exit_code != 0 and "not in the review queue" in unknown.output
    assert "1 awaiting review" in runner.invoke(main, ["review", "list"]).output
    with duckdb.connect(str(tmp_path / "identity.duckdb")) as con:
        with pytest.raises(ValueError, match="reviewer"):
            record_decision(con, "new1", "merge", by=" ")
        decisions = store.read(con, "review_decisions")
    assert decisions.select("record_token", "decision", "decided_by").rows() == [("new2", "keep_apart", "J. Reviewer")]
    # the decided pairs are now held under the merge policy too
    assert frozenset(("C", "D")) in kept_apart(QUEUE, decisions, PREVIOUS, "merge").pairs


def test_review_show_puts_the_queued_record_beside_each_candidate_persons_records(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    names = {"r1": "DESTINY", "r2": "DESTINY", "r3": "DESTANY", "r4": "KEVIN", "r5": "MALIK",
             "new1": "DESTINY", "new2": "KEVIN"}
    records = PREVIOUS.select("record_token").with_columns(
        source=pl.lit("city_schools"), first_name=pl.col("record_token").replace_strict(names),
        middle_name=pl.lit(None, pl.String), last_name=pl.lit("HARRIS"), dob=pl.lit("2009-04-02"),
        sex=pl.lit("F"), address=pl.lit("12 YORK RD"), zip=pl.lit("21218"),
        ssn=pl.when(pl.col("record_token") == "r3").then(pl.lit("212342405")))
    with private_files(), duckdb.connect(str(tmp_path / "identity.duckdb")) as con:
        store.append(con, "review_queue", QUEUE)
        store.replace(con, "person_keys", PREVIOUS)
        with store.registered(con, "_records", records):
            con.execute("create table current_records as select * from _records")
    shown = CliRunner().invoke(main, ["review", "show", "new1", "--purpose", "clerical review of new1"])
    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.output.splitlines() if "HARRIS" in line]
    # new1 first, then the records of its candidates A (r1, r2) and B (r3): not C's or D's
    assert [row.strip("│ ").split("┆")[0].strip() for row in rows] == ["queued", "A", "A", "B"]
    assert "DESTANY" in rows[3] and "2405" in rows[3] and "212342405" not in shown.output
    assert "KEVIN" not in shown.output and "MALIK" not in shown.output
    unknown = CliRunner().invoke(main, ["review", "show", "nope", "--purpose", "clerical review"])
    assert unknown.exit_code != 0 and "not in the review queue" in unknown.output
