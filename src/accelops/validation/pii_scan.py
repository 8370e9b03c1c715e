"""Scan every column, declared or not, for personal data; report shares, never values.

A column is typed as a kind of personal data when enough of its sampled values are evidence of that
kind on their own (`recognisers.value_checks`, strong), judged over the column where one value cannot
tell (names: the shape of a name plus known name tokens, and many distinct values; dates of birth:
date-only values spanning decades with plausible ages; national ids: one checksummed scheme for most
values). A header that names the kind (`phone`, `dob`, `iban`, ...) lowers the bar. Columns that are not
typed are searched as free text: a share of values with an email, phone, card, IBAN, IP address, formatted
SSN/NINO or a person's name at or above the threshold blocks too. Undeclared findings block the batch
with an error naming the column."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from accelops.errors import PiiDetectedError
from accelops.validation.recognisers import (DEFAULT_REGIONS, KINDS, Lexicon, lexicon, id_schemes, luhn_ok, national_id, parse_date, phone_possible,
                                             phone_regions,
                                             redact_text, spans, value_checks)

__all__ = ["PiiScan", "scan", "redact", "classify", "luhn_ok", "KINDS"]

HINTS = {
    "person_name": r"name|nombre|nom|nome|vorname|nachname|surname|имя|фамилия|姓名|名前|氏名|이름|اسم|नाम",
    "address": r"addr|street|adresse|direcci|indirizzo|endere|адрес|住所|地址|주소|عنوان|पता",
    "date_of_birth": r"dob|birth|born|geburt|naissance|nacimiento|nascita|рожд|生日|生年月日|생년월일",
    "email": r"mail|correo|почта",
    "phone": r"phone|tel|mobile|cell|handy|telefon|телефон|電話|电话|전화|هاتف",
    "card_number": r"card|karte|carte|tarjeta|pan\b",
    "iban": r"iban|bank.?account|konto",
    "national_id": r"ssn|national|passport|tax.?id|pesel|cpf|dni|nir|aadhaar|nino|tckn|rrn|personnummer|"
                   r"fiscal|id.?number|henkil|snils|инн|身份证|주민",
    "ip_address": r"\bip\b|ip.?addr|host",
}
PROBE = 200            # values probed per kind before checking the whole sample
COLUMN_SHARE = 0.5     # strong values needed to type a column (lower with a header hint)
BARE_PHONE_SHARE = 0.9   # unformatted digit strings valid as phone numbers (a random 10-digit id: ~60%)
NAME_TEXT_SHARE = 0.05   # names in free text block from this share (capitalised nouns read as names)
BARE = re.compile(r"\d[\d ]+\d")
CATEGORY_LEVELS = 400  # distinct values a column needs (of min(rows, this)) to be names or addresses, not levels
ID_SHARE = 0.8         # one national id scheme (a random digit string passes a check digit ~10% of the time)
BLOCKING_IN_TEXT = ("email", "phone", "card_number", "iban", "ip_address", "person_name", "national_id")


class PiiScan(BaseModel):
    """Which kinds of personal data were found on which columns (shares of sampled values; never values)."""
    model_config = ConfigDict(extra="forbid")
    source: str
    rows_scanned: int
    columns: dict[str, dict[str, float]] = {}        # column -> kind -> share
    undeclared: list[dict[str, Any]] = []            # blocking findings: column, detector, share

    def raise_for_undeclared(self) -> None:
        if self.undeclared:
            raise PiiDetectedError(self.source, self.undeclared)


def _texts(series: pd.Series) -> list[str] | None:
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_float_dtype(series):
        return None
    vals = series.dropna()
    if vals.empty:
        return None
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = pd.to_datetime(vals)
        if (stamps != stamps.dt.normalize()).any():
            return None                  # times of day: event timestamps, not dates of birth
        return stamps.dt.strftime("%Y-%m-%d").tolist()
    if pd.api.types.is_integer_dtype(series) and vals.abs().max() < 10 ** 8:
        return None                      # short integers (ids, counts) cannot be cards, phones or ids
    return vals.astype(str).tolist()


def _dob_column(values: list[str], hinted: bool, today: date) -> float:
    parsed = [parse_date(v) for v in values]
    dates = [d for d in parsed if d is not None and date(1900, 1, 1) <= d <= today]
    share = len(dates) / len(values)
    if not dates:
        return 0.0
    ages = sorted((today - d).days / 365.25 for d in dates)
    if hinted:
        return share if share >= COLUMN_SHARE and ages[-1] <= 120 else 0.0
    median = ages[len(ages) // 2]
    spread = ages[-1] - ages[0]
    ok = share >= 0.9 and spread >= 30 and 18 <= median <= 90 and len(set(dates)) >= 0.1 * len(dates)
    return share if ok else 0.0


def _phone_share(values: list[str], styled, regions: tuple[str, ...]) -> tuple[float, float]:
    """(values written as phones, valid or of a possible length in the region that explains most values, bare digit strings
    valid in that region). Bare digits alone can type a column (Chinese mobiles); grouped digits valid
    only by range cannot (a part number 12-345-6789 is a valid French number)."""
    per_value = [phone_regions(v, regions) for v in values[:PROBE]]
    top = Counter(r for rs in per_value for r in rs).most_common(1)
    region = top[0][0] if top else None
    per_value += [phone_regions(v, (region,)) if region else frozenset() for v in values[PROBE:]]
    share = sum(1 for v, rs in zip(values, per_value)
                if region in rs or styled(v) or (region and phone_possible(v, region))) / len(values)
    bare = sum(1 for v, rs in zip(values, per_value) if region in rs and BARE.fullmatch(v))
    return share, bare / len(values)


def _bare_share(values: list[str]) -> float:
    return sum(BARE.fullmatch(v) is not None for v in values) / len(values)


def _is_text(values: list[str]) -> bool:
    """Free text: most values hold four words or more (codes, ids, dates, numbers and product names do not)."""
    words = sorted(len(v.split()) for v in values[:PROBE])
    return words[len(words) // 2] >= 4


def classify(values: list[str], header: str = "", regions: tuple[str, ...] = DEFAULT_REGIONS,
             today: date | None = None, lex: Lexicon | None = None) -> tuple[dict[str, float], list[str]]:
    """Shares of values per kind and the kinds the column is typed as. A typed kind's share counts
    every value consistent with it (strong or weak); an untyped kind's share counts free-text hits."""
    today = today or date.today()
    values = [v.strip() for v in values if v.strip()]
    if not values:
        return {}, []
    hint = {k for k, rx in HINTS.items() if re.search(rx, header, re.IGNORECASE)}
    lex = lex or lexicon()
    checks = value_checks(regions, lex)
    n, n_distinct = len(values), len(set(values))
    distinct = n_distinct / min(n, CATEGORY_LEVELS)    # names keep coming; a category's levels run out
    shares: dict[str, float] = {}
    typed: list[str] = []
    for kind, (strong, weak) in checks.items():
        if kind == "date_of_birth":
            share = _dob_column(values, kind in hint, today)
            if share:
                shares[kind], typed = share, typed + [kind]
            continue
        probe = values[:PROBE]
        probe_strong = sum(map(strong, probe)) / len(probe)
        if kind == "phone" and kind not in hint:       # typed by bare numbers only if most values are bare
            probe_weak = sum(map(weak, probe)) / len(probe) if _bare_share(probe) >= 0.5 else 0.0
        else:
            probe_weak = sum(map(weak, probe)) / len(probe) if kind in hint else 0.0
        if probe_strong < 0.1 and probe_weak < 0.1:
            continue
        s = sum(map(strong, values)) / n if n > len(probe) else probe_strong
        w = sum(map(weak, values)) / n if kind != "phone" else 0.0
        bar = 0.3 if kind in hint else COLUMN_SHARE
        if kind == "national_id":
            schemes = Counter(scheme for v in values for scheme in id_schemes(v))
            top = max(schemes.values(), default=0) / n
            ok = top >= (COLUMN_SHARE if kind in hint else ID_SHARE)
        elif kind == "person_name":
            ok = w >= (0.8 if kind in hint else 0.9) and s >= (0.2 if kind in hint else bar) and \
                distinct >= (0.2 if kind in hint else 0.5)
        elif kind == "address":
            ok = (s >= bar and distinct >= 0.5) or (kind in hint and w >= bar)
        elif kind == "phone":
            w, bare = _phone_share(values, strong, regions)
            ok = s >= bar or bare >= (bar if kind in hint else BARE_PHONE_SHARE) or (s >= 0.2 and w >= 0.9)
        else:
            ok = s >= bar
        if ok:
            shares[kind], typed = round(w, 4), typed + [kind]
    for strong_kind, weak_kind in (("national_id", "phone"), ("card_number", "national_id"), ("iban", "card_number")):
        if strong_kind in typed and weak_kind in typed:  # a checksum over most values outweighs a weaker reading
            typed.remove(weak_kind)
            shares.pop(weak_kind)
    if not typed and _is_text(values):
        hits = Counter(kind for v in values for kind in {k for _, _, k in spans(v, regions, lex)}
                       if kind in BLOCKING_IN_TEXT and (kind != "national_id" or national_id(v) is None))
        shares |= {k: round(c / n, 4) for k, c in hits.items()}
    return shares, typed


def scan(df: pd.DataFrame, declared: list[str], source: str, sample: int = 5000, threshold: float = 0.01,
         seed: int = 0, regions: tuple[str, ...] = DEFAULT_REGIONS) -> PiiScan:
    """Type each column (see `classify`) on a sample of its non-null values. An undeclared column that
    is typed, or whose free-text share of a kind is at least `threshold`, is a blocking finding."""
    rows = df.sample(n=sample, random_state=seed) if len(df) > sample else df
    result = PiiScan(source=source, rows_scanned=len(rows))
    for col in df.columns:
        texts = _texts(rows[col])
        if not texts:
            continue
        shares, typed = classify(texts, str(col), regions)
        if not shares:
            continue
        result.columns[str(col)] = shares
        if col in declared:
            continue
        for kind, share in shares.items():
            if kind in typed or share >= (max(threshold, NAME_TEXT_SHARE) if kind == "person_name" else threshold):
                result.undeclared.append({"column": str(col), "detector": kind, "share": share})
    return result


def redact(series: pd.Series, regions: tuple[str, ...] = DEFAULT_REGIONS) -> pd.Series:
    """Free text with every recognised email, phone, card, IBAN, id, IP, date and name replaced by a tag."""
    return series.map(lambda t: t if pd.isna(t) else redact_text(str(t), regions))
