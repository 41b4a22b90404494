"""Shared steps of the scheme-report tests (tests/test_report_<scheme>.py).

Each scheme's analysis must run on a second synthetic extract (another seed of
:func:`evalkit.datasets.simulate_scheme`, written as a UK export: ``People.csv``, dd/mm/yyyy
dates, headers such as ``Person ID``) by editing a copy of its TOML only. :func:`uk_config` makes
that copy, the only edit a user makes; :func:`build_on_second_extract` builds the committed
script with it, as ``evalkit build NAME --config COPY --out DIR`` does; :func:`meta` reads the
verdict engine's meta tags.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from evalkit.datasets import SCHEME_UK_COLUMNS, simulate_scheme, write_scheme
from evalkit.report import build

ROOT = Path(__file__).resolve().parents[1]


def uk_config(name: str, paths: dict[str, Path]) -> str:
    """``analyses/<name>.toml`` with every file in [data] pointed at ``paths`` and [reader] set
    for a UK export (day-first dates, the export's column headers)."""
    text = (ROOT / "analyses" / f"{name}.toml").read_text(encoding="utf-8")
    section = re.search(r"(?ms)^\[data\]\n(.*?)(?=^\[)", text)
    assert section, f"{name}.toml has no [data] table"
    keys = re.findall(r'(?m)^(\w+) = ".*"$', section.group(1))
    assert keys and set(keys) <= set(paths), (keys, sorted(paths))
    data = "".join(f'{key} = "{paths[key].as_posix()}"\n' for key in keys)
    text = text[: section.start(1)] + data + "\n" + text[section.end(1) :]
    mapping = ", ".join(f'"{k}" = "{v}"' for k, v in SCHEME_UK_COLUMNS.items())
    reader = f'date_format = "%d/%m/%Y"\ncolumns = {{ {mapping} }}\n'
    text, k = re.subn(r"(?m)^\[reader\]\n", lambda _: "[reader]\n" + reader, text)
    assert k == 1, f"{name}.toml has no [reader] table"
    return text


def build_on_second_extract(name: str, tmp: Path, rng: int) -> str:
    """The page the committed ``analyses/<name>.py`` builds from seed ``rng``'s extract.

    Checks on the way that the extract really is UK-style, that the build succeeds, that the
    script was not edited, and that the page names the script it ran by its hash.
    """
    paths = write_scheme(simulate_scheme(name, rng=rng), tmp / "extract", style="uk")
    first = next(p for key, p in paths.items() if key != "truth")
    assert first.name[0].isupper()  # "People.csv", as the export names it
    config = tmp / "config" / f"{name}.toml"
    config.parent.mkdir()
    config.write_text(uk_config(name, paths), encoding="utf-8")
    script = (ROOT / "analyses" / f"{name}.py").read_bytes()
    result = build(ROOT, tmp / "out", names=[name], config_path=config)
    assert result.ok, result.failures
    assert (ROOT / "analyses" / f"{name}.py").read_bytes() == script  # no code edit
    page = (tmp / "out" / f"{name}.html").read_text(encoding="utf-8")
    assert hashlib.sha256(script).hexdigest() in page  # built by the committed script
    return page


def meta(page: str, key: str) -> str:
    """The content of the page's ``evalkit-<key>`` meta tag."""
    found = re.search(rf'<meta name="evalkit-{key}" content="([^"]*)"', page)
    assert found, f"no evalkit-{key} meta tag"
    return found.group(1)
