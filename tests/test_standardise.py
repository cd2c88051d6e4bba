"""Standard forms for identifiers: the awkward cases each agency actually sends."""

from datetime import date

import polars as pl
import pytest

from hub_assets.sources.declaration import agency
from hub_assets.sources.schema import value_class
from hub_assets.sources.standardise import (
    clean_name,
    date_shape,
    map_sex,
    parse_date,
    split_full_name,
    standard_address,
    standard_ssn,
    standard_zip,
)


def apply(expr_fn, values):
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(expr_fn(pl.col("v")).alias("out"))[
        "out"].to_list()


def split(values, style):
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(**split_full_name(pl.col("v"), style)).select(
        "first_name", "middle_name", "last_name").rows()


@pytest.mark.parametrize("raw, expected", [
    ("José", "JOSE"),
    ("  o'brien ", "OBRIEN"),
    ("Mary-Jane", "MARY-JANE"),
    ("smith - jones", "SMITH-JONES"),
    ("Nguyễn", "NGUYEN"),
    ("D'Angelo Jr.", "DANGELO"),
    ("Washington III", "WASHINGTON"),
    ("St. Clair", "ST CLAIR"),
    ("Zoë  Ann", "ZOE ANN"),
    ("---", None),
    ("Jr-Smith", "JR-SMITH"),
    ("Smith, Jr.", "SMITH"),
    ("Ray Jr III", "RAY"),
    ("", None),
])
def test_names_are_upper_ascii_without_punctuation_or_suffix(raw, expected):
    assert apply(clean_name, [raw]) == [expected]


def test_last_comma_first_splits_and_falls_back_without_a_comma():
    assert split(["Smith, John Paul", "GARCÍA LÓPEZ, Ana", "Brown Jr, Tim", "Ann Lee", "Prince,"],
                 "last_comma_first") == [
        ("JOHN", "PAUL", "SMITH"), ("ANA", None, "GARCIA LOPEZ"), ("TIM", None, "BROWN"),
        ("ANN", None, "LEE"), (None, None, "PRINCE")]


def test_first_last_takes_the_last_word_as_surname_after_removing_suffixes():
    assert split(["Ana Maria Lopez", "tim brown jr", "Cher", "Jean-Luc  Picard II"], "first_last") == [
        ("ANA", "MARIA", "LOPEZ"), ("TIM", None, "BROWN"), ("CHER", None, None), ("JEAN-LUC", None, "PICARD")]


def test_surname_particles_stay_with_the_surname():
    assert split(["Maria de la Cruz", "Ludwig van Beethoven"], "first_last") == [
        ("MARIA", None, "DE LA CRUZ"), ("LUDWIG", None, "VAN BEETHOVEN")]
    assert split(["DE LA CRUZ MARIA T", "SMITH LA TOYA"], "last_first") == [
        ("MARIA", "T", "DE LA CRUZ"), ("LA TOYA", None, "SMITH")]


def test_last_first_middle_takes_the_first_word_as_surname():
    assert split(["SMITH JOHN P", "SMITH-JONES ANN", "OBRIEN SEAN MICHAEL IV", "MADONNA"], "last_first") == [
        ("JOHN", "P", "SMITH"), ("ANN", None, "SMITH-JONES"), ("SEAN", "MICHAEL", "OBRIEN"),
        (None, None, "MADONNA")]


@pytest.mark.parametrize("agency_name, raw, expected", [
    ("city_schools", "3/7/2014", date(2014, 3, 7)),  # %m/%d/%Y, unpadded
    ("city_schools", "02/30/2014", None),  # impossible
    ("summer_funding", "07/03/2014", date(2014, 3, 7)),  # %d/%m/%Y: day first
    ("summer_funding", "31/12/2013", date(2013, 12, 31)),
    ("youthworks", "20140307", date(2014, 3, 7)),  # %Y%m%d
    ("family_league", "03-07-2014", date(2014, 3, 7)),  # %m-%d-%Y
    ("hmis", "2014-03-07", date(2014, 3, 7)),
    ("hmis", "2014-02-29", None),  # not a leap year
])
def test_each_agency_date_format_is_parsed(agency_name, raw, expected):
    assert apply(lambda c: parse_date(c, agency(agency_name).date_format), [raw]) == [expected]


def test_date_shape_tells_a_malformed_value_from_an_impossible_one():
    shape = date_shape("%m/%d/%Y")
    got = apply(lambda c: c.str.contains(shape), ["02/30/2014", "2014-02-03", "Feb 3 2014"])
    assert got == [True, False, False]
    assert apply(lambda c: c.str.contains(date_shape("%Y%m%d")), ["20140307", "2014037"]) == [True, False]


@pytest.mark.parametrize("agency_name, codes_in, expected", [
    ("hmis", ["0", "1", "2", "8", "99", "5", None], ["F", "M", "X", None, None, None, None]),
    ("rec_parks", ["Male", "Female", "Nonbinary", "Unknown", "male"], ["M", "F", "X", None, "M"]),
    ("summer_funding", ["Boy", "Girl", "m", "f", "Other"], ["M", "F", "M", "F", "X"]),
    ("youthworks", ["1", "2", "3", "4"], ["M", "F", "X", None]),
])
def test_sex_codes_map_to_m_f_x_or_null(agency_name, codes_in, expected):
    assert apply(lambda c: map_sex(c, agency(agency_name).sex_codes), codes_in) == expected


def test_ssn_is_nine_digits_and_never_issued_numbers_are_null():
    assert apply(standard_ssn, ["212-34-2405", "212342405", " 012 34 2405 ", "21234240", "999-99-9999",
                                "000-12-3456", "666-12-3456", "212-00-2405", "212-34-0000", "ABC-DE-FGHI",
                                None]) == [
        "212342405", "212342405", "012342405", None, None, None, None, None, None, None, None]


def test_zip_is_five_digits_with_leading_zeros_kept():
    assert apply(standard_zip, ["21201", "21201-1234", "212011234", "02134", " 21218 ", "2134", "ABCDE",
                                "21201-12", None]) == [
        "21201", "21201", "21201", "02134", "21218", None, None, None, None]


def test_address_is_upper_case_with_units_and_street_words_normalised():
    assert apply(standard_address, [
        "123 n. Main Street, Apt. 4B", "45 W North Avenue #12", "7 Rue Élysée apartment 3",
        "10 Oak Ct. Unit #5", "900 st. paul st ste 200", "   ",
    ]) == ["123 N MAIN ST UNIT 4B", "45 W NORTH AVE UNIT 12", "7 RUE ELYSEE UNIT 3", "10 OAK CT UNIT 5",
           "900 ST PAUL ST UNIT 200", None]


@pytest.mark.parametrize("value, expected", [
    (None, "missing"), ("13", "digits"), ("12.5", "number"), ("02/30/2014", "date-like"),
    ("weekend", "letters"), ("A-12", "mixed"),
])
def test_quarantine_describes_a_value_without_repeating_it(value, expected):
    assert value_class(value) == expected
