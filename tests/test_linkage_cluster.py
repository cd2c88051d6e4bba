"""Clustering: links are taken strongest first, and a link that would make one person out of
records with incompatible dates of birth, sexes or first names is skipped."""

import polars as pl

from hub_assets.linkage.cluster import cluster_pairs, dobs_compatible, one_typo_apart


def _records(*rows):
    return pl.DataFrame(
        [dict(unique_id=t, first_name=f, last_name=last, first_name_aliases=[f], dob=d, sex=s)
         for t, f, last, d, s in rows],
        schema={"unique_id": pl.String, "first_name": pl.String, "last_name": pl.String,
                "first_name_aliases": pl.List(pl.String), "dob": pl.String, "sex": pl.String})


def _pairs(*rows):
    return pl.DataFrame(rows, schema={"unique_id_l": pl.String, "unique_id_r": pl.String,
                                      "match_probability": pl.Float64}, orient="row")


def _people(clusters: pl.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g) for g in clusters.group_by("cluster_id").agg("record_token")["record_token"].to_list()}


def test_a_record_without_dob_does_not_bridge_two_people_with_different_dobs():
    records = _records(("a", "SOFIA", "TAIEZ", "2014-01-26", "F"),
                       ("b", "SOFIA", "TAIEZ", "2015-03-16", "F"),
                       ("c", "SOFIA", "TAIEZ", None, "F"))
    # c links to both; the stronger link wins, the weaker would merge two birth dates
    clusters = cluster_pairs(records, _pairs(("a", "c", 0.999), ("b", "c", 0.998)), 0.95)
    assert _people(clusters) == {frozenset("ac"), frozenset("b")}


def test_twins_with_unrelated_first_names_stay_apart_even_on_a_strong_link():
    records = _records(("a", "CARLOS", "KYAN", "2013-07-29", "M"),
                       ("b", "MANUEL", "KYAN", "2013-07-29", "M"),
                       ("c", "ACRLOS", "KYAN", "2013-07-29", "M"))  # a typo of CARLOS
    clusters = cluster_pairs(records, _pairs(("a", "b", 0.99), ("a", "c", 0.999)), 0.95)
    assert _people(clusters) == {frozenset("ac"), frozenset("b")}


def test_compatible_records_chain_and_weak_links_do_not():
    records = _records(("a", "JAMES", "SMITH", "2008-03-11", "M"),
                       ("b", "JAMES", "SMITH", "2008-11-03", None),  # day and month swapped
                       ("c", "JAMES", "SMITH", None, None),
                       ("d", "JAMES", "SMITH", "2008-03-11", "F"))  # other sex
    pairs = _pairs(("a", "b", 0.99), ("b", "c", 0.97), ("a", "d", 0.999), ("c", "d", 0.5))
    clusters = cluster_pairs(records, pairs, 0.95)
    # a-d is the strongest link but would make one person M and F: skipped; b (swapped date)
    # and c (no date) chain onto a; c-d is below the threshold.
    assert _people(clusters) == {frozenset("abc"), frozenset("d")}


def test_the_typo_and_date_rules():
    assert one_typo_apart("ETHAN", "EHTAN") and one_typo_apart("ETHAN", "ETHN")
    assert one_typo_apart("JAYDEN", "JAYLEN") and not one_typo_apart("ETHAN", "EVAN")
    assert dobs_compatible("2008-03-11", "2008-11-03") and dobs_compatible("2008-03-11", "2008-03-12")
    assert not dobs_compatible("2008-03-11", "2009-04-11")


def test_connected_components_label_each_node_with_its_smallest_member():
    import numpy as np

    from hub_assets.linkage.cluster import connected_components

    # 0-3-5 chain (reached through 5 before 0), 1-2, 4 alone, 6-7.
    left, right = np.array([5, 3, 2, 7]), np.array([3, 0, 1, 6])
    assert connected_components(left, right, 8).tolist() == [0, 1, 1, 0, 4, 0, 6, 6]


def test_a_chain_of_agreeing_records_is_one_person_and_a_mixed_chain_is_weighed_link_by_link():
    records = _records(("a", "SOFIA", "TAIEZ", "2014-01-26", "F"), ("b", "SOFIA", "TAIEZ", None, "F"),
                       ("c", "SOFIA", "TAIEZ", "2014-01-26", None),
                       ("d", "MALIK", "OKAFOR", "2010-05-05", "M"), ("e", "MALIK", "OKAFOR", None, None),
                       ("f", "MALIK", "OKAFOR", "2011-09-09", "M"))
    clusters = cluster_pairs(records, _pairs(("a", "b", 0.96), ("b", "c", 0.97),
                                             ("d", "e", 0.99), ("e", "f", 0.98)))
    assert _people(clusters) == {frozenset("abc"), frozenset("de"), frozenset("f")}


def test_people_kept_apart_are_not_joined_even_by_a_strong_compatible_link():
    from hub_assets.linkage.cluster import KeptApart

    records = _records(("a", "KIARA", "PEMBERTON", "2009-06-17", "F"), ("b", "KIARA", "PEMBERTON", "2009-06-17", "F"),
                       ("c", "KIARA", "PEMBERTON", "2009-06-17", "F"), ("d", "KIARA", "PEMBERTON", None, "F"))
    pairs = _pairs(("a", "b", 0.999), ("b", "c", 0.99), ("c", "d", 0.97))
    assert _people(cluster_pairs(records, pairs)) == {frozenset("abcd")}
    # a had key K1, b and c key K2; a reviewer has not agreed that K1 and K2 are one person.
    held = pl.DataFrame({"record_token": ["a", "b", "c"], "held_key": ["K1", "K2", "K2"]})
    kept = KeptApart(held, frozenset({frozenset({"K1", "K2"})}))
    # a-b is refused; d (no key held) joins c through the next link.
    assert _people(cluster_pairs(records, pairs, kept_apart=kept)) == {frozenset("a"), frozenset("bcd")}
    # Keys that are not a held pair do not constrain anything.
    other = KeptApart(held, frozenset({frozenset({"K1", "K3"})}))
    assert _people(cluster_pairs(records, pairs, kept_apart=other)) == {frozenset("abcd")}


def test_two_ssns_or_two_middle_names_that_are_not_keying_slips_keep_namesakes_apart():
    records = _records(("a", "JAMES", "SMITH", "2008-03-11", "M"), ("b", "JAMES", "SMITH", "2008-03-11", "M"),
                       ("c", "JAMES", "SMITH", "2008-03-11", "M"), ("d", "JAMES", "SMITH", "2008-03-11", "M"),
                       ("e", "JAMES", "SMITH", "2008-03-11", "M"))
    records = records.with_columns(
        pl.Series("ssn", ["123456789", "123456798", "987654321", None, None]),  # b: two digits swapped
        pl.Series("middle_name", [None, None, None, "ANDRE", "A"]))
    # Strongest first: a-b joins (a keying slip), b-c is refused (another SSN), c-d joins, a-d is
    # then refused (a's and c's SSNs would meet), d-e joins (an initial agrees with ANDRE).
    pairs = _pairs(("a", "b", 0.99), ("b", "c", 0.98), ("c", "d", 0.97), ("a", "d", 0.96), ("d", "e", 0.95))
    assert _people(cluster_pairs(records, pairs)) == {frozenset("ab"), frozenset("cde")}
    other_middle = records.with_columns(pl.Series("middle_name", [None, None, None, "ANDRE", "LEON"]))
    assert _people(cluster_pairs(other_middle, pairs)) == {frozenset("ab"), frozenset("cd"), frozenset("e")}
    # Without SSNs and middle names nothing is refused: one person.
    bare = records.with_columns(
        pl.lit(None, dtype=pl.String).alias("ssn"), pl.lit(None, dtype=pl.String).alias("middle_name")
    )
    assert _people(cluster_pairs(bare, pairs)) == {frozenset("abcde")}


def test_a_nickname_keyed_with_a_slip_is_still_the_same_first_name():
    from hub_assets.linkage.cluster import middles_compatible, names_compatible, ssns_compatible

    benjamin = ("BENJAMIN", "MAOULEY", ("BENJAMIN",))
    assert names_compatible(("BENY", "MAOULEY", ("BENY",)), benjamin) is False  # no alias known
    assert names_compatible(("EBN", "MAOULEY", ("EBN",)), ("BEN", "MAOULEY", ("BEN", "BENJAMIN")))
    assert names_compatible(("BENNY", "MAOULEY", ("BENNY", "BENJAMIN")), ("BENJAMN", "MAOULEY", ("BENJAMN",)))
    assert not names_compatible(("ETHAN", "KYAN", ("ETHAN",)), ("EVAN", "KYAN", ("EVAN",)))
    assert ssns_compatible("123456789", "123456788") and not ssns_compatible("123456789", "12345678")
    assert middles_compatible("A", "ANDRE") and middles_compatible("ANDRE", "ANDRE")
    assert not middles_compatible("ANDRE", "LEON") and not middles_compatible("B", "ANDRE")


def test_a_record_from_a_source_with_a_minimum_age_does_not_join_a_younger_persons_records():
    from hub_assets.linkage.cluster import ages_compatible

    # w: a wage record (workers are 14+ when the drop is loaded) without a DOB. Its strongest
    # link is to a namesake's school record (born 2016, so ten): refused; it joins the adult.
    records = _records(
        ("w", "JAYLEN", "JONES", None, None),
        ("s", "JAYLEN", "JONES", "2016-03-02", "M"),
        ("a", "JAYLEN", "JONES", "1999-08-14", "M"),
    )
    records = records.with_columns(pl.Series("born_by", ["2012-11-22", None, None]))
    pairs = _pairs(("w", "s", 0.99), ("w", "a", 0.97))
    assert _people(cluster_pairs(records, pairs, 0.95)) == {frozenset("wa"), frozenset("s")}
    # Without the bound (a source that declares no minimum age) the stronger link wins.
    unbounded = records.with_columns(pl.lit(None, dtype=pl.String).alias("born_by"))
    assert _people(cluster_pairs(unbounded, pairs, 0.95)) == {frozenset("ws"), frozenset("a")}
    # A record whose own DOB breaks its bound has a mistyped DOB: it stays linkable to a record
    # without one, and to the same DOB read correctly (one character apart).
    assert ages_compatible(("2016-03-02",), ("2012-11-22",), (), ())
    assert ages_compatible(("2016-03-02",), ("2012-11-22",), ("2006-03-02",), ())
    assert not ages_compatible((), ("2012-11-22",), ("2016-03-02",), ())
    assert ages_compatible((), ("2012-11-22",), ("2012-11-22",), ())  # exactly 14 that day
