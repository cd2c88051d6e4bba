"""How numbers and column names read on the findings page."""

from __future__ import annotations


def format_value(value: object, is_rate: bool = False) -> str:
    if value is None:
        return "no data"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if is_rate:
            # Rates arrive either as proportions (0.23) or as percentages (23.0).
            pct = value * 100 if abs(value) <= 1 else value
            return f"{pct:.1f}%"
        if float(value).is_integer():
            return f"{int(value):,}"
        return f"{value:,.1f}"
    return str(value)


def humanise(name: str) -> str:
    """A column or table name in words: the label when there is one, else spaced out."""
    from hub_assets.findings.labels import name_label, value_label

    text = name_label(name) or value_label(name) or name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def value_text(value: object) -> str:
    """A dimension's value in words (codes as labels)."""
    from hub_assets.findings.labels import value_label

    return value_label(value) or format_value(value)
