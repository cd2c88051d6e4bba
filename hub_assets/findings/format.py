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
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]
