"""Personal-data recognisers for values in any script and locale, built on maintained libraries.

- phone numbers: Google's libphonenumber (`phonenumbers`), valid per region;
- national ids, IBANs: `python-stdnum`'s checksummed validators (about 50 national id schemes);
- payment cards: Luhn-checked 13-19 digit numbers with a card industry prefix (2-6), never inside an IBAN;
- emails (Unicode local parts and domains), IPv4/IPv6 (`ipaddress`);
- person names: the first, last, middle and title lists of every locale Faker ships (86 locales,
  native scripts: Cyrillic, Han, Kana, Hangul, Arabic, Devanagari, Thai, Greek, Hebrew...), with the
  shape of a name (letters and marks only, 1-5 tokens) and, for unspaced scripts, a surname prefix;
- postal addresses: letters and a number with a street, locality or building marker from the same
  locales' address lists (glued suffixes such as "-straße" and CJK markers such as 市/区/丁目 included);
- dates of birth: date-only values whose ages make sense, judged over the column.

Each recogniser answers two questions about a value: is it evidence on its own (`strong`), and is it
consistent with a column already judged to be of this kind (`weak`: a bare 10-digit phone number in a
phone column). Columns are typed by `pii_scan`; free text is searched span by span (`spans`)."""

from __future__ import annotations

import functools
import importlib
import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from accelops.config import DEFAULT_PHONE_REGIONS

KINDS = ("person_name", "address", "date_of_birth", "email", "phone", "card_number", "iban", "national_id",
         "ip_address")

DEFAULT_REGIONS = DEFAULT_PHONE_REGIONS      # phone regions for national numbers (validate.pii_regions)

# national person ids with a checksum (python-stdnum module names); format-only schemes are handled apart
NATIONAL_IDS = ("fr.nir", "it.codicefiscale", "nl.bsn", "pl.pesel", "br.cpf", "tr.tckimlik", "cn.ric", "kr.rrn",
                "in_.aadhaar", "in_.pan", "se.personnummer", "gr.amka", "il.idnr", "th.pin", "ua.rntrc",
                "dk.cpr", "fi.hetu", "no.fodselsnummer", "za.idnr", "mx.curp", "cl.rut", "be.nn", "ch.ssn",
                "jp.in_", "cz.rc", "ro.cnp", "bg.egn", "ee.ik", "lt.asmens", "lv.pvn", "hr.oib", "si.emso",
                "is_.kennitala", "pt.cc", "at.vnr", "ie.pps", "ca.sin", "au.tfn", "nz.ird", "id.nik",
                "my.nric", "es.dni", "es.nie", "de.idnr", "ru.inn")

EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
PHONE = re.compile(r"(?<![\w.+])(?:\+|00)?\(?\d[\d\s().\-/]{5,}\d(?:\s*(?:x|ext\.?)\s*\d{1,5})?(?![\w])")
PHONE_STYLE = re.compile(r"\+|00|0|8[\s(]|\(")
NANP = re.compile(r"\(?\d{3}\)?[-. ]?\d{3}[-. ]\d{4}(?:\s*(?:x|ext\.?)\s*\d{1,5})?")
CARD = re.compile(r"(?<![\d\w])(?:\d[ -]?){11,18}\d(?![\d\w])")
IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(r"(?<![:\w])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![:\w])")
SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
ID_TOKEN = re.compile(r"(?<![\w.\-/])[A-Z0-9](?:[A-Z0-9]|[.\-/](?=[A-Z0-9])|(?<=\d) (?=\d)){5,22}(?![\w\-/])")
DATE = re.compile(r"(?<!\d)(?:(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})|(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"
                  r"|(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|(\d{4})\.\s*(\d{1,2})\.\s*(\d{1,2})\.?)(?!\d)")
# administrative-unit and block suffixes of Chinese, Japanese and Korean addresses, next to a number
CJK_ADDRESS = re.compile(r"[省市县區区镇鎮乡鄉村路街道号號楼樓室都府県郡町丁目番地]\s*\d|\d+\s*[号號丁目番地楼樓室]"
                         r"|[시도구군읍면동리로길]\s*\d|\d+\s*(?:번지|호|동|층)")
NAME_PUNCT = frozenset("-.'’·・‧,")
TOKEN_SPLIT = re.compile(r"[\s\-·・‧,]+")
UNSPACED = re.compile(r"^[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+$")
HAN_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]{2,5}")

PERSON_LISTS = re.compile(r"(first|last|middle|given|surname|family).*name|names?_(fem|male|unisex)|kana_names")
TITLE_LISTS = re.compile(r"^(prefixes|suffixes|academic)")
ADDRESS_LISTS = re.compile(r"(street|road|city|district|region|settlement|town|village|building|tambon|"
                           r"commune|province|sub_street).*(suffix|prefix|title)|secondary_address")


@dataclass(frozen=True)
class Lexicon:
    """Name and address vocabularies, casefolded. `unspaced_*` hold Han, Kana and Hangul entries."""
    first: frozenset[str]
    last: frozenset[str]
    known: frozenset[str]                 # every name token: first, last, middle
    titles: frozenset[str]
    unspaced_surnames: frozenset[str]
    unspaced_given: frozenset[str]
    markers: frozenset[str]               # street, locality and building words
    short_markers: frozenset[str]         # their one- and two-letter abbreviations (ul., g., д.), with a dot
    unspaced_markers: tuple[str, ...]
    locales: tuple[str, ...] = field(default=())


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        yield from (k for k in value if isinstance(k, str))
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            yield from _strings(v)


def _norm(token: str) -> str:
    return unicodedata.normalize("NFC", token).strip(".'’").casefold()


def _words(text: str) -> list[str]:
    return [w for w in (_norm(t) for t in TOKEN_SPLIT.split(text)) if w]


LEXICON_PARTS = ("first", "last", "known", "titles", "unspaced_surnames", "unspaced_given", "markers",
                 "short_markers", "unspaced_markers")


@functools.cache
def _locale_lists(loc: str) -> dict[str, frozenset[str]] | None:
    """One Faker locale's name and address vocabularies (None: the locale has no person provider)."""
    try:
        person = importlib.import_module(f"faker.providers.person.{loc}").Provider
    except ImportError:
        return None
    parts: dict[str, set[str]] = {k: set() for k in LEXICON_PARTS}
    for attr in dir(person):
        if attr.startswith("_") or "format" in attr:
            continue
        is_title = TITLE_LISTS.match(attr) is not None
        if not is_title and not PERSON_LISTS.search(attr):
            continue
        for entry in _strings(getattr(person, attr)):
            words = _words(entry)
            if is_title:
                parts["titles"].update(words)
                continue
            parts["known"].update(words)
            if attr.startswith("first") or "given" in attr:
                parts["first"].update(words)
            elif "last" in attr or "surname" in attr or "family" in attr:
                parts["last"].update(words)
            if UNSPACED.match(entry.replace(" ", "")):
                parts["unspaced_given" if attr.startswith("first") else "unspaced_surnames"].add(entry.replace(" ", ""))
    try:
        address = importlib.import_module(f"faker.providers.address.{loc}").Provider
    except ImportError:
        address = None
    for attr in dir(address) if address is not None else ():
        if attr.startswith("_") or not ADDRESS_LISTS.search(attr):
            continue
        for entry in _strings(getattr(address, attr)):
            entry = re.sub(r"\{\{.*?\}\}|[#%?]", " ", entry)
            for word in _words(entry):
                if UNSPACED.match(word) or re.match(r"^[\u0e00-\u0e7f]+$", word):
                    parts["unspaced_markers"].add(word)
                elif len(word) >= 3 and not word.isdigit():
                    parts["markers"].add(word)
                elif word.isalpha() and f"{word}." in entry.casefold():
                    parts["short_markers"].add(word)
    return {k: frozenset(v) for k, v in parts.items()}


@functools.cache
def lexicon(exclude: frozenset[str] = frozenset()) -> Lexicon:
    """Built on first use from Faker's person and address providers (under a second), without the
    locales in `exclude` (the recall audit leaves each test locale out in turn)."""
    import faker.config

    lists = {loc: _locale_lists(loc) for loc in faker.config.AVAILABLE_LOCALES if loc not in exclude}
    lists = {loc: parts for loc, parts in lists.items() if parts is not None}
    union = {k: frozenset().union(*(parts[k] for parts in lists.values())) for k in LEXICON_PARTS}
    union["unspaced_markers"] = tuple(sorted(union["unspaced_markers"], key=len, reverse=True))
    return Lexicon(**union, locales=tuple(lists))


# --- value shapes --------------------------------------------------------------------------------------------

def name_shaped(text: str) -> bool:
    """Letters, marks, spaces and name punctuation only; 1-6 tokens; no digits."""
    if not 2 <= len(text) <= 80:
        return False
    for ch in text:
        cat = unicodedata.category(ch)
        if not (cat[0] in "LM" or ch == " " or ch in NAME_PUNCT):
            return False
    return 1 <= len(text.split()) <= 6


def _surname_prefix(token: str, lex: Lexicon) -> bool:
    return any(token[:k] in lex.unspaced_surnames and 1 <= len(token) - k <= 3 for k in (1, 2, 3))


def name_strong(text: str, lex: Lexicon) -> bool:
    if not name_shaped(text):
        return False
    tokens = [t for t in _words(text) if t not in lex.titles]
    if not tokens:
        return False
    if len(tokens) == 1:
        t = tokens[0]
        if UNSPACED.match(t):
            return _surname_prefix(t, lex) or t in lex.unspaced_given
        return t in lex.first
    known = sum(t in lex.known or t in lex.unspaced_surnames or t in lex.unspaced_given for t in tokens)
    return len(tokens) <= 5 and (known >= 2 or any(t in lex.first for t in tokens))


def _marker(token: str, lex: Lexicon) -> bool:
    if token in lex.markers:
        return True
    # glued street suffixes (Wesackstraße, Lindseysingel, Industritorget)
    return len(token) > 5 and any(token[-k:] in lex.markers for k in range(3, min(len(token) - 2, 12) + 1))


def _address_lines(text: str) -> bool:
    """Comma- or line-separated short parts, one with a number and letters: "8/6 चोधरी, पाकाला-118098"."""
    parts = [p.strip() for p in re.split(r"[,\n]+", text) if p.strip()]
    return (2 <= len(parts) <= 6 and len(text.split()) <= 16 and all(len(p) <= 60 for p in parts)
            and re.search(r"\d{2}", text) is not None and any(any(c.isalpha() for c in p) for p in parts))


def address_strong(text: str, lex: Lexicon) -> bool:
    if not (any(c.isdigit() for c in text) and any(c.isalpha() for c in text)) or len(text) < 8 or "@" in text:
        return False
    if " " not in text.strip() and not CJK_ADDRESS.search(text):
        return False                       # one token: a code, an IBAN, an id
    if any(m in text for m in lex.unspaced_markers) or CJK_ADDRESS.search(text) or _address_lines(text):
        return True
    if any(a.casefold() in lex.short_markers for a in re.findall(r"(?<!\w)([^\W\d_]{1,2})\.", text)):
        return True
    return any(_marker(w, lex) for w in _words(re.sub(r"[\d/]+", " ", text)))


def address_weak(text: str) -> bool:
    letters = sum(c.isalpha() for c in text)
    return any(c.isdigit() for c in text) and letters >= 4 and len(text) >= 8 and "@" not in text


MIDNIGHT = re.compile(r"[T ]00:00(?::00(?:\.0+)?)?$")


def parse_date(text: str) -> date | None:
    m = DATE.fullmatch(MIDNIGHT.sub("", text.strip())) if len(text) <= 30 else None
    if not m:
        return None
    g = [x for x in m.groups() if x is not None]
    y_first = len(g[0]) == 4
    y, a, b = (int(g[0]), int(g[1]), int(g[2])) if y_first else (int(g[2]), int(g[1]), int(g[0]))
    for month, day in ((a, b),) if y_first else ((a, b), (b, a)):
        try:
            return date(y, month, day)
        except ValueError:
            continue
    return None


def luhn_ok(digits: str) -> bool:
    total, alt = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    from stdnum import iban
    try:
        return bool(iban.is_valid(text))
    except Exception:                      # noqa: BLE001 - a validator's own error means "not this scheme"
        return False


def card_ok(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    return 12 <= len(digits) <= 19 and digits.isdigit() and luhn_ok(digits)


def ip_ok(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


_NO_SCHEME: set[tuple[str, str]] = set()      # (scheme, value shape) pairs a scheme rejects by length


@functools.cache
def _id_modules() -> tuple[tuple[str, object], ...]:
    out = []
    for name in NATIONAL_IDS:
        try:
            out.append((name, importlib.import_module(f"stdnum.{name}")))
        except ImportError:
            continue
    return tuple(out)


def national_id(text: str) -> str | None:
    """The first scheme a value validates under (see `id_schemes`)."""
    return next(iter(id_schemes(text)), None)


@functools.lru_cache(maxsize=1 << 16)
def id_schemes(text: str) -> tuple[str, ...]:
    """Every scheme a value validates under: checksummed stdnum schemes, or a formatted US SSN / UK NINO.
    """
    t = text.strip()
    if SSN.fullmatch(t):
        from stdnum.us import ssn
        return ("us.ssn",) if ssn.is_valid(t) else ()
    if NINO.fullmatch(t):
        return ("gb.nino",)
    compact = re.sub(r"[ .\-/]", "", t)
    if not 6 <= len(compact) <= 20 or not compact.isalnum() or sum(c.isdigit() for c in compact) < 5:
        return ()
    from stdnum.exceptions import InvalidLength, ValidationError

    shape = re.sub(r"[^\W\d_]", "A", re.sub(r"\d", "9", t))    # a length verdict depends on this alone
    found = []
    for name, module in _id_modules():
        if (name, shape) in _NO_SCHEME:
            continue
        try:
            module.validate(t)
            found.append(name)
        except InvalidLength:
            _NO_SCHEME.add((name, shape))
        except (ValidationError, Exception):   # noqa: BLE001 - stdnum raises its own errors for odd inputs
            continue
    return tuple(found)


@functools.cache
def _phone_lib():
    import phonenumbers
    return phonenumbers


@functools.lru_cache(maxsize=1 << 16)
def phone_ok(text: str, regions: tuple[str, ...]) -> bool:
    """Written as a phone number: with a country code (+44, 0044), a trunk prefix (0, Russian 8), an area
    code in brackets or the North American 3-3-4 grouping, and of a possible length for a region. Dates,
    IP addresses and SSN-shaped values are not phone numbers. (libphonenumber's range check alone is too
    lenient on national numbers: a random part number 12-345-6789 is "valid" in France.)"""
    t = re.sub(r"^\(\+(\d{1,3})\)", r"+\1", text.strip())         # (+30) 2833 058475
    if not _phone_candidate(t) or not (PHONE_STYLE.match(t) or NANP.fullmatch(t)):
        return False
    pn = _phone_lib()
    tries = (None,) if t.startswith("+") else ("US",) if NANP.fullmatch(t) else regions
    if t.startswith("00"):
        t, tries = "+" + t[2:], (None,)
    for region in tries:
        try:
            if pn.is_possible_number(pn.parse(t, region)):
                return True
        except pn.NumberParseException:
            continue
    return False


def _phone_candidate(t: str) -> bool:
    number = re.split(r"x|ext", t)[0]
    return 6 <= sum(c.isdigit() for c in number) <= 15 and PHONE.fullmatch(t) is not None and \
        not (SSN.fullmatch(t) or ip_ok(t) or parse_date(t))


@functools.lru_cache(maxsize=1 << 16)
def phone_regions(text: str, regions: tuple[str, ...]) -> frozenset[str]:
    """Regions in which a value is a valid number (inside an allocated range) as written nationally.
    Chinese mobiles are written 13812345678, Brazilian numbers 33 2547-2906. One region must explain
    most of a column (`pii_scan`)."""
    t = text.strip()
    if not _phone_candidate(t):
        return frozenset()
    pn = _phone_lib()
    out = set()
    for region in regions:
        try:
            if pn.is_valid_number(pn.parse(t, region)):
                out.add(region)
        except pn.NumberParseException:
            continue
    return frozenset(out)


@functools.lru_cache(maxsize=1 << 16)
def phone_possible(text: str, region: str) -> bool:
    """Of a possible length for `region` as written (a local number without its area code is not)."""
    if not _phone_candidate(text.strip()):
        return False
    pn = _phone_lib()
    try:
        return pn.is_possible_number(pn.parse(text.strip(), region))
    except pn.NumberParseException:
        return False


def phone_formatted(text: str) -> bool:
    return bool(re.search(r"[+\s().\-/]", text.strip()))


# --- free-text spans ---------------------------------------------------------------------------------------

def _name_token(word: str, lex: Lexicon) -> str | None:
    """The casefolded token when every hyphen part is a known name token ('wright-warner'), else None."""
    norm = _norm(word.strip("()[]{}\"«»“”„,;:!?"))
    parts = [p for p in re.split(r"[-‐]", norm) if p]
    return norm if parts and all(p in lex.known or p in lex.titles for p in parts) else None


def _name_spans(text: str, lex: Lexicon) -> list[tuple[int, int]]:
    """Runs of known name tokens (capitalised where the script has case; lower-case titles and particles
    such as 'de', 'van', 'pani' inside) holding a known first name and a known last name; in Han, Kana
    and Hangul runs, a known surname followed by a known given name."""
    out = []
    words = [(w.start(), w.end(), w.group()) for w in re.finditer(r"\S+", text)]
    i = 0
    while i < len(words):
        j, run = i, []
        while j < len(words):
            token = _name_token(words[j][2], lex)
            lower = words[j][2][0].islower()
            if token is None or (lower and token not in lex.titles and (len(token) > 3 or j == i)):
                break
            run.append(token)
            j += 1
            if words[j - 1][2][-1] in ".!?;:" and len(words[j - 1][2]) > 4 and token not in lex.titles:
                break                          # a sentence ends here ("Jones." ends a run; "Dr." does not)
        names = [t for t in run if t not in lex.titles]
        parts = {p for t in names for p in t.split("-")}
        if len(names) >= 2 and parts & lex.first and parts & lex.last:
            out.append((words[i][0], words[j - 1][1]))
            i = j
        else:
            i += 1
    for m in HAN_RUN.finditer(text):
        s, i = m.group(), 0
        while i < len(s) - 1:             # a known surname followed by a known given name, anywhere in the run
            hit = next(((k, g) for k in (2, 1) if s[i:i + k] in lex.unspaced_surnames
                        for g in (3, 2, 1) if s[i + k:i + k + g] in lex.unspaced_given), None)
            if hit:
                out.append((m.start() + i, m.start() + i + sum(hit)))
                i += sum(hit)
            else:
                i += 1
    return out


def _iban_spans(text: str) -> list[tuple[int, int]]:
    out = []
    for m in IBAN.finditer(text):
        candidate = m.group()
        while len(candidate) >= 15 and not iban_ok(candidate):   # the match may run into the next word
            candidate = candidate.rsplit(" ", 1)[0] if " " in candidate else ""
        if len(candidate) >= 15:
            out.append((m.start(), m.start() + len(candidate)))
    return out


def _address_spans(text: str, lex: Lexicon) -> list[tuple[int, int]]:
    """From a token with a number or an address marker, widened left over street words, the longest
    window (up to 14 tokens, within the sentence) that reads as an address, then widened right over
    the place names after it."""
    tokens = [(t.start(), t.end(), t.group()) for t in re.finditer(r"\S+", text)]

    def marker(word: str) -> bool:
        return CJK_ADDRESS.search(word) is not None or any(m in word for m in lex.unspaced_markers) or \
            any(_marker(w, lex) for w in _words(word)) or \
            (word.endswith(".") and word[:-1].casefold() in lex.short_markers)

    def ends(word: str) -> bool:
        return word[-1] in ".!?" and len(word) > 4 and not marker(word)

    def joins(word: str) -> bool:          # a street or place word: capitalised, uncased, a marker or a sign
        return (not word[0].islower() or marker(word) or len(word) <= 3) and not ends(word)

    out, i = [], 0
    while i < len(tokens):
        word = tokens[i][2]
        if not (any(c.isdigit() for c in word) or marker(word)):
            i += 1
            continue
        first = i
        while first > max(i - 4, 0) and joins(tokens[first - 1][2]) and \
                (not out or tokens[first - 1][0] >= out[-1][1]) and not tokens[first - 1][2][0].islower():
            first -= 1
        stop = next((k for k in range(i, min(i + 14, len(tokens))) if ends(tokens[k][2])), min(i + 13, len(tokens) - 1))
        windows = [j for j in range(stop, i - 1, -1) if any(c.isdigit() for c in tokens[j][2])]
        windows += [j for j in range(stop, i, -1) if j not in windows]   # then to the sentence's end (6/47 Phố ...)
        hit = next((j for j in windows if address_strong(text[tokens[first][0]:tokens[j][1]], lex)), None)
        if hit is None:
            i += 1
            continue
        last = hit
        while last < min(hit + 5, len(tokens) - 1) and joins(tokens[last + 1][2]) and not ends(tokens[last][2]):
            last += 1
        out.append((tokens[first][0], tokens[last][1]))
        i = last + 1
    return out


def spans(text: str, regions: tuple[str, ...] = DEFAULT_REGIONS, lex: Lexicon | None = None,
          redacting: bool = False) -> list[tuple[int, int, str]]:
    """Personal data in free text: (start, end, kind), non-overlapping, earliest and longest first.
    `redacting` also takes what is too ambiguous to block a column on (bare digit strings valid as a
    phone number somewhere, addresses): over-redacting a note costs less than leaking one."""
    found: list[tuple[int, int, str]] = []
    found += [(m.start(), m.end(), "email") for m in EMAIL.finditer(text)]
    found += [(a, b, "iban") for a, b in _iban_spans(text)]
    found += [(m.start(), m.end(), "ip_address") for r in (IPV4, IPV6) for m in r.finditer(text) if ip_ok(m.group())]
    found += [(m.start(), m.end(), "card_number") for m in CARD.finditer(text) if card_ok(m.group())]
    found += [(m.start(), m.end(), "date_of_birth") for m in DATE.finditer(text) if parse_date(m.group())]
    found += [(m.start(), m.end(), "national_id") for r in (SSN, NINO, ID_TOKEN) for m in r.finditer(text)
              if len(re.sub(r"\W", "", m.group())) >= 8 and national_id(m.group())]   # 123-456 passes some scheme
    found += [(m.start(), m.end(), "phone") for m in PHONE.finditer(text)
              if phone_formatted(m.group()) and phone_ok(m.group(), regions)]
    if redacting:
        found += [(m.start(), m.end(), "phone") for m in PHONE.finditer(text) if phone_regions(m.group(), regions)]
    if lex is not None:
        found += [(a, b, "person_name") for a, b in _name_spans(text, lex)]
        if redacting:
            found += [(a, b, "address") for a, b in _address_spans(text, lex)]
    found.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[tuple[int, int, str]] = []
    for s in found:
        if not out or s[0] >= out[-1][1]:
            out.append(s)
    return out


TAGS = {"person_name": "[NAME]", "address": "[ADDRESS]", "date_of_birth": "[DATE]", "email": "[EMAIL]",
        "phone": "[PHONE]", "card_number": "[CARD]", "iban": "[IBAN]", "national_id": "[ID]",
        "ip_address": "[IP]"}


def redact_text(text: str, regions: tuple[str, ...] = DEFAULT_REGIONS) -> str:
    lex = lexicon()
    out, pos = [], 0
    for a, b, kind in spans(text, regions, lex, redacting=True):
        out += [text[pos:a], TAGS[kind]]
        pos = b
    out.append(text[pos:])
    return "".join(out)


# --- per value, per kind -----------------------------------------------------------------------------------

Check = Callable[[str], bool]


def value_checks(regions: tuple[str, ...] = DEFAULT_REGIONS,
                 lex: Lexicon | None = None) -> dict[str, tuple[Check, Check]]:
    """kind -> (strong, weak): strong is evidence on its own; weak is consistent with a typed column."""
    lex = lex or lexicon()

    def email(t):
        return EMAIL.fullmatch(t.strip()) is not None

    def ip(t):
        return ip_ok(t.strip())

    def iban(t):
        return IBAN.fullmatch(t.strip()) is not None and iban_ok(t)

    def card(t):
        return card_ok(t.strip()) and not iban(t)

    def phone_strong(t):
        return phone_formatted(t) and phone_ok(t, regions)

    def name(t):
        return name_strong(t, lex)

    def address(t):
        return address_strong(t, lex)

    def nid(t):
        return national_id(t) is not None

    def dob(t):
        return parse_date(t) is not None

    return {"email": (email, email), "ip_address": (ip, ip), "iban": (iban, iban), "card_number": (card, card),
            "phone": (phone_strong, lambda t: phone_strong(t) or bool(phone_regions(t, regions))
                      and re.fullmatch(r"\d[\d ]+\d", t.strip()) is not None), "person_name": (name, name_shaped),
            "address": (address, address_weak), "national_id": (nid, nid), "date_of_birth": (dob, dob)}
