"""Aligned plain-text tables."""


def format_table(title, headers, rows, notes=()):
    """A title, a header row, a rule, the rows and notes; numbers right-aligned.

    Args:
        title: printed above the table.
        headers: column names.
        rows: lists of cells (strings or numbers already formatted as strings).
        notes: lines printed under the table.
    """
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [
        max([len(header)] + [len(row[column]) for row in cells])
        for column, header in enumerate(headers)
    ]

    def line(row):
        parts = []
        for column, cell in enumerate(row):
            numeric = column > 0 and _looks_numeric(cell)
            parts.append(cell.rjust(widths[column]) if numeric else cell.ljust(widths[column]))
        return "  ".join(parts).rstrip()

    output = [title, "=" * len(title), line(headers), line(["-" * w for w in widths])]
    output += [line(row) for row in cells]
    output += [f"  {note}" for note in notes]
    return "\n".join(output) + "\n"


def _looks_numeric(text):
    stripped = text.replace(",", "").replace("x", "").replace("%", "").replace("±", "").strip()
    try:
        float(stripped.split()[0] if stripped else "nan")
    except ValueError:
        return text in ("-", "n/a")
    return True


def number(value, digits=1):
    """`value` with `digits` decimals, or "-" for None."""
    return "-" if value is None else f"{value:,.{digits}f}"


def ratio(numerator, denominator):
    """`numerator / denominator` as "1.23x", or "-" when either is missing."""
    if numerator is None or not denominator:
        return "-"
    return f"{numerator / denominator:.2f}x"


def verdict(met):
    """A target's verdict: "met", "not met", or "-" when `met` is None (nothing to judge)."""
    return "-" if met is None else ("met" if met else "not met")
