"""Amounts of money and dates read from short texts in code, so that operators never ask a model to add.

``parse_amount("EUR 8.9 million")`` -> ``("EUR", 8_900_000.0)``; ``parse_date("1 March 2025")`` ->
``"2025-03-01"``. Both return None for a text that holds no such value; neither guesses a currency or a
century that the text does not give.
"""

from __future__ import annotations

import re
from datetime import date

_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "us$": "USD", "usd": "USD", "eur": "EUR",
            "euro": "EUR", "euros": "EUR", "gbp": "GBP", "pounds": "GBP", "dollars": "USD", "chf": "CHF",
            "sek": "SEK", "nok": "NOK", "dkk": "DKK", "jpy": "JPY", "cad": "CAD", "aud": "AUD", "pln": "PLN",
            "czk": "CZK", "inr": "INR", "cny": "CNY", "rmb": "CNY", "sgd": "SGD", "hkd": "HKD", "nzd": "NZD"}
_CURRENCY = r"(?:US\$|[€$£¥]|\b(?:USD|EUR|GBP|CHF|SEK|NOK|DKK|JPY|CAD|AUD|PLN|CZK|INR|CNY|RMB|SGD|HKD|NZD)\b|" \
            r"\b(?:euros?|pounds|dollars)\b)"
_NUMBER = r"\d{1,3}(?:[,.\u202f\u00a0' ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SCALE = r"(?:\s*(?:million|mio\.?|mn|m|billion|bn|thousand|k)\b)?"
_AMOUNT = re.compile(rf"(?P<pre>{_CURRENCY})\s*(?P<n1>{_NUMBER})(?P<s1>{_SCALE})|"
                     rf"(?P<n2>{_NUMBER})(?P<s2>{_SCALE})\s*(?P<post>{_CURRENCY})", re.IGNORECASE)
_SCALES = {"million": 1e6, "mio": 1e6, "mio.": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9,
           "thousand": 1e3, "k": 1e3}


def parse_number(text: str) -> float | None:
    """A written number ("1,250,000", "1.250.000", "8.9", "8,9") as a float; None if it is not one."""
    text = text.strip().replace("\u202f", " ").replace("\u00a0", " ")
    if not re.fullmatch(_NUMBER, text):
        return None
    groups = re.fullmatch(r"(\d{1,3})((?:[,.' ]\d{3})+)([.,]\d+)?", text)
    if groups and (groups.group(3) or len({c for c in groups.group(2) if not c.isdigit()}) == 1):
        separator = groups.group(2)[0]
        decimals = groups.group(3) or ""
        if decimals and decimals[0] == separator:
            return None  # "1,000,5" is no number
        whole = re.sub(r"[,.' ]", "", groups.group(1) + groups.group(2))
        return float(whole + ("." + decimals[1:] if decimals else ""))
    try:
        return float(text.replace(",", "."))
    except ValueError:  # separators of two kinds and no decimals ("1,000 000"): no one number
        return None


def parse_amount(text: str) -> tuple[str, float] | None:
    """The first amount of money ``text`` writes with its currency, as (ISO code, value); None if it writes none."""
    match = _AMOUNT.search(text)
    if match is None:
        return None
    number = match.group("n1") or match.group("n2")
    scale = (match.group("s1") or match.group("s2") or "").strip().lower()
    currency = (match.group("pre") or match.group("post")).lower()
    value = parse_number(number)
    if value is None:
        return None
    return _SYMBOLS.get(currency, currency.upper()), value * _SCALES.get(scale, 1.0)


def amounts_in(text: str) -> list[tuple[tuple[str, float], str]]:
    """Every amount of money ``text`` writes with its currency, in order, each with the words that write it."""
    found = []
    for match in _AMOUNT.finditer(text):
        amount = parse_amount(match.group(0))
        if amount is not None:
            found.append((amount, match.group(0)))
    return found


_MONTHS = {name: number for number, names in enumerate(
    [("january", "jan", "januar", "janvier"), ("february", "feb", "februar", "fevrier", "février"),
     ("march", "mar", "märz", "maerz", "mars"), ("april", "apr", "avril"), ("may", "mai"),
     ("june", "jun", "juni", "juin"), ("july", "jul", "juli", "juillet"), ("august", "aug", "août", "aout"),
     ("september", "sep", "sept", "septembre"), ("october", "oct", "oktober", "octobre"),
     ("november", "nov", "novembre"), ("december", "dec", "dezember", "décembre", "decembre")], start=1)
    for name in names}
_MONTH = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?({_MONTH})\.?,?\s+(\d{{4}})\b", re.I)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")


def parse_date(text: str) -> str | None:
    """The first calendar date ``text`` writes, as ISO ``YYYY-MM-DD``; None if it writes none.

    "03/04/2025" is read day first (the European reading) unless the first number cannot be a month."""
    found: list[tuple[int, tuple[int, int, int]]] = []
    for match in _DAY_MONTH_YEAR.finditer(text):
        found.append((match.start(), (int(match.group(3)), _MONTHS[match.group(2).lower()], int(match.group(1)))))
    for match in _MONTH_DAY_YEAR.finditer(text):
        found.append((match.start(), (int(match.group(3)), _MONTHS[match.group(1).lower()], int(match.group(2)))))
    for match in _ISO.finditer(text):
        found.append((match.start(), (int(match.group(1)), int(match.group(2)), int(match.group(3)))))
    for match in _NUMERIC.finditer(text):
        first, second, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        day, month = (second, first) if second > 12 >= first else (first, second)
        found.append((match.start(), (year, month, day)))
    for _, (year, month, day) in sorted(found):
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            continue
    return None


_NUMBER_WORDS = {word: number for number, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                      "ninety": 90, "hundred": 100})
_TENS = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_DIGIT_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_WORD_NUMBER = rf"\b{_DIGIT_WORD}[- ]hundred\b|\b{_TENS}[- ]{_DIGIT_WORD}\b|" + \
    r"\b(?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b"
_COUNT = re.compile(rf"(?P<digits>{_NUMBER})|(?P<words>{_WORD_NUMBER})", re.IGNORECASE)
_UNIT_WORD = re.compile(r"\s*(?:\(\d+\)\s*)?(?P<unit>[A-Za-z]{2,20})")
_NO_UNIT = {"per", "a", "an", "the", "of", "and", "or", "to", "in", "on", "at", "each", "every", "after", "before",
            "within", "from", "for", "than", "more", "less", "up", "most", "least"}


def parse_count(value: str, unit: str = "") -> tuple[float, str] | None:
    """The first number ``value`` writes, in digits or in words ("five words", "30 days", "twenty-five"),
    with the unit that follows it or, failing that, the first word of ``unit``: ``(30.0, "days")``.
    The unit is "" when neither names one; None when ``value`` writes no number."""
    match = _COUNT.search(value)
    if match is None:
        return None
    if match.group("digits"):
        number = parse_number(match.group("digits"))
        if number is None:
            return None
    else:
        words = re.split(r"[- ]", match.group("words").casefold())
        number = float(_NUMBER_WORDS[words[0]] * 100 if words[-1] == "hundred" and len(words) > 1 else
                       sum(_NUMBER_WORDS[word] for word in words))
    after = _UNIT_WORD.match(value, match.end())
    named = after.group("unit") if after and after.group("unit").casefold() not in _NO_UNIT else ""
    if not named:
        first = re.match(r"\s*([A-Za-z]{2,20})", unit)
        named = first.group(1) if first and first.group(1).casefold() not in _NO_UNIT else ""
    return number, named.casefold()


def same_unit(unit: str) -> str:
    """The form under which counts of one unit are added: "day" and "Days" are one unit."""
    unit = unit.casefold()
    return unit[:-1] if len(unit) > 3 and unit.endswith("s") and not unit.endswith("ss") else unit


def format_count(value: float, unit: str) -> str:
    """``90 days`` (no decimals for whole numbers; the unit as the rows wrote it)."""
    shown = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{shown} {unit}".strip()


def format_amount(currency: str, value: float) -> str:
    """``EUR 8,909,000`` (no decimals for whole amounts)."""
    shown = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return f"{currency} {shown}"
