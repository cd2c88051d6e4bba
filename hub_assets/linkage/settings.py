"""The linkage model's settings: what is compared, level by level, in one readable object.

One model links and deduplicates every source at once (``dedupe_only`` over the union of all
sources' records): intra-agency duplicates exist, and a cross-agency pair is just a pair, but a less
surprising one, so whether two records come from one source is compared too. Levels go from most to
least specific; each level's weight is learnt (m by EM, u by random sampling), and exact name and
address matches are adjusted by term frequency so that a shared common name (MICHAEL SMITH) counts
for less than a rare one.
"""

from __future__ import annotations

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator

from hub_assets.linkage.blocking import PREDICTION_RULES

# Levels too rare in any city for EM to estimate (names written in swapped order): a fixed,
# small m so that they count as evidence rather than being left without a weight.
RARE_AGREEMENT = {"m_probability": 0.005, "fix_m_probability": True}

# A true match's first name is almost never different once nicknames and typos have their
# own levels (see first_name_comparison).
OTHER_FIRST_NAME = {"m_probability": 0.00001, "fix_m_probability": True}

# Compound surnames are split on hyphens and spaces (JOHNSON-BELL, DE LA CRUZ).
_SURNAME_PARTS = "regexp_split_to_array(last_name_{side}, '[- ]+')"
HYPHEN_PART = (f"last_name_l <> last_name_r and (contains(last_name_l, '-') or contains(last_name_r, '-')) "
               f"and list_has_any({_SURNAME_PARTS.format(side='l')}, {_SURNAME_PARTS.format(side='r')})")

# Match probability at which a scored pair becomes a link: the lowest at which cluster precision
# stays >= 0.995 at every size of the validation city (benchmarks/threshold_sweep.py --seed 12;
# docs/linkage.md). cluster.py says why links are not simply taken transitively.
MATCH_THRESHOLD = 0.80


def first_name_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="first_name",
        comparison_description="First name: exact, nickname/alias, typo, swapped with last",
        comparison_levels=[
            cll.NullLevel("first_name"),
            cll.ExactMatchLevel("first_name").configure(tf_adjustment_column="first_name"),
            cll.ArrayIntersectLevel("first_name_aliases", min_intersection=1).configure(
                label_for_charts="Nickname or alias of the same name"),
            # One keying error (a letter substituted, dropped, doubled or transposed).
            cll.DamerauLevenshteinLevel("first_name", 1).configure(label_for_charts="One typo"),
            cll.JaroWinklerLevel("first_name", 0.92),
            cll.ColumnsReversedLevel("first_name", "last_name").configure(
                label_for_charts="First and last name swapped", **RARE_AGREEMENT),
            # Siblings share surname, address and (twins) DOB: EM, trained on blocks full of
            # households, learns that a different first name (ETHAN/EVAN, DAVID/JAYDEN) is
            # common among "matches". It is not — nicknames and typos have their own levels —
            # so its m is fixed small; a merely similar name (JW >= 0.8) is a sibling's too.
            cll.ElseLevel().configure(**OTHER_FIRST_NAME),
        ],
    )


def last_name_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="last_name",
        comparison_description="Last name: exact, typo, hyphenated part, swapped with first, else (e.g. changed)",
        comparison_levels=[
            cll.NullLevel("last_name"),
            cll.ExactMatchLevel("last_name").configure(tf_adjustment_column="last_name"),
            cll.DamerauLevenshteinLevel("last_name", 1).configure(label_for_charts="One typo"),
            # A surname joined to another by a hyphen (marriage, a second parent's name):
            # JOHNSON-BELL and JOHNSON are the same family name, not a near spelling, so the
            # level comes before the Jaro-Winkler ones and gets its own weight.
            cll.CustomLevel(HYPHEN_PART, label_for_charts="One is a hyphenated part of the other"),
            cll.JaroWinklerLevel("last_name", 0.92),
            cll.ColumnsReversedLevel("last_name", "first_name").configure(
                label_for_charts="Last and first name swapped", **RARE_AGREEMENT),
            # Records that hold a surname at birth (a birth certificate's mother's maiden name)
            # differ from the same woman's later records whenever she took a married name; EM
            # weighs that difference apart from a change between two current names.
            *_birth_surname_levels(),
            cll.JaroWinklerLevel("last_name", 0.80),
            cll.ElseLevel(),
        ],
    )


def birth_surname_sources() -> list[str]:
    """Identity sources whose declared last name is the surname at birth."""
    from hub_assets.sources.declaration import load_agencies

    return sorted(agency.identity_source(block) for agency in load_agencies()
                  for block in agency.identities if block.surname_at_birth)


def _birth_surname_levels() -> list[cll.CustomLevel]:
    sources = birth_surname_sources()
    if not sources:
        return []
    listed = ", ".join(f"'{name}'" for name in sources)
    return [cll.CustomLevel(f"(source_l in ({listed})) <> (source_r in ({listed}))",
                            label_for_charts="Differs; one side is a surname at birth")]


def middle_name_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="middle_name",
        comparison_description="Middle name: exact, same initial (one side an initial), else",
        # Half the records that could carry one have no middle name (omitted at intake, or a
        # source without the field): null, no evidence either way. Where both carry one, it is
        # what tells apart two people with one common name and birth date, and a moved person
        # from a namesake.
        comparison_levels=[
            cll.NullLevel("middle_name"),
            cll.ExactMatchLevel("middle_name"),
            cll.CustomLevel("(length(middle_name_l) = 1 or length(middle_name_r) = 1) "
                            "and substr(middle_name_l, 1, 1) = substr(middle_name_r, 1, 1)",
                            label_for_charts="Initial agrees with the name"),
            cll.DamerauLevenshteinLevel("middle_name", 1).configure(label_for_charts="One typo"),
            cll.ElseLevel(),
        ],
    )


def dob_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_description="Date of birth: exact, day/month swapped, one edit, same month",
        comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            cll.CustomLevel("dob_l = dob_swapped_r", label_for_charts="Day and month swapped"),
            cll.LevenshteinLevel("dob", 1).configure(label_for_charts="One character differs"),
            cll.CustomLevel("substr(dob_l, 1, 7) = substr(dob_r, 1, 7)",
                            label_for_charts="Same year and month"),
            # A person's DOB is rarely wholly different across agencies (swaps and one-digit
            # slips have their own levels); same-household siblings' are. Fixed, like first name.
            cll.ElseLevel().configure(m_probability=0.001, fix_m_probability=True),
        ],
    )


def ssn_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="ssn",
        comparison_description="SSN: exact, one digit mistyped or two swapped, else",
        comparison_levels=[
            cll.NullLevel("ssn"),
            # u is the chance that two different people's records agree at a level. Random
            # sampling (1M pairs) cannot estimate it for SSNs: at 1M records it meets no pair
            # sharing one and Splink leaves u unset, which took the SSN's weight away. So both
            # are fixed, generously: one pair of different people in a million shares an SSN
            # (borrowed or reused numbers, one keyed into another's record), and one in 100,000
            # is a keying error apart (89 of 10^9 random numbers are, but siblings issued
            # numbers together can hold consecutive ones).
            cll.ExactMatchLevel("ssn").configure(u_probability=1e-6, fix_u_probability=True),
            cll.DamerauLevenshteinLevel("ssn", 1).configure(
                label_for_charts="One digit differs or two swapped", u_probability=1e-5, fix_u_probability=True),
            cll.ElseLevel(),
        ],
    )


def location_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="location",
        comparison_description="Where they live: same address (tf-adjusted), near address, "
                               "same ZIP, neighbouring ZIP, else",
        # One comparison, not two: a shared address implies a shared ZIP, and counting both
        # double-counts what a household (siblings, twins) has in common.
        comparison_levels=[
            cll.CustomLevel("(address_l is null or address_r is null) and (zip_l is null or zip_r is null)",
                            label_for_charts="Address and ZIP missing").configure(is_null_level=True),
            # Shelters and large buildings are shared by many: tf makes them count for less.
            cll.ExactMatchLevel("address").configure(tf_adjustment_column="address"),
            cll.JaroWinklerLevel("address", 0.90).configure(label_for_charts="Address nearly the same"),
            # A source without addresses (wage records) agreeing on ZIP is stronger evidence
            # than two addresses that differ within one ZIP, so it has its own level.
            cll.CustomLevel("(address_l is null or address_r is null) and zip_l = zip_r",
                            label_for_charts="Same ZIP, address not recorded on one side"),
            cll.ExactMatchLevel("zip").configure(label_for_charts="Same ZIP, different address"),
            cll.CustomLevel("substr(zip_l, 1, 4) = substr(zip_r, 1, 4)",
                            label_for_charts="Same first four digits of ZIP"),
            # A ZIP keyed with a slip elsewhere (two digits swapped, one mistyped), as SSNs and
            # DOBs are. Where a city's few ZIPs are close neighbours, random pairs are often
            # one digit apart too, and u gives the level little weight.
            cll.DamerauLevenshteinLevel("zip", 1).configure(label_for_charts="ZIP one digit mistyped or two swapped"),
            cll.ElseLevel(),
        ],
    )


def source_comparison() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="source",
        comparison_description="Same agency source, or two",
        # An agency's extract holds one record per client; two of its records are one person only
        # when the agency itself duplicated someone (about 1 in 100 people in the synthetic
        # city). Two agencies' records of one name and birth date are far more often one person.
        # EM learns how much less likely a match is within one source.
        comparison_levels=[
            cll.NullLevel("source"),
            cll.ExactMatchLevel("source").configure(label_for_charts="Same source"),
            cll.ElseLevel().configure(label_for_charts="Different sources"),
        ],
    )


def linkage_settings() -> SettingsCreator:
    """The hub's linkage model, untrained."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            first_name_comparison(),
            last_name_comparison(),
            middle_name_comparison(),
            dob_comparison(),
            cl.ExactMatch("sex"),
            location_comparison(),
            ssn_comparison(),
            source_comparison(),
        ],
        blocking_rules_to_generate_predictions=PREDICTION_RULES,
        additional_columns_to_retain=["source"],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
