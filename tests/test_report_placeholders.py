"""Template placeholders ("EDIT: …") cannot be published: the build refuses the page."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from evalkit.report import build
from evalkit.report._base import BuildError
from evalkit.report.components import FRAGMENT_MIME
from evalkit.report.notebook import cell_lines, check_outputs, read_script

pytestmark = pytest.mark.report  # these tests run notebook kernels

SCRIPT = """\
# %% [markdown]
# What the scheme is and who it serves.

# %%
# EDIT: in a comment is fine: the code is not part of the visible page
x = 1

# %% [markdown]
# ## Results
#
# The scheme ran in three areas.
# EDIT: say what the comparison group was.

# %%
y = 2
"""


def _fragment(html_text: str, kind: str = "text") -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "display_data",
        data={
            "text/html": html_text,
            "text/plain": f"<evalkit {kind}>",
            FRAGMENT_MIME: {"kind": kind},
        },
    )


def _executed(tmp_path: Path, script_text: str, outputs: dict[int, list]) -> tuple:
    script = tmp_path / "scheme.py"
    script.write_text(script_text, encoding="utf-8")
    nb = read_script(script)
    lines = cell_lines(script, nb)
    for i, outs in outputs.items():
        nb.cells[i].outputs = outs
    return nb, script, lines


def test_a_placeholder_in_the_text_is_refused_naming_cell_and_line(tmp_path):
    headline = _fragment("<section>Headline: edit: CREDIT:</section>", "headline")
    # the marker in a code comment, in lower case or inside a word is not a placeholder
    words = SCRIPT.replace(
        "# EDIT: say what the comparison group was.\n", "# Edit: and CREDIT: are words.\n"
    )
    nb, script, lines = _executed(tmp_path, words, {1: [headline]})
    warnings, meta = check_outputs(nb, script, lines)
    assert meta["kind"] == "headline" and warnings == []

    nb, script, lines = _executed(tmp_path, SCRIPT, {1: [headline]})
    with pytest.raises(BuildError) as err:
        check_outputs(nb, script, lines)
    message = str(err.value)
    assert "scheme.py, cell 3, line 12" in message
    assert "'EDIT: say what the comparison group was.'" in message
    assert "replace every 'EDIT:' text" in message


def test_a_placeholder_reaching_a_fragment_from_the_configuration_is_refused(tmp_path):
    text = SCRIPT.replace("# EDIT: say what the comparison group was.\n", "")
    justification = _fragment(
        '<section class="headline"><p>Design: EDIT: say how people came to be in the '
        "scheme and in the comparison group</p></section>",
        "headline",
    )
    nb, script, lines = _executed(tmp_path, text, {3: [justification]})
    with pytest.raises(BuildError) as err:
        check_outputs(nb, script, lines)
    message = str(err.value)
    assert "scheme.py, cell 4 (line 14)" in message
    assert "'EDIT: say how people came to be in the scheme and in the ...'" in message
    assert "comes from the configuration" in message


def test_a_placeholder_written_in_a_code_cell_names_its_line(tmp_path):
    text = SCRIPT.replace("# EDIT: say what the comparison group was.\n", "").replace(
        "y = 2", 'rp.paragraph("EDIT: one sentence on cost")'
    )
    outputs = {
        1: [_fragment("<section>Headline</section>", "headline")],
        3: [_fragment("<p>EDIT: one sentence on cost</p>")],
    }
    nb, script, lines = _executed(tmp_path, text, outputs)
    with pytest.raises(BuildError, match=r"cell 4, line 14: .*'EDIT: one sentence on cost'"):
        check_outputs(nb, script, lines)


def test_evalkit_build_refuses_a_report_with_template_placeholders(tmp_path):
    analyses = tmp_path / "analyses"
    analyses.mkdir()
    (analyses / "draft.py").write_text(
        "# %% [markdown]\n# EDIT: one or two sentences for the reader.\n\n# %%\nx = 1\n"
    )
    (analyses / "draft.toml").write_text('title = "Draft"\ndata_date = "2024"\n')
    result = build(tmp_path)
    assert not result.ok
    (failure,) = result.failures
    assert "draft.py, cell 1, line 2" in failure.message
    assert "'EDIT: one or two sentences for the reader.'" in failure.message
    assert not (tmp_path / "reports" / "draft.html").exists()


def test_placeholder_in_the_toml_title_is_refused(tmp_path):
    from evalkit.report.config import read_config
    from evalkit.report.page import scan_page

    cfg = tmp_path / "a.toml"
    cfg.write_text('title = "EDIT: the title"\ndata_date = "2024"\n', encoding="utf-8")
    page = "<html><body><h1>EDIT: the title</h1></body></html>"
    with pytest.raises(BuildError, match="placeholder"):
        scan_page(page, read_config(cfg))
    fine = '<html><body><h1>A title</h1><section id="analysis-code">EDIT: x</section></body>'

    scan_page(fine, read_config(cfg))  # the code appendix is not page text
