"""Scan every column, declared or not, for personal data; report shares, never values.

Detectors: emails, phone numbers, payment card numbers (Luhn-checked), national-id-like numbers
(US SSN, UK NINO), IPv4/IPv6 addresses, and person names in free text (a capitalised first name
from an embedded list followed by a capitalised word). A column that is not declared as PII and
matches any detector above the threshold blocks the batch with an error naming it."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from accelops.errors import PiiDetectedError

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().-]{7,}\d(?![\w.])")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b")
IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])")
IPV6 = re.compile(r"(?<![:\w])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![:\w])")
FIRST_NAMES = frozenset("""
Aaron Abdul Ada Adam Adrian Ahmed Aisha Alan Alex Alice Amelia Amir Ana Andrew Anna Anne Arjun Ava Ben
Benjamin Carlos Charlotte Chen Chloe Chris Daniel David Dev Diana Elena Elif Elizabeth Ella Emily Emma
Eric Fatima Femi Gita George Grace Hannah Harry Hugo Ines Isabella Ivan Jack James Jane Jennifer Jessica
John Jon Jose Joseph Juan Julia Karen Kate Kira Laura Leo Linda Lucas Luis Maria Mark Mary Matthew Mei
Mia Michael Mohammed Nadia Nils Noah Olivia Omar Oliver Paul Peter Pia Priya Quinn Rachel Raj Robert
Rosa Ryan Sam Sarah Sofia Sophie Tara Thomas Tom Umar Vera Wei William Yuki Zoe
""".split())
NAME = re.compile(r"\b([A-Z][a-z]+)\s+[A-Z][a-zA-Zü'-]+")


def luhn_ok(digits: str) -> bool:
    total, alt = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def _card(text: str) -> bool:
    return any(luhn_ok(re.sub(r"\D", "", m)) for m in CARD.findall(text))


def _phone(text: str) -> bool:
    return any(9 <= len(re.sub(r"\D", "", m)) <= 15 for m in PHONE.findall(text))


def _name(text: str) -> bool:
    return any(first in FIRST_NAMES for first in NAME.findall(text))


DETECTORS = {
    "email": lambda t: EMAIL.search(t) is not None,
    "phone": _phone,
    "card_number": _card,
    "national_id": lambda t: SSN.search(t) is not None or NINO.search(t) is not None,
    "ip_address": lambda t: IPV4.search(t) is not None or IPV6.search(t) is not None,
    "person_name": _name,
}


class PiiScan(BaseModel):
    """Which detectors fired on which columns (shares of sampled values; never the values)."""
    model_config = ConfigDict(extra="forbid")
    source: str
    rows_scanned: int
    columns: dict[str, dict[str, float]] = {}        # column -> detector -> share
    undeclared: list[dict[str, Any]] = []            # blocking findings: column, detector, share

    def raise_for_undeclared(self) -> None:
        if self.undeclared:
            raise PiiDetectedError(self.source, self.undeclared)


def _texts(series: pd.Series) -> list[str] | None:
    if pd.api.types.is_float_dtype(series) or pd.api.types.is_bool_dtype(series) \
            or pd.api.types.is_datetime64_any_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        # long integers can be card or phone numbers; short ones (ids, counts) cannot
        vals = series.dropna()
        if vals.empty or vals.abs().max() < 10 ** 8:
            return None
    return series.dropna().astype(str).tolist()


def scan(df: pd.DataFrame, declared: list[str], source: str, sample: int = 5000, threshold: float = 0.01,
         seed: int = 0) -> PiiScan:
    """Share of sampled non-null values per column matching each detector; undeclared columns
    at or above `threshold` for any detector are listed as blocking findings."""
    rows = df.sample(n=sample, random_state=seed) if len(df) > sample else df
    result = PiiScan(source=source, rows_scanned=len(rows))
    for col in df.columns:
        texts = _texts(rows[col])
        if not texts:
            continue
        shares = {}
        for name, detect in DETECTORS.items():
            share = float(np.mean([detect(t) for t in texts]))
            if share > 0:
                shares[name] = round(share, 4)
        if shares:
            result.columns[str(col)] = shares
            if col not in declared:
                for name, share in shares.items():
                    if share >= threshold:
                        result.undeclared.append({"column": str(col), "detector": name, "share": share})
    return result


def redact(series: pd.Series) -> pd.Series:
    """Free text with every detected email, phone, card, id, IP and name replaced by a tag."""
    def clean(text):
        if pd.isna(text):
            return text
        t = EMAIL.sub("[EMAIL]", str(text))
        t = SSN.sub("[ID]", NINO.sub("[ID]", t))
        t = CARD.sub(lambda m: "[CARD]" if luhn_ok(re.sub(r"\D", "", m.group())) else m.group(), t)
        t = IPV6.sub("[IP]", IPV4.sub("[IP]", t))
        t = PHONE.sub(lambda m: "[PHONE]" if 9 <= len(re.sub(r"\D", "", m.group())) <= 15 else m.group(), t)
        return NAME.sub(lambda m: "[NAME]" if m.group(1) in FIRST_NAMES else m.group(), t)

    return series.map(clean)
