"""Standard forms for identifiers, as polars expressions over text columns.

Every agency spells identity its own way; linkage compares like with like only after this:
names upper case ASCII with only letters, hyphen and single spaces, suffixes removed, split
into first / middle / last according to the agency's ``name_style``; dates parsed with the
agency's format; sex codes mapped to M / F / X; ZIP to five digits; addresses upper case with
unit designators and common street words in one form.
"""

from __future__ import annotations

import re

import polars as pl

from hub_assets.sources.declaration import NameStyle

SUFFIXES = ("JR", "SR", "II", "III", "IV")

# USPS standard abbreviations for the words that vary most between agencies' address entry.
STREET_WORDS = {
    "STREET": "ST", "AVENUE": "AVE", "AV": "AVE", "ROAD": "RD", "DRIVE": "DR", "BOULEVARD": "BLVD",
    "LANE": "LN", "PLACE": "PL", "COURT": "CT", "TERRACE": "TER", "PARKWAY": "PKWY", "HIGHWAY": "HWY",
    "CIRCLE": "CIR", "SQUARE": "SQ",
}
# Directions are left as written: the city has streets named after them ("W NORTH AVE").
UNIT_WORDS = ("APARTMENT", "APT", "UNIT", "SUITE", "STE", "FLOOR", "FL", "RM", "ROOM")


# Surname particles: "DE LA CRUZ" is one surname, so a particle is glued to the word after it
# before a full name is split on spaces (and unglued after).
PARTICLES = (
    "DE",
    "DEL",
    "DELA",
    "LA",
    "LE",
    "DA",
    "DI",
    "DOS",
    "DU",
    "VAN",
    "VON",
    "DER",
    "DEN",
    "ST",
    "BIN",
    "AL",
    "EL",
)
_GLUE = "_"


def _glue_particles(cleaned: pl.Expr) -> pl.Expr:
    pattern = r"\b(" + "|".join(PARTICLES) + r") "
    # Applied twice so chains glue fully ("DE LA CRUZ" -> "DE_LA_CRUZ").
    return cleaned.str.replace_all(pattern, "${1}" + _GLUE).str.replace_all(pattern, "${1}" + _GLUE)


def _unglue(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(_GLUE, " ")


def ascii_upper(expr: pl.Expr) -> pl.Expr:
    """Fold diacritics (NFKD, then drop combining marks) and upper-case."""
    return expr.str.normalize("NFKD").str.replace_all(r"\p{Mn}", "").str.to_uppercase()


def _collapse(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s+", " ").str.strip_chars().replace("", None)


def clean_name(expr: pl.Expr, *, keep_comma: bool = False) -> pl.Expr:
    """Upper ASCII; apostrophes and periods vanish (O'BRIEN -> OBRIEN, ST. -> ST), other
    punctuation becomes a space, hyphens lose surrounding spaces; suffixes removed."""
    e = ascii_upper(expr).str.replace_all(r"['’`.]", "")
    e = e.str.replace_all(r"[^A-Z\-, ]" if keep_comma else r"[^A-Z\- ]", " ")
    # Suffixes only as whole words ("JR-SMITH" keeps JR); then hyphens lose surrounding spaces.
    suffix = r"(^|\s)(?:" + "|".join(SUFFIXES) + r")(\s|,|$)"
    e = e.str.replace_all(suffix, "${1}${2}").str.replace_all(suffix, "${1}${2}")  # twice: "JR III"
    e = e.str.replace_all(r"\s*-\s*", "-").str.replace_all(r"(?:^|\s)-+|-+(?:\s|$)", " ")
    return _collapse(e)


def split_full_name(expr: pl.Expr, style: NameStyle) -> dict[str, pl.Expr]:
    """first / middle / last from one full-name field, by the agency's declared order.

    ``last_comma_first`` falls back to "First Last" order when a value has no comma, since
    front-desk entry is not always consistent.
    """
    if style == "last_comma_first":
        cleaned = clean_name(expr, keep_comma=True)
        has_comma = cleaned.str.contains(",")
        last = _collapse(cleaned.str.split_exact(",", 1).struct.field("field_0").str.replace_all(",", " "))
        rest_with_comma = _collapse(cleaned.str.split_exact(",", 1).struct.field("field_1").str.replace_all(",", " "))
        rest_tokens = rest_with_comma.str.split(" ")
        plain = cleaned.str.replace_all(",", " ")
        plain = _collapse(plain)
        fl = _first_last(plain)
        return {
            "first_name": pl.when(has_comma).then(rest_tokens.list.first()).otherwise(fl["first_name"]),
            "middle_name": pl.when(has_comma).then(_join_middle(rest_tokens, 1, 0)).otherwise(fl["middle_name"]),
            "last_name": pl.when(has_comma).then(last).otherwise(fl["last_name"]),
        }
    cleaned = _glue_particles(clean_name(expr))
    if style == "first_last":
        return {k: _unglue(v) for k, v in _first_last(cleaned).items()}
    if style == "last_first":
        tokens = cleaned.str.split(" ")
        parts = {
            "last_name": tokens.list.first(),
            "first_name": tokens.list.get(1, null_on_oob=True),
            "middle_name": _join_middle(tokens, 2, 0),
        }
        return {k: _unglue(v) for k, v in parts.items()}
    raise ValueError(f"name style {style!r} has no full-name field to split")


def _first_last(cleaned: pl.Expr) -> dict[str, pl.Expr]:
    tokens = cleaned.str.split(" ")
    n = tokens.list.len()
    return {
        "first_name": tokens.list.first(),
        "middle_name": _join_middle(tokens, 1, 1),
        "last_name": pl.when(n > 1).then(tokens.list.last()),
    }


def _join_middle(tokens: pl.Expr, skip_front: int, skip_back: int) -> pl.Expr:
    n = tokens.list.len()
    length = (n - skip_front - skip_back).clip(lower_bound=0)
    return tokens.list.slice(skip_front, length).list.join(" ").replace("", None)


def date_shape(fmt: str) -> str:
    """A regex for what a date in ``fmt`` looks like, so a value of the right shape that is not
    a real date (02/30/2014, or a swapped day and month) can be told from a malformed one."""
    parts = {"%Y": r"\d{4}", "%m": r"\d{1,2}", "%d": r"\d{1,2}", "%y": r"\d{2}"}
    out = ""
    i = 0
    while i < len(fmt):
        tok = fmt[i : i + 2]
        if tok in parts:
            out += parts[tok]
            i += 2
        else:
            out += re.escape(fmt[i])
            i += 1
    if "%Y%m%d" in fmt:  # compact forms have fixed widths
        out = out.replace(r"\d{1,2}", r"\d{2}")
    return f"^{out}$"


def parse_date(expr: pl.Expr, fmt: str) -> pl.Expr:
    return expr.str.to_date(fmt, strict=False)


def map_sex(expr: pl.Expr, codes: dict[str, str]) -> pl.Expr:
    """Agency code -> M/F/X; a code mapped to "" or not declared becomes null. Codes are
    matched exactly first, then case-insensitively."""
    exact = {k: (v or None) for k, v in codes.items()}
    upper = {k.upper(): v for k, v in exact.items()}
    return pl.coalesce(
        expr.replace_strict(exact, default=None, return_dtype=pl.String),
        expr.str.to_uppercase().replace_strict(upper, default=None, return_dtype=pl.String),
    )


def standard_zip(expr: pl.Expr) -> pl.Expr:
    """Five digits: ZIP+4 is cut, leading zeros kept; anything else becomes null."""
    return expr.str.strip_chars().str.extract(r"^(\d{5})(?:[- ]?\d{4})?$", 1)


def standard_ssn(expr: pl.Expr) -> pl.Expr:
    """Nine digits, dashes and spaces dropped; never-issued numbers (area 000, 666 or 9xx, group
    00, serial 0000, e.g. the 999-99-9999 placeholders intake screens use) become null."""
    digits = expr.str.replace_all(r"[\s-]", "")
    valid = (
        digits.str.contains(r"^\d{9}$")
        & ~digits.str.slice(0, 3).is_in(["000", "666"])
        & ~digits.str.starts_with("9")
        & (digits.str.slice(3, 2) != "00")
        & (digits.str.slice(5, 4) != "0000")
    )
    return pl.when(valid).then(digits)


def standard_address(expr: pl.Expr) -> pl.Expr:
    e = ascii_upper(expr).str.replace_all(r"[.,'’]", "")
    e = e.str.replace_all(r"#\s*", " UNIT ")
    e = e.str.replace_all(r"\b(?:" + "|".join(UNIT_WORDS) + r")\b\s*", " UNIT ")
    e = e.str.replace_all(r"(?:\bUNIT\s+)+", "UNIT ")
    e = e.str.replace_all(r"[^A-Z0-9\- ]", " ")
    for word, abbr in STREET_WORDS.items():
        e = e.str.replace_all(rf"\b{word}\b", abbr)
    return _collapse(e)
