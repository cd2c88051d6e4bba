"""Incremental attach: new records join the person they match, become new people, or — when
they would join two existing people — are queued for review instead of merging them."""

from datetime import date

import polars as pl
import pytest

from hub_assets.linkage.cluster import ALL_RULES
from hub_assets.linkage.incremental import attach_new_records
from hub_assets.linkage.pipeline import full_relink
from hub_assets.linkage.prepare import prepare_records
from hub_assets.linkage.refusals import applied_rules, attach_rules, rule_evidence
from linkage_people import NICKNAMES, people, trained_model


def _record(token, first, last, dob, address="77 GREENMOUNT AVE", zip_code="21218", sex="F"):
    return dict(record_token=token, source="hmis", record_id=token, first_name=first,
                middle_name=None, last_name=last, dob=date.fromisoformat(dob), sex=sex,
                address=address, zip=zip_code, race_ethnicity="BLACK", drop_id="hmis_1.csv")


@pytest.fixture(scope="module")
def linked():
    """A linked population plus two look-alike records deliberately kept as two people."""
    records, _ = people(300)
    twins = pl.DataFrame([_record("dup_a", "KIARA", "PEMBERTON", "2009-06-17"),
                          _record("dup_b", "KIARA", "PEMBERTON", "2009-06-17")])
    records = pl.concat([records, twins], how="vertical_relaxed")
    model = trained_model()
    relink = full_relink(prepare_records(records, NICKNAMES), model,
                         pl.DataFrame(schema={"record_token": pl.String, "person_key": pl.String}))
    keys = relink.keys.with_columns(
        pl.when(pl.col("record_token") == "dup_b").then(pl.lit("separate-key"))
        .otherwise(pl.col("person_key")).alias("person_key"))
    return records, keys, model


def _attach(linked, *new, **options):
    records, keys, model = linked
    everyone = pl.concat([records, pl.DataFrame(list(new))], how="vertical_relaxed")
    return attach_new_records(prepare_records(everyone, NICKNAMES), keys, model, **options)


def test_new_record_joins_the_existing_person_it_matches(linked):
    records, keys, _ = linked
    existing = records.filter(pl.col("record_token") == "tok_000000").to_dicts()[0]
    again = {**existing, "record_token": "new_1", "record_id": "new_1", "source": "rec_parks"}
    result = _attach(linked, again)
    expected = keys.filter(pl.col("record_token") == "tok_000000")["person_key"][0]
    assert dict(result.keys.iter_rows()) == {"new_1": expected}
    assert result.review.height == 0


def test_new_person_gets_a_new_key(linked):
    _, keys, _ = linked
    result = _attach(linked, _record("new_2", "XIOMARA", "QUINTANILLA", "2012-02-29",
                                     address="5 NOWHERE CT", zip_code="21230"))
    key = dict(result.keys.iter_rows())["new_2"]
    assert key not in set(keys["person_key"])
    assert result.review.height == 0


def test_new_records_matching_each_other_share_one_new_key(linked):
    result = _attach(linked,
                     _record("new_3", "XIOMARA", "QUINTANILLA", "2012-02-29", address="5 NOWHERE CT"),
                     _record("new_4", "XIOMARA", "QUINTANILLA", "2012-02-29", address="5 NOWHERE CT"))
    got = dict(result.keys.iter_rows())
    assert got["new_3"] == got["new_4"]


def test_record_matching_two_existing_people_is_queued_not_merged(linked):
    _, keys, _ = linked
    result = _attach(linked, _record("new_5", "KIARA", "PEMBERTON", "2009-06-17"))
    [row] = result.review.to_dicts()
    key_a = keys.filter(pl.col("record_token") == "dup_a")["person_key"][0]
    assert row["record_token"] == "new_5"
    assert set(row["candidate_keys"]) == {key_a, "separate-key"}
    # attached to the strongest candidate so it is counted once; existing keys untouched
    assert dict(result.keys.iter_rows())["new_5"] == row["attached_key"]
    assert set(result.keys["record_token"]) == {"new_5"}


def test_an_attach_applies_the_refusal_rules_a_full_relink_applies(linked):
    """A new record that agrees with an existing person on everything but a wholly different DOB
    scores as a match; whether it joins that person is the DOB rule's call, as in a re-link."""
    records, keys, _ = linked
    existing = records.filter(pl.col("record_token") == "tok_000000").to_dicts()[0]
    again = {**existing, "record_token": "new_7", "record_id": "new_7", "source": "rec_parks",
             "dob": date(1995, 11, 28)}
    person = keys.filter(pl.col("record_token") == "tok_000000")["person_key"][0]

    refused = _attach(linked, again, rules=ALL_RULES)
    assert dict(refused.keys.iter_rows())["new_7"] != person
    assert refused.refused.filter(pl.col("unique_id_l") == "new_7")["rule"].to_list() == ["dob"]
    allowed = _attach(linked, again, rules=ALL_RULES - {"dob"})
    assert dict(allowed.keys.iter_rows())["new_7"] == person and allowed.refused.height == 0

    # Which rules: the policy's on and off, and for auto the last full re-link's decision.
    prepared = prepare_records(records, NICKNAMES)
    auto = {rule: "auto" for rule in ALL_RULES}
    decided = {rule: rule != "dob" for rule in ALL_RULES}
    assert attach_rules(prepared, decided, auto) == ALL_RULES - {"dob"}
    assert attach_rules(prepared, decided, auto | {"dob": "on", "sex": "off"}) == ALL_RULES - {"sex"}
    # No re-link has decided yet: tested on the records, as a re-link would.
    assert attach_rules(prepared, {}, auto) == applied_rules(rule_evidence(prepared, auto))


def test_candidate_selection_keeps_every_existing_record_splink_would_block_with(linked):
    """The polars keys (blocking.BLOCKING_KEYS) must select exactly the existing records that
    Splink's prediction rules pair with some new record: fewer would lose links."""
    from hub_assets.linkage.incremental import candidate_records
    from hub_assets.linkage.settings import linkage_settings
    from hub_assets.linkage.train import make_linker

    records, _, _ = linked
    prepared = prepare_records(records, NICKNAMES)
    new = prepared.sample(40, seed=3)
    existing = prepared.join(new, on="unique_id", how="anti")
    chosen = set(candidate_records(existing, new)["unique_id"])
    linker = make_linker(new, linkage_settings(), table="hub_new_records")
    db_api = linker._db_api
    con = db_api.duckdb_con
    for column in ("first_name", "last_name", "address"):
        linker.table_management.compute_tf_table(column)
    con.register("_e", existing.to_arrow())
    con.execute("create table hub_known as select * from _e")
    blocked = linker.inference.predict_between(db_api.register("hub_known"),
                                               db_api.register("hub_new_records"),
                                               warning_mode="never")
    splink_side = {row[0] for row in con.sql(
        f"select unique_id_l from {blocked.physical_name} union "
        f"select unique_id_r from {blocked.physical_name}").fetchall()} - set(new["unique_id"])
    assert len(splink_side) > 40
    assert chosen == splink_side


def test_a_full_relink_holds_people_awaiting_review_apart_until_a_reviewer_merges_them(linked):
    from hub_assets.linkage.keys import key_stability
    from hub_assets.linkage.review import kept_apart

    records, keys, model = linked
    new = pl.DataFrame([_record("new_6", "KIARA", "PEMBERTON", "2009-06-17")])
    everyone = pl.concat([records, new], how="vertical_relaxed")
    prepared = prepare_records(everyone, NICKNAMES)
    attached = attach_new_records(prepared, keys, model)
    assert attached.review.height == 1
    after_attach = pl.concat([keys, attached.keys])
    no_decisions = pl.DataFrame(schema={"record_token": pl.String, "decision": pl.String,
                                        "decided_at": pl.Datetime("us", "UTC")})

    held = full_relink(prepared, model, after_attach,
                       kept_apart=kept_apart(attached.review, no_decisions, after_attach, "hold"))
    assert key_stability(after_attach, held.keys) == 1.0
    assert held.events.height == 0

    # The model alone merges the two look-alikes and retires a key, logged as a merge.
    merged = full_relink(prepared, model, after_attach,
                         kept_apart=kept_apart(attached.review, no_decisions, after_attach, "merge"))
    look_alikes = merged.keys.filter(pl.col("record_token").is_in(["dup_a", "dup_b", "new_6"]))
    assert look_alikes["person_key"].n_unique() == 1
    assert "merge" in merged.events["event"].to_list()
