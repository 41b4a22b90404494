"""Safety of the `evalkit` command's outputs and logs (issue 8): committed reports are not
overwritten by other data, logs on disk hold no person ids and are private and rotated, Ctrl-C
exits 130 without a traceback and leaves the old reports, unwritable output paths and a missing
project are one sentence each."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import TINY, TINY_TOML  # the same tiny analysis as the build/check tests

from evalkit.cli import LOG_BACKUPS, LOG_MAX_BYTES, main
from evalkit.errors import InputError, Rows

OLD_REPORT = "<html>OLD REPORT from the committed data</html>\n"
OLD_INDEX = "<html>OLD INDEX</html>\n"


def _project(root: Path) -> Path:
    (root / "analyses").mkdir()
    (root / "analyses" / "tiny.py").write_text(TINY)
    (root / "analyses" / "tiny.toml").write_text(TINY_TOML.format(word="committed"))
    (root / "reports").mkdir()
    (root / "reports" / "tiny.html").write_text(OLD_REPORT)
    (root / "reports" / "index.html").write_text(OLD_INDEX)
    return root


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --------------------------------------------------------------------------------------------
# --config without --out
# --------------------------------------------------------------------------------------------


def test_build_with_other_config_refuses_to_overwrite_committed_report(
    tmp_path, monkeypatch, capsys
):
    root = _project(tmp_path)
    (root / "other.toml").write_text(TINY_TOML.format(word="other data"))
    monkeypatch.chdir(root)

    for extra in ([], ["--out", "reports"]):
        assert main(["-q", "build", "tiny", "--config", "other.toml", *extra]) == 2
        err = capsys.readouterr().err
        assert "give --out DIR to write the report elsewhere" in err
        assert "reports/tiny.html" in err and "Traceback" not in err
    assert (root / "reports" / "tiny.html").read_text() == OLD_REPORT
    assert (root / "reports" / "index.html").read_text() == OLD_INDEX

    # the library refuses too
    from evalkit.report import build

    with pytest.raises(InputError, match="give --out DIR"):
        build(root, names=["tiny"], config_path=root / "other.toml")

    # with --out the other data's report is written there, and the committed one is untouched
    assert main(["-q", "build", "tiny", "--config", "other.toml", "--out", "elsewhere"]) == 0
    assert "Nothing to see: other data" in (root / "elsewhere" / "tiny.html").read_text()
    assert (root / "reports" / "tiny.html").read_text() == OLD_REPORT
    assert (root / "reports" / "index.html").read_text() == OLD_INDEX


# --------------------------------------------------------------------------------------------
# logs
# --------------------------------------------------------------------------------------------


def test_log_file_has_no_person_ids_and_is_private(tmp_path, monkeypatch, capsys):
    people = ["person_id,index_date,group"]
    for i in range(12):
        date = "not a date" if i == 3 else f"2022-05-{1 + i:02d}"
        people.append(f"QQ1000{i:02d}C,{date},{'programme' if i % 2 else 'comparison'}")
    (tmp_path / "people.csv").write_text("\n".join(people) + "\n")
    (tmp_path / "offences.csv").write_text(
        "person_id,offence_date,disposal_date,disposal\n"
        "QQ100001C,2022-07-01,2022-09-30,conviction\n"
    )
    log_file = tmp_path / "logs" / "evalkit.log"
    log_file.parent.mkdir()
    log_file.write_text("a line from an older evalkit\n")
    log_file.chmod(0o644)
    monkeypatch.chdir(tmp_path)

    code = main(["-q", "jdl", "--people", "people.csv", "--offences", "offences.csv"])
    err = capsys.readouterr().err
    assert code == 1
    assert "QQ100003C" in err  # the screen shows the id, so the user can find the row
    assert "Traceback" not in err

    text = log_file.read_text()
    assert "qq100003c" not in text.lower()
    assert "not a date" not in text  # nor the row's value
    assert "index_date" in text and "position 3" in text
    assert "a line from an older evalkit" in text  # appended to
    assert _mode(log_file) == 0o600


def test_log_is_rotated_and_every_file_is_private(tmp_path, monkeypatch):
    (tmp_path / "analyses").mkdir()
    log_file = tmp_path / "private" / "run.log"
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "--log-file", str(log_file), "list"]) == 0
    assert _mode(log_file) == 0o600

    logger = logging.getLogger("evalkit")
    exc = InputError("index_date", "must be dates", Rows(["QQ100001C"], [4], label="person_id"))
    line = "x" * 1000
    for _ in range(3 * LOG_MAX_BYTES // len(line)):
        logger.info(line)
    logger.error("%s", exc, exc_info=(InputError, exc, None))

    backups = sorted(log_file.parent.glob("run.log.*"))
    assert [p.name for p in backups] == [f"run.log.{i}" for i in range(1, LOG_BACKUPS + 1)]
    for p in [log_file, *backups]:
        assert _mode(p) == 0o600, p
        assert p.stat().st_size <= LOG_MAX_BYTES
    text = log_file.read_text()
    assert "must be dates" in text and "position 4" in text
    assert "qq100001c" not in text.lower()


# --------------------------------------------------------------------------------------------
# Ctrl-C
# --------------------------------------------------------------------------------------------

SLOW = """\
# %%
import os
import time
from pathlib import Path
Path("started-{name}").write_text(str(os.getpid()))
time.sleep(30)

# %%
from evalkit import report as rp
import evalkit as ek
m_ = ek.Measure("rate difference", "reoffending", -0.03, -0.09, 0.03)
rp.headline(ek.verdict(m_, design="none"))
"""


def _kernel_files(pid: int) -> list[Path]:
    """A running kernel's connection file and its temporary folder (Linux; else none)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []
    connection = Path(os.fsdecode(argv[argv.index(b"-f") + 1]))
    ip = json.loads(connection.read_text())["ip"]
    return [connection, Path(ip).parent]


def _kernel_gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "\nState:\tZ" in status  # exited; waiting for a parent to reap it


@pytest.mark.skipif(os.name != "posix", reason="signals to a process group")
@pytest.mark.parametrize("names", [["slow"], ["slow", "slower"]], ids=["main-thread", "2-jobs"])
def test_ctrl_c_exits_130_and_leaves_reports(tmp_path, names):
    root = tmp_path
    (root / "analyses").mkdir()
    (root / "reports").mkdir()
    for name in names:
        (root / "analyses" / f"{name}.py").write_text(SLOW.format(name=name))
        (root / "analyses" / f"{name}.toml").write_text(f'title = "{name}"\ndata_date = "2024"\n')
        (root / "reports" / f"{name}.html").write_text(OLD_REPORT)
    (root / "reports" / "index.html").write_text(OLD_INDEX)
    before = {p.name: p.read_bytes() for p in (root / "reports").iterdir()}

    script = Path(sys.executable).with_name("evalkit")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "evalkit.cli"]
    proc = subprocess.Popen(
        [*command, "build", "--jobs", str(len(names))],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        markers = [root / "analyses" / f"started-{name}" for name in names]
        deadline = time.monotonic() + 120
        while not all(m.is_file() and m.read_text() for m in markers):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the kernels did not start"
            time.sleep(0.1)
        kernel_files = [_kernel_files(int(m.read_text())) for m in markers]
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    assert proc.returncode == 130, err
    assert "evalkit: interrupted; previous reports left in place" in err
    assert "Traceback" not in err and "internal error" not in err, err
    assert err.rstrip().endswith("interrupted; previous reports left in place"), err
    assert "built" not in out
    after = {p.name: p.read_bytes() for p in (root / "reports").iterdir()}
    assert after == before
    # the kernels do not outlive the command, nor do their files
    pids = [int(m.read_text()) for m in markers]
    deadline = time.monotonic() + 10
    while not all(_kernel_gone(pid) for pid in pids):
        assert time.monotonic() < deadline, "a kernel is still running"
        time.sleep(0.2)
    if sys.platform == "linux":
        for files in kernel_files:
            assert not any(f.exists() for f in files), files


# --------------------------------------------------------------------------------------------
# output paths
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["build", "--out", "afile"],
            "cannot write reports to 'afile': not a directory (it is a file)",
        ),
        (
            ["build", "--out", "afile/sub"],
            "cannot write reports to 'afile/sub': not a directory ('afile' is a file)",
        ),
        (
            ["jdl", "--people", "people.csv", "--offences", "offences.csv", "--out", "afile/sub"],
            "cannot write the report to 'afile/sub': not a directory ('afile' is a file)",
        ),
    ],
    ids=["out-is-a-file", "out-under-a-file", "jdl-out-under-a-file"],
)
def test_unwritable_out_is_one_sentence(argv, message, tmp_path, monkeypatch, capsys):
    root = _project(tmp_path)
    (root / "afile").write_text("not a folder")
    (root / "people.csv").write_text("person_id,index_date,group\nA1,2022-01-01,programme\n")
    (root / "offences.csv").write_text("person_id,offence_date,disposal_date,disposal\n")
    monkeypatch.chdir(root)
    assert main(["-q", *argv]) == 1
    err = capsys.readouterr().err
    assert err == f"evalkit: error: {message}\n"
    assert (root / "afile").read_text() == "not a folder"


def test_out_folder_without_write_permission_is_one_sentence(tmp_path, monkeypatch, capsys):
    root = _project(tmp_path)
    locked = root / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() == 0:  # root ignores permission bits: let os.access apply them
        real_access = os.access

        def access(path, mode, **kwargs):
            if Path(path).resolve() == locked.resolve() and mode & os.W_OK:
                return False
            return real_access(path, mode, **kwargs)

        monkeypatch.setattr(os, "access", access)
    monkeypatch.chdir(root)
    try:
        assert main(["-q", "build", "--out", "locked"]) == 1
        assert main(["-q", "build", "--out", "locked/sub"]) == 1
    finally:
        locked.chmod(0o700)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "evalkit: error: cannot write reports to 'locked': permission denied",
        "evalkit: error: cannot write reports to 'locked/sub': permission denied "
        "(cannot create it in 'locked')",
    ]


def test_os_error_on_a_file_names_the_path_not_an_internal_error(tmp_path, monkeypatch, capsys):
    build_module = sys.modules["evalkit.report.build"]

    (tmp_path / "analyses").mkdir()
    (tmp_path / "analyses" / "_template.py").write_text('cfg = rp.load_config("_template")\n')
    (tmp_path / "analyses" / "_template.toml").write_text('title = "T"\ndata_date = 2024\n')

    def refuse(path, text):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(build_module, "write_atomic", refuse)
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "new", "fresh"]) == 1
    err = capsys.readouterr().err
    target = tmp_path.resolve() / "analyses" / "fresh.py"
    assert err == f"evalkit: error: cannot access '{target}': permission denied\n"


# --------------------------------------------------------------------------------------------
# outside a project
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["build"], ["build", "--check"], ["list"]])
def test_build_outside_a_project_says_so(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert (
        "evalkit: error: no analyses/ folder here or in any parent folder; "
        "run evalkit inside a project"
    ) in captured.err
    assert "built" not in captured.out and captured.out == ""
    assert not (tmp_path / "reports").exists()
