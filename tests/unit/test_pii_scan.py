import json

import pandas as pd
import pytest

from accelops.errors import PiiDetectedError
from accelops.validation.pii_scan import DETECTORS, luhn_ok, redact, scan


@pytest.mark.parametrize("detector, positive, negative", [
    ("email", "write to ada.smith@example.co.uk today", "no at-sign here"),
    ("phone", "+44 7700 900123", "order 12-34"),
    ("card_number", "4111 1111 1111 1111", "4111 1111 1111 1112"),          # Luhn decides
    ("national_id", "SSN 123-45-6789", "code 123-456"),
    ("national_id", "NINO AB123456C", "AB12C"),
    ("ip_address", "from 192.168.10.254", "version 1.2.3"),
    ("ip_address", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "a:b"),
    ("person_name", "called Maria Gonzalez about it", "Premium Plan renewal"),
])
def test_detectors(detector, positive, negative):
    assert DETECTORS[detector](positive)
    assert not DETECTORS[detector](negative)


def test_luhn():
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713") and not luhn_ok("79927398710")


def test_undeclared_pii_column_blocks_and_report_holds_no_values(small_frame):
    df = small_frame.assign(contact=small_frame["email"], notes="called about billing")
    result = scan(df, declared=["full_name", "email", "phone"], source="batch.csv")
    assert {"column": "contact", "detector": "email", "share": 1.0} in result.undeclared
    assert not any(f["column"] in {"email", "phone", "full_name", "notes"} for f in result.undeclared)
    assert result.columns["full_name"]["person_name"] > 0.9 and result.columns["phone"]["phone"] == 1.0
    assert "customer_id" not in result.columns and "tenure_months" not in result.columns
    dumped = result.model_dump_json()
    assert "@example.com" not in dumped and "+44" not in dumped
    with pytest.raises(PiiDetectedError, match=r"batch.csv: undeclared personal data: column contact: email in 100.0%"):
        result.raise_for_undeclared()


def test_long_integer_columns_are_scanned_short_ids_are_not():
    df = pd.DataFrame({"id": range(100), "card": [4111111111111111] * 100})
    result = scan(df, declared=[], source="x")
    assert [f["column"] for f in result.undeclared] == ["card"]


def test_free_text_redaction():
    text = pd.Series(["Maria Gonzalez (maria@x.io, +1 415 555 0100) paid with 4111-1111-1111-1111 from 10.0.0.7",
                      None, "plain words"])
    out = redact(text)
    assert out[0] == "[NAME] ([EMAIL], [PHONE]) paid with [CARD] from [IP]"
    assert out[1] is None and out[2] == "plain words"
    assert not scan(pd.DataFrame({"t": out}), [], "x").undeclared
