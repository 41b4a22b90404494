"""The `evalkit` command: exit codes, messages without tracebacks, logging, and the build/check
cycle on a tiny project."""

from __future__ import annotations

import re

import pytest

from evalkit.cli import main

TINY = """\
# %%
from evalkit import report as rp
cfg = rp.load_config("tiny")
import evalkit as ek
m_ = ek.Measure("rate difference", "reoffending", -0.03, -0.09, 0.03)
rp.show(rp.headline(ek.verdict(m_, design="none")),
        rp.paragraph("Nothing to see: {0}".format(cfg.param("word"))))
"""

TINY_TOML = """\
title = "Tiny"
data_date = "2024-01"
[parameters]
word = "{word}"
"""


def _project(tmp_path, word="hello"):
    (tmp_path / "analyses").mkdir(exist_ok=True)
    (tmp_path / "analyses" / "tiny.py").write_text(TINY)
    (tmp_path / "analyses" / "tiny.toml").write_text(TINY_TOML.format(word=word))
    return tmp_path


def test_build_then_check_is_clean_and_detects_changes(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    assert main(["build", "-q"]) == 0
    first = (root / "reports" / "tiny.html").read_bytes()
    assert b"Nothing to see: hello" in first
    assert b"This evaluation cannot assess" in (root / "reports" / "index.html").read_bytes()
    assert main(["build", "--check", "-q"]) == 0
    assert "reports are up to date" in capsys.readouterr().out

    # a changed parameter changes the report: check fails and names it; an orphaned report
    # (its analysis deleted) is listed too
    (root / "analyses" / "tiny.toml").write_text(TINY_TOML.format(word="changed"))
    orphan = first.decode()
    (root / "reports" / "gone.html").write_text(orphan.replace("tiny", "gone"))
    assert main(["build", "--check", "-q"]) == 1
    err = capsys.readouterr().err
    assert "tiny.html" in err and "gone.html" in err
    assert (root / "reports" / "tiny.html").read_bytes() == first  # check never writes

    # a full build brings reports/ up to date and removes the orphan
    assert main(["build", "-q"]) == 0
    assert not (root / "reports" / "gone.html").exists()
    assert b"Nothing to see: changed" in (root / "reports" / "tiny.html").read_bytes()


def test_failing_analysis_exits_1_without_traceback(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path)
    (root / "analyses" / "tiny.py").write_text("# %%\nraise ValueError('bad data in row 7')\n")
    monkeypatch.chdir(root)
    assert main(["build", "-q"]) == 1
    err = capsys.readouterr().err
    assert "tiny.py, cell 1 (line 2) failed: ValueError: bad data in row 7" in err
    assert "Traceback" not in err
    log = (root / "logs" / "evalkit.log").read_text()
    assert "ValueError" in log and "build -q" in log


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["frobnicate"], "invalid choice"),
        (["build", "nosuch"], "no analysis called nosuch (available: tiny)"),
        (["build", "--config", "missing.toml", "tiny"], "no such file"),
        (["build", "--check", "tiny"], "--check rebuilds every report"),
        (["build", "--jobs", "0"], "--jobs must be at least 1"),
        (["new", "Bad Name"], "not a valid analysis name"),
        (["new", "tiny"], "already exists"),
        (["jdl", "--people", "p.csv", "--offences", "o.csv"], "--people: no such file"),
        (["jdl", "--people", "p.csv"], "required: --offences"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(_project(tmp_path))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_help_and_version_exit_0(capsys):
    assert main(["--version"]) == 0
    assert re.match(r"evalkit \d", capsys.readouterr().out)
    assert main(["build", "--help"]) == 0
    assert "--check" in capsys.readouterr().out


def test_list(tmp_path, monkeypatch, capsys):
    (tmp_path / "analyses").mkdir()
    for name in ["b.py", "a.py", "_template.py"]:
        (tmp_path / "analyses" / name).write_text("")
    monkeypatch.chdir(tmp_path)
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["a", "b"]
    assert lines[0].endswith("(no report yet)")


def test_new_copies_the_template(tmp_path, monkeypatch, capsys):
    (tmp_path / "analyses").mkdir()
    (tmp_path / "analyses" / "_template.py").write_text('cfg = rp.load_config("_template")\n')
    (tmp_path / "analyses" / "_template.toml").write_text('title = "Template"\ndata_date = 2024\n')
    monkeypatch.chdir(tmp_path)
    assert main(["new", "fresh_start"]) == 0
    assert 'load_config("fresh_start")' in (tmp_path / "analyses" / "fresh_start.py").read_text()
    assert 'title = "Fresh start"' in (tmp_path / "analyses" / "fresh_start.toml").read_text()
    assert "evalkit build fresh_start" in capsys.readouterr().out


def test_new_without_a_template_is_a_usage_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "analyses").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["new", "x"]) == 2
    assert "template" in capsys.readouterr().err


JDL_STUB = """\
# %%
import pandas as pd
from evalkit import report as rp
cfg = rp.load_config()
people = pd.read_csv(cfg.data_path("people"))
import evalkit as ek
m_ = ek.Measure("rate difference", "reoffending", -0.03, -0.09, 0.03)
rp.show(rp.headline(ek.verdict(m_, design="matched")),
        rp.paragraph("Stub JDL report for " + cfg.disclosure.count(len(people)) + " people"))
"""


def _jdl_inputs(tmp_path):
    (tmp_path / "people.csv").write_text(
        "person_id,index_date,group\n"
        + "".join(
            f"ID{i:05d}X,2022-05-0{1 + i % 9},{'programme' if i % 2 else 'comparison'}\n"
            for i in range(12)
        )
    )
    (tmp_path / "offences.csv").write_text(
        "person_id,offence_date,disposal_date,disposal\n"
        "ID00001X,2022-07-01,2022-09-30,conviction\n"
        "ID00002X,2022-08-01,2023-01-15,caution\n"
    )


def test_jdl_plumbing_writes_a_report_from_the_users_files(tmp_path, monkeypatch, capsys):
    from evalkit.report import jdl

    stub = tmp_path / "stub.py"
    stub.write_text(JDL_STUB)
    monkeypatch.setattr(jdl, "JDL_SCRIPT", stub)
    monkeypatch.setattr(jdl, "available", lambda: True)
    _jdl_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    code = main(
        ["-q", "jdl", "--people", "people.csv", "--offences", "offences.csv", "--out", "out"]
    )
    assert code == 0, capsys.readouterr().err
    page = (tmp_path / "out" / "jdl.html").read_text()
    assert "Stub JDL report for 12 people" in page
    assert "Data as of 2023-01-15" in page  # the latest disposal date in the data
    assert "ID00001X" not in page
    assert "wrote" in capsys.readouterr().out


def test_jdl_with_unreadable_data_exits_1(tmp_path, monkeypatch, capsys):
    from evalkit.report import jdl

    monkeypatch.setattr(jdl, "available", lambda: True)
    _jdl_inputs(tmp_path)
    (tmp_path / "offences.txt").write_text("not a table")
    monkeypatch.chdir(tmp_path)
    assert main(["jdl", "--people", "people.csv", "--offences", "offences.txt"]) == 1
    err = capsys.readouterr().err
    assert "unsupported file type" in err and "Traceback" not in err
