"""Offline HTML reports: no code cells, no external script or stylesheet, formulas typeset.

nbconvert's ``lab`` template loads require.js, MathJax and mermaid from CDNs. The
template here drops require.js and mermaid (the reports need neither) and loads MathJax 2
from ``mathjax/`` beside the report, copied from the pinned ``jupyter-server-mathjax``
package (its combined ``TeX-AMS-MML_HTMLorMML-full`` configuration, HTML-CSS output with
the STIX-Web fonts it ships). Charts are PNGs embedded in the page, tables inline HTML.

>>> "cdn" in OFFLINE_TEMPLATE or "https://" in OFFLINE_TEMPLATE
False
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import nbformat
from nbconvert import HTMLExporter

from adalib.util.atomic import write_atomic

MATHJAX_DIR = "mathjax"
MATHJAX_URL = f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
# what that configuration loads: everything but the translations (English only)
MATHJAX_PARTS = ("MathJax.js", "LICENSE", "config", "extensions", "jax", "fonts")

OFFLINE_TEMPLATE = r"""
{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  tex2jax: {inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]],
            processEscapes: true, processEnvironments: true},
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
               linebreaks: {automatic: true},
               // MathJax's width-test font is url(about:blank), a request a file:// page refuses
               // (CORS); a missing local font behaves the same and requests nothing
               styles: {"@font-face": {"font-family": "MathJax_Blank", src: "local('MathJax_Blank_none')"}}},
  showMathMenu: false,
  messageStyle: "none",
  displayAlign: "center"
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}
{%- block extra_css -%}
<style>
  body { max-width: 1100px; margin: 0 auto; }
  .jp-Cell-outputWrapper img { max-width: 100%; height: auto; }
  .jp-OutputArea-output table.dataframe { font-variant-numeric: tabular-nums; }
</style>
{%- endblock extra_css -%}
"""


def mathjax_source() -> Path:
    """The MathJax 2 tree shipped by ``jupyter-server-mathjax``.

    >>> (mathjax_source() / "MathJax.js").is_file()
    True
    """
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).parent / "static"


def install_mathjax(report_dir: Path) -> Path:
    """Copy the MathJax parts the reports load into ``report_dir/mathjax`` (once); returns it."""
    source, target = mathjax_source(), report_dir / MATHJAX_DIR
    for part in MATHJAX_PARTS:
        src, dst = source / part, target / part
        if dst.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
    return target


def exporter() -> HTMLExporter:
    """nbconvert's lab look without inputs and prompts, with the offline template."""
    return HTMLExporter(
        template_name="lab",
        template_file="adalib_offline.html.j2",
        extra_loaders=[jinja2.DictLoader({"adalib_offline.html.j2": OFFLINE_TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        mathjax_url=MATHJAX_URL,
    )


def report_title(nb: nbformat.NotebookNode) -> str | None:
    """The report's title: the first ``# heading`` of its first markdown cell.

    >>> first = nbformat.v4.new_markdown_cell("# Is there edge?")
    >>> report_title(nbformat.v4.new_notebook(cells=[first]))
    'Is there edge?'
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
            return None
    return None


def render_html(notebook: Path, html: Path) -> Path:
    """Render an executed notebook to an offline HTML report at ``html`` (MathJax beside it)."""
    nb = nbformat.read(notebook, as_version=4)
    title = report_title(nb)
    if title:
        nb.metadata["title"] = title
    body, _ = exporter().from_notebook_node(nb)
    html.parent.mkdir(parents=True, exist_ok=True)
    install_mathjax(html.parent)
    write_atomic(html, lambda tmp: Path(tmp).write_text(body, encoding="utf-8"))
    return html
