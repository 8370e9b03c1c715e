import random

import pandas as pd
import pytest

from accelops.errors import PiiDetectedError
from accelops.validation.pii_scan import classify, luhn_ok, redact, scan
from accelops.validation.recognisers import (iban_ok, id_schemes, lexicon, name_strong, parse_date, phone_ok,
                                             redact_text, spans)

REGIONS = ("US", "GB", "DE", "CN", "RU")



@pytest.mark.parametrize("kind, positive, negative", [
    ("email", "write to ada.smith@example.co.uk today", "no at-sign here"),
    ("email", "почта: иван.петров@пример.рф", "user at example dot com"),
    ("phone", "+44 7700 900123", "order 12-34"),
    ("card_number", "4111 1111 1111 1111", "4111 1111 1111 1112"),          # Luhn decides
    ("iban", "pay DE89 3704 0044 0532 0130 00 now", "DE89 3704 0044 0532 0130 01"),
    ("national_id", "SSN 123-45-6789", "code 123-456"),
    ("national_id", "NINO AB123456C", "AB12C"),
    ("ip_address", "from 192.168.10.254", "version 1.2.3"),
    ("ip_address", "2001:db8:85a3::8a2e:370:7334", "a:b"),
    ("person_name", "called Maria Gonzalez about it", "Premium Plan renewal"),
    ("person_name", "позвонил Сазонов Арсений вчера", "Премиум план продлён"),
    ("date_of_birth", "born 1985-03-12 in Leeds", "born in Leeds"),
])
def test_free_text_spans(kind, positive, negative):
    lex = lexicon()
    assert kind in {k for _, _, k in spans(positive, REGIONS, lex, redacting=True)}
    assert kind not in {k for _, _, k in spans(negative, REGIONS, lex, redacting=True)}


def test_an_iban_is_not_read_as_a_card_and_ids_need_their_checksum():
    iban = "GB82WEST12345698765432"
    assert iban_ok(iban)
    assert [k for _, _, k in spans(f"to {iban} today", REGIONS)] == ["iban"]
    assert id_schemes("83071982596") == ("pl.pesel",) or "pl.pesel" in id_schemes("83071982596")
    assert "pl.pesel" not in id_schemes("83071982597")                  # one digit off: no scheme of PESEL
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713") and not luhn_ok("79927398710")


@pytest.mark.parametrize("name", ["Ryan Gallagher", "梁鑫", "木村 陽一", "홍정훈", "Сазонов Арсений Дмитриевич",
                                  "मोहना रोद्रिगुएस", "عالم السادة الراويون", "Cô Hạnh Trần", "Oluwasanmi Soyinka",
                                  "ชิดชนก เยาวธนโชค", "Πυθαγόρας Χατζηκύρκος", "עומרי עבדאללה"])
def test_names_in_many_scripts(name):
    assert name_strong(name, lexicon())


@pytest.mark.parametrize("not_a_name", ["Rustic Granite Table", "Premium Plan", "SKU-12345", "Ergonomic Steel Chair 3000"])
def test_product_words_are_not_names(not_a_name):
    assert not name_strong(not_a_name, lexicon())


def test_a_category_of_words_that_are_also_names_is_not_a_name_column():
    """"North", "West" and "Paris" are surnames; a column cycling through a few of them is a category."""
    regions = ["north", "south", "east", "west", "central"]
    assert classify([regions[i % 5] for i in range(20)], "region")[1] == []
    cities = ["Paris", "London", "Lincoln", "Jackson", "Washington", "Florence", "Charlotte", "Austin"]
    assert classify([cities[i % 8] for i in range(5000)], "city")[1] == []
    people = [f"{first} {last}" for first in ("Anna", "Ryan", "Chloe", "Omar", "Mei") for last in cities]
    assert classify(people, "")[1] == ["person_name"]         # 40 rows, 40 distinct: still names


def test_phone_numbers_need_a_phone_style_or_one_region_for_bare_digits():
    assert phone_ok("+7 (823) 921-97-44", REGIONS) and phone_ok("(415) 555-0100", REGIONS)
    assert not phone_ok("12-345-6789", REGIONS)              # a part number: no trunk prefix, no NANP grouping
    assert not phone_ok("2024-03-01", REGIONS) and not phone_ok("10.0.0.7", REGIONS)
    mobiles = [f"13{d}{n:08d}" for d, n in zip("0123456789" * 6, range(10_000_000, 10_000_060))]
    shares, typed = classify(mobiles, "c", ("CN", "US"))
    assert typed == ["phone"] and shares["phone"] == 1.0
    rnd = random.Random(0)
    accounts = [str(rnd.randint(10 ** 9, 10 ** 12)) for _ in range(60)]     # random ids: not typed
    assert classify(accounts, "c", ("CN", "US"))[1] == []


def test_dates_of_birth_are_judged_over_the_column():
    births = [f"{1940 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(100)]
    assert classify(births, "c")[1] == ["date_of_birth"]
    orders = [f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(100)]   # recent event dates
    assert classify(orders, "c")[1] == []
    assert classify(orders, "date_of_birth")[1] == ["date_of_birth"]          # a header that names the kind
    assert parse_date("07.03.1980") and parse_date("1980年3月7日") and parse_date("13/25/1980") is None


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


@pytest.mark.parametrize("text, gone", [
    ("Доставка: г. Калевала, ул. Тульская, д. 71 к. 8/5, 841643. Спасибо.", ["Тульская", "841643"]),
    ("Ship to 7631 Johnson Village Suite 690, Adamsbury, OR 13900 please.", ["Johnson", "13900"]),
    ("住所は石川県香取市台東29丁目16番13号です。", ["29丁目16番13号"]),
    ("IBAN DE89370400440532013000, Tel. 030 1234567", ["DE89370400440532013000", "1234567"]),
])
def test_redaction_in_other_languages(text, gone):
    out = redact_text(text, ("DE", "RU", "US", "JP"))
    assert not any(g in out for g in gone), out
