"""A labelled corpus of personal and non-personal columns in many locales, and the PII scan's recall
and false-positive rates measured on it (`accelops audit`, bench/pii_recall.py, tests/reliability).

Personal columns come from Faker's locale providers (names in the locale's script, addresses, phones,
emails, cards, IBANs, IPs, dates of birth in the locale's date format, and national ids where Faker
writes ids that the country's own checksum accepts). Non-personal columns are what tables hold besides:
codes, categories, product names, numbers, timestamps, event dates and free text. Column headers are
neutral (`c0`, `c1`...): the figures are what the values alone give, without a header hint.

The name and address recognisers use Faker's name and street lists too, so their recall here is partly
recall on seen vocabulary; `leave_one_out` re-measures names with the test locale's own lists removed."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from accelops.validation.recognisers import DEFAULT_REGIONS, KINDS, lexicon, redact_text

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "pt_BR", "sv_SE", "tr_TR",
           "vi_VN", "yo_NG", "ru_RU", "uk_UA", "el_GR", "he_IL", "ar_AA", "fa_IR", "hi_IN", "th_TH", "zh_CN",
           "ja_JP", "ko_KR")
# locales whose Faker ssn() passes the country's checksum (python-stdnum) for every value
ID_LOCALES = frozenset({"en_US", "fr_FR", "it_IT", "nl_NL", "pl_PL", "pt_BR", "sv_SE", "tr_TR", "el_GR", "he_IL",
                        "th_TH", "uk_UA"})
# Faker's IBANs fail the ISO 13616 check here: Iran and China (wrong length), Thailand (no IBAN scheme)
NO_IBAN = frozenset({"fa_IR", "zh_CN", "th_TH"})
DOB_FORMATS = {"en_US": "%m/%d/%Y", "de_DE": "%d.%m.%Y", "ru_RU": "%d.%m.%Y", "uk_UA": "%d.%m.%Y",
               "pl_PL": "%d.%m.%Y", "tr_TR": "%d.%m.%Y", "fr_FR": "%d/%m/%Y", "es_ES": "%d/%m/%Y",
               "it_IT": "%d/%m/%Y", "pt_BR": "%d/%m/%Y", "en_GB": "%d/%m/%Y", "vi_VN": "%d/%m/%Y",
               "nl_NL": "%d-%m-%Y", "ja_JP": "%Y年%m月%d日", "zh_CN": "%Y年%m月%d日", "ko_KR": "%Y. %m. %d."}
NON_PII = ("code", "uuid", "invoice", "part_no", "version", "category", "city", "product", "product_local", "amount", "count", "account_no",
           "timestamp", "event_date", "sentence")
PRODUCT_WORDS = (("Rustic", "Ergonomic", "Sleek", "Compact", "Premium", "Smart", "Ultra", "Classic", "Deluxe",
                  "Portable", "Wireless", "Organic", "Heavy Duty", "Mini", "Pro"),
                 ("Steel", "Granite", "Cotton", "Bamboo", "Leather", "Carbon", "Aluminium", "Oak", "Glass",
                  "Ceramic", "Wool", "Rubber", "Plastic", "Copper", "Linen"),
                 ("Chair", "Table", "Lamp", "Keyboard", "Backpack", "Bottle", "Speaker", "Jacket", "Kettle",
                  "Monitor", "Blender", "Mug", "Desk", "Router", "Headphones"))


@dataclass(frozen=True)
class Column:
    locale: str
    kind: str                       # a KINDS member, or a NON_PII member
    values: pd.Series

    @property
    def personal(self) -> bool:
        return self.kind in KINDS


def _country_code_exists(number: str) -> bool:
    import phonenumbers

    digits = "".join(c for c in number if c.isdigit())
    if not (number.startswith("+") or number.startswith("(+") or number.startswith("00")):
        return True
    digits = digits[2:] if number.startswith("00") else digits
    return any(phonenumbers.region_code_for_country_code(int(digits[:k])) != "ZZ" for k in (1, 2, 3) if digits[:k])


def _personal(f, kind: str, locale: str, rnd: random.Random) -> str:
    if kind == "person_name":
        return f.name()
    if kind == "address":
        return ", ".join(line.strip() for line in f.address().splitlines())
    if kind == "date_of_birth":
        return f.date_of_birth(minimum_age=18, maximum_age=95).strftime(DOB_FORMATS.get(locale, "%Y-%m-%d"))
    if kind == "email":
        return f.email()
    if kind == "phone":          # Faker sometimes writes a country code no country has (00 75...): not a phone
        return next(p for p in iter(f.phone_number, None) if _country_code_exists(p))
    if kind == "card_number":
        return f.credit_card_number()
    if kind == "iban":
        return f.iban()
    if kind == "national_id":
        return f.ssn()
    return f.ipv4() if rnd.random() < 0.7 else f.ipv6()


def _non_personal(f, kind: str, rnd: random.Random, cats: list[str], cities: list[str], today: datetime):
    if kind == "code":
        return f.bothify("??-#####").upper()
    if kind == "uuid":
        return str(f.uuid4())
    if kind == "invoice":
        return f"INV-{rnd.randint(2015, 2026)}-{rnd.randint(1, 999999):06d}"
    if kind == "part_no":
        return f"{rnd.randint(10, 99)}-{rnd.randint(100, 999)}-{rnd.randint(100, 9999)}"
    if kind == "version":
        return f"{rnd.randint(0, 20)}.{rnd.randint(0, 40)}.{rnd.randint(0, 200)}"
    if kind == "category":
        return rnd.choice(cats)
    if kind == "city":                  # a category of 40 place names, many of them built from people's names
        return rnd.choice(cities)
    if kind == "product":
        words = [rnd.choice(group) for group in PRODUCT_WORDS]
        return " ".join(words) + (f" {rnd.randint(2, 9000)}" if rnd.random() < 0.3 else "")
    if kind == "product_local":
        return " ".join(w.capitalize() for w in f.words(rnd.randint(2, 3)))
    if kind == "amount":
        return round(rnd.lognormvariate(4, 1), 2)
    if kind == "count":
        return rnd.randint(0, 500)
    if kind == "account_no":
        return rnd.randint(10 ** 9, 10 ** 16)
    if kind == "timestamp":
        return (today - timedelta(seconds=rnd.randint(0, 2 * 365 * 86400))).isoformat(sep=" ")
    if kind == "event_date":
        return (today - timedelta(days=rnd.randint(0, 5 * 365))).date().isoformat()
    return f.sentence(nb_words=rnd.randint(5, 12))


def corpus(rows: int = 200, seed: int = 0, locales: tuple[str, ...] = LOCALES) -> list[Column]:
    """One column per (locale, kind), `rows` values each, reproducible from `seed`."""
    from faker import Faker

    today = datetime(2026, 1, 1)
    out = []
    for i, locale in enumerate(locales):
        f = Faker(locale)
        f.seed_instance(seed * 1000 + i)
        rnd = random.Random(seed * 1000 + i)
        kinds = [k for k in KINDS if (k != "national_id" or locale in ID_LOCALES)
                 and (k != "iban" or locale not in NO_IBAN)]
        for kind in kinds:
            out.append(Column(locale, kind, pd.Series([_personal(f, kind, locale, rnd) for _ in range(rows)])))
        cats = [w.capitalize() for w in f.words(6, unique=True)]
        cities = [f.city() for _ in range(40)]
        for kind in NON_PII:
            values = [_non_personal(f, kind, rnd, cats, cities, today) for _ in range(rows)]
            out.append(Column(locale, kind, pd.Series(values)))
    return out


def _column_result(col: Column, lex=None, regions=DEFAULT_REGIONS) -> tuple[dict[str, float], list[str]]:
    from accelops.validation.pii_scan import _texts, classify

    texts = _texts(col.values)
    if not texts:
        return {}, []
    return classify(texts, header="c", regions=regions, today=date(2026, 1, 1), lex=lex)


def measure(columns: list[Column], regions=DEFAULT_REGIONS) -> dict:
    """Column recall per kind and per locale, value recall per column (minimum and mean), false positives
    on non-personal columns (typed, or over the free-text threshold of 1%), and which kinds they hit."""
    by_kind: dict[str, list[float]] = defaultdict(list)
    by_locale: dict[str, list[float]] = defaultdict(list)
    value_recall: dict[str, list[float]] = defaultdict(list)
    missed, false_pos, mistyped = [], [], []
    nonpii = 0
    for col in columns:
        shares, typed = _column_result(col, regions=regions)
        if col.personal:
            hit = col.kind in typed
            by_kind[col.kind].append(hit)
            by_locale[col.locale].append(hit)
            value_recall[col.kind].append(shares.get(col.kind, 0.0) if hit else 0.0)
            if not hit:
                missed.append(f"{col.locale}/{col.kind}")
            if extra := [k for k in typed if k != col.kind]:
                mistyped.append(f"{col.locale}/{col.kind} also {','.join(extra)}")
        else:
            nonpii += 1
            flagged = typed or [k for k, s in shares.items() if s >= (0.05 if k == "person_name" else 0.01)]
            if flagged:
                false_pos.append(f"{col.locale}/{col.kind}: {','.join(flagged)}")
    return {
        "columns": len(columns), "personal_columns": len(columns) - nonpii, "non_personal_columns": nonpii,
        "locales": sorted({c.locale for c in columns}),
        "recall_by_kind": {k: round(float(np.mean(v)), 4) for k, v in sorted(by_kind.items())},
        "recall_by_locale": {k: round(float(np.mean(v)), 4) for k, v in sorted(by_locale.items())},
        "value_recall_min": {k: round(min(v), 4) for k, v in sorted(value_recall.items())},
        "value_recall_mean": {k: round(float(np.mean(v)), 4) for k, v in sorted(value_recall.items())},
        "false_positive_rate": round(len(false_pos) / max(nonpii, 1), 4),
        "missed": missed, "false_positives": false_pos, "mistyped": mistyped,
    }


def leave_one_out(columns: list[Column]) -> dict[str, bool]:
    """Name columns re-classified with their own locale's Faker lists left out of the lexicon."""
    return {c.locale: "person_name" in _column_result(c, lex=lexicon(frozenset({c.locale})))[1]
            for c in columns if c.kind == "person_name"}


def text_redaction(columns: list[Column], per_column: int = 40, seed: int = 0) -> dict[str, float]:
    """Each personal value set inside a sentence of its locale, then redacted: the share of values of
    which no token survives (tokens of two characters or more that the sentence did not already hold)."""
    from faker import Faker

    rnd = random.Random(seed)
    caught: dict[str, list[bool]] = defaultdict(list)
    fakers: dict[str, Faker] = {}
    for col in columns:
        if not col.personal:
            continue
        f = fakers.setdefault(col.locale, Faker(col.locale))
        f.seed_instance(rnd.randint(0, 10 ** 6))
        for value in col.values.head(per_column):
            before, after = f.sentence(nb_words=5), f.sentence(nb_words=5)
            out = redact_text(f"{before} {value} {after}")
            context = f"{before} {after}"
            tokens = [t for t in str(value).replace(",", " ").split() if len(t) >= 2 and t not in context]
            caught[col.kind].append(not any(t in out for t in tokens))
    return {k: round(float(np.mean(v)), 4) for k, v in sorted(caught.items())}
