"""requirements.lock is a hash-checked lock (OWASP ML06, supply chain): every requirement pinned with
`==` and carrying the sha256 of the files it may install, the direct pins of pyproject.toml in step
with it, and `make install` installing it with `--require-hashes` (bench/lock_hashes.py writes it)."""

import importlib.util
import re
import tomllib

from helpers import REPO

LOCK = REPO / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
HASH = re.compile(r"^--hash=sha256:([0-9a-f]{64})$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements() -> list[tuple[str, str, list[str]]]:
    """(line, requirement, options) per logical line of the lock, continuation lines joined."""
    text = re.sub(r"\\\n", " ", LOCK.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            spec, *options = line.split()
            out.append((line, spec, options))
    return out


def locked() -> dict[str, tuple[str, list[str]]]:
    pins = {}
    for line, spec, options in requirements():
        m = PIN.match(spec)
        assert m, f"not pinned with ==: {line!r}"
        pins[canonical(m[1])] = (m[2], options)
    return pins


def test_every_requirement_is_pinned_with_at_least_one_sha256():
    reqs = requirements()
    assert len(reqs) > 200                    # the full closure, not just the direct pins
    for line, spec, options in reqs:
        assert PIN.match(spec), f"not pinned with ==: {line!r}"
        assert options, f"{spec}: no --hash"
        bad = [o for o in options if not HASH.match(o)]
        assert not bad, f"{spec}: not a --hash=sha256:<64 hex> option: {bad}"


def test_no_package_is_pinned_twice():
    names = [canonical(PIN.match(spec)[1]) for _, spec, _ in requirements()]
    assert len(names) == len(set(names))


def test_torch_keeps_its_pin_and_lists_more_than_one_file():
    version, options = locked()["torch"]
    assert version == "2.13.0"                # the CPU build's local label (+cpu) is not part of the pin
    assert len(set(options)) >= 2


def test_the_direct_pins_of_pyproject_are_in_the_lock_at_the_same_version():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    direct = project["dependencies"] + [d for deps in project.get("optional-dependencies", {}).values()
                                        for d in deps]
    pins = locked()
    checked = 0
    for dep in direct:
        m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*==\s*([^\s;,]+)\s*$", dep)
        if not m:
            continue                          # only the exact pins are held to the lock
        name, version = canonical(m[1]), m[3]
        assert name in pins, f"{dep}: not in requirements.lock"
        assert pins[name][0] == version, f"{dep}: requirements.lock pins {name}=={pins[name][0]}"
        checked += 1
    assert checked >= 20


def test_make_install_checks_the_hashes():
    lines = [line for line in (REPO / "Makefile").read_text().splitlines()
             if "pip install" in line and "requirements.lock" in line]
    assert lines, "the Makefile no longer installs requirements.lock"
    for line in lines:
        assert "--require-hashes" in line.split(), line
        assert "--no-deps" in line.split(), line


def test_the_lock_is_in_the_generators_format():
    spec = importlib.util.spec_from_file_location("lock_hashes", REPO / "bench" / "lock_hashes.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.render(gen.read_lock(LOCK)) == LOCK.read_text(), \
        "requirements.lock was edited by hand: rerun bench/lock_hashes.py"
