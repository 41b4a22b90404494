from pathlib import Path

from evalkit.cli import main


def test_build_then_check_is_clean_and_detects_changes(tmp_path, monkeypatch, capsys):
    (tmp_path / "analyses").mkdir()
    (tmp_path / "analyses" / "example.py").write_text("# %% \n")
    monkeypatch.chdir(tmp_path)
    assert main(["build"]) == 0
    first = (tmp_path / "reports" / "index.html").read_bytes()
    assert b"example" in first
    assert main(["build", "--check"]) == 0
    # a second build is byte-identical
    assert main(["build"]) == 0
    assert (tmp_path / "reports" / "index.html").read_bytes() == first
    # a stale committed report is detected
    (tmp_path / "reports" / "index.html").write_text("stale")
    assert main(["build", "--check"]) == 1
    assert "index.html" in capsys.readouterr().err


def test_list(tmp_path, monkeypatch, capsys):
    (tmp_path / "analyses").mkdir()
    for name in ["b.py", "a.py", "_template.py"]:
        (tmp_path / "analyses" / name).write_text("")
    monkeypatch.chdir(tmp_path)
    assert main(["list"]) == 0
    assert capsys.readouterr().out.split() == ["a", "b"]


def test_committed_index_is_current():
    root = Path(__file__).resolve().parents[1]
    from evalkit.report import check

    assert check(root) == []
