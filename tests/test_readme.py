"""The README's Python examples run as written (the quick start is the first thing users try)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_a_quick_start_of_at_most_ten_lines():
    lines = [ln for ln in BLOCKS[0].splitlines() if ln.strip()]
    assert 0 < len(lines) <= 10


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_block_runs(i, capsys):
    namespace: dict = {}
    for block in BLOCKS[: i + 1]:  # later blocks may use names from earlier ones
        exec(compile(block, f"README.md block {i}", "exec"), namespace)
    if i == 0:
        out = capsys.readouterr().out
        assert "3.8" in out  # the log-rank statistic printed
