"""No report shows person-level data: every analysis (and the template) is built from copies of
its inputs in which every person carries a distinctive identifier, and the HTML is searched for
each identifier as plain text (independently of the build's own identifier scan)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit.report import build, list_analyses, read_config

ROOT = Path(__file__).resolve().parents[1]
NAMES = [*list_analyses(ROOT / "analyses"), "_template"]


def _read(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path)


def _write(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".parquet", ".pq"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every analysis, plus a leaking copy of the template, built from identifier-laden data."""
    project = tmp_path_factory.mktemp("project")
    (project / "analyses").mkdir()
    rng = np.random.default_rng(20240331)
    mapping: dict[str, str] = {}

    def token(original: object) -> str:
        key = repr(original)
        if key not in mapping:
            mapping[key] = f"QZ{rng.integers(10**7, 10**8)}K{len(mapping):05d}"
        return mapping[key]

    for name in NAMES:
        cfg = read_config(ROOT / "analyses" / f"{name}.toml")
        for ext in (".py", ".toml"):
            shutil.copy(ROOT / "analyses" / f"{name}{ext}", project / "analyses" / f"{name}{ext}")
        for source in cfg.data.values():
            assert not Path(source.written).is_absolute(), (
                f"{name}: [data] {source.name} must be a path inside the repository "
                "(reports are rebuilt from a fresh clone)"
            )
            target = (project / "analyses" / source.written).resolve()
            assert target.is_relative_to(project.resolve())
            if target.exists():  # shared by two analyses: already written
                continue
            df = _read(source.path)
            column = source.id_column or "person_id"
            if column in df.columns:
                df[column] = df[column].map(token)
            else:
                df[column] = [token((source.written, i)) for i in range(len(df))]
            _write(df, target)

    # negative control: the template, showing the first person's identifier
    for ext in (".py", ".toml"):
        shutil.copy(project / "analyses" / f"_template{ext}", project / "analyses" / f"leaky{ext}")
    leaky = project / "analyses" / "leaky.py"
    leaky.write_text(
        leaky.read_text().replace('"_template"', '"leaky"')
        + '\n# %%\nrp.paragraph("first: " + str(data["person_id"].iloc[0]))\n'
    )
    names = [*NAMES, "leaky"]
    (project / "analyses" / "_template.py").rename(project / "analyses" / "template_copy.py")
    (project / "analyses" / "_template.toml").rename(project / "analyses" / "template_copy.toml")
    script = project / "analyses" / "template_copy.py"
    script.write_text(script.read_text().replace('"_template"', '"template_copy"'))
    names = [n if n != "_template" else "template_copy" for n in names]
    result = build(project, jobs=2)
    assert result.ok, [f.message for f in result.failures]
    pages = {n: (project / "reports" / f"{n}.html").read_text() for n in names}
    return pages, sorted(set(mapping.values()))


@pytest.mark.parametrize("name", [n if n != "_template" else "template_copy" for n in NAMES])
def test_no_person_identifier_reaches_the_report(name, built):
    pages, ids = built
    assert ids
    leaked = [i for i in ids if i in pages[name]]
    assert not leaked, f"{name} shows person identifiers: {leaked[:5]}"


def test_the_search_finds_an_identifier_that_is_shown(built):
    # negative control: the same search flags a report that prints an identifier
    pages, ids = built
    assert any(i in pages["leaky"] for i in ids)
