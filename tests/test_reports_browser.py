"""Each report, opened in headless Chromium offline, as a reader on a train would open it.

Renders the committed notebooks (they are the executed reports) and ``index.html`` into a
temporary folder, plus one small notebook executed end to end through the pipeline, and
checks: no failed resource load and no request leaving the machine, no script or console
error, formulas typeset (no raw TeX left in the visible text), every chart image decoded
and non-empty, no traceback, no code. Skips, with the reason, where Chromium is missing.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from browser_support import PageReport, chromium_path, open_report

from adalib.pipeline import NOTEBOOK_DIR, NOTEBOOKS, render_html, run_notebook, volatile_metadata, write_index
from adalib.util.paths import REPO_ROOT

RAW_TEX = re.compile(r"\$[A-Za-z\\{]|\\(?:ln|frac|sum|hat|sqrt|mathrm|cdot|left|right|text|operatorname)\b")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\w+(?:Error|Exception): ", re.MULTILINE)

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="chromium is not installed (.ci/run installs it with apt-get; `apt-get install chromium`)",
)


def load(page: Path, screenshot: Path | None = None) -> PageReport:
    try:
        return open_report(page, screenshot=screenshot)
    except (TimeoutError, ConnectionError) as exc:
        pytest.skip(f"chromium could not be driven here: {exc}")


def assert_reads_well(report: PageReport, page: str) -> None:
    assert report.failed_loads == [], f"{page}: failed loads"
    outside = [u for u in report.requests if not u.startswith(("file://", "data:"))]
    assert outside == [], f"{page}: requests leaving the page's folder"
    assert report.script_errors == [] and report.console_errors == [], f"{page}: errors"
    assert not RAW_TEX.findall(report.text), f"{page}: raw TeX in the visible text"
    assert "Math Processing Error" not in report.text and report.math_errors == 0
    assert not TRACEBACK.findall(report.text), f"{page}: traceback text"
    for image in report.images:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, (
            f"{page}: empty image {image}"
        )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reports")
    for name in NOTEBOOKS:
        render_html(NOTEBOOK_DIR / f"{name}.ipynb", folder / f"{name}.html")
    write_index(folder, REPO_ROOT / "artifacts")
    return folder


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_report_reads_well_offline(rendered: Path, name: str) -> None:
    report = load(rendered / f"{name}.html", screenshot=rendered / f"{name}.png")
    assert_reads_well(report, name)
    assert report.mathjax == "typeset"
    assert report.images, f"{name}: no chart"
    source = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    code_lines = {
        line.strip()
        for c in source.cells
        if c.cell_type == "code"
        for line in c.source.splitlines()
        if len(line) > 25
    }
    assert not [line for line in code_lines if line in report.text], f"{name}: code cells in the report"
    assert (rendered / f"{name}.png").stat().st_size > 10_000


def test_index_reads_well_and_links_each_report(rendered: Path) -> None:
    report = load(rendered / "index.html", screenshot=rendered / "index.png")
    assert_reads_well(report, "index")
    html = (rendered / "index.html").read_text()
    for name in NOTEBOOKS:
        assert f'href="{name}.html"' in html


DEMO = [
    (
        "markdown",
        "# Demo report\n\nReturn of candle t: $r_t = \\ln(close_t / close_{t-1})$, and $$\\sum_t e_t^2$$",
    ),
    ("parameters", "rows = 3"),
    (
        "code",
        "import adalib\nimport altair as alt\nimport polars as pl\nadalib.setup_charts()\n"
        "times = pl.datetime_range(pl.datetime(2025, 3, 1, time_zone='UTC'),"
        " pl.datetime(2025, 3, 2, time_zone='UTC'), '12h', eager=True)\n"
        "frame = pl.DataFrame({'open_time': times, 'total_return': [0.1234, -0.9071, 0.02]})",
    ),
    ("code", "adalib.table(frame.head(rows), formats={'total_return': 'percent:1'}, title='Returns')"),
    (
        "code",
        "alt.Chart(frame).mark_line().encode(adalib.time_x(),"
        " alt.Y('total_return:Q', title='Total return (%)')).properties(title='Demo chart')",
    ),
]


def demo_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, source in DEMO:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            cell = nbformat.v4.new_code_cell(source)
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
            nb.cells.append(cell)
    path = folder / "demo.ipynb"
    nbformat.write(nb, path)
    return path


def test_pipeline_end_to_end_on_a_small_notebook(tmp_path: Path) -> None:
    """papermill run -> cleaned notebook -> offline HTML -> Chromium; then nbval re-checks it."""
    demo_notebook(tmp_path)
    executed = run_notebook("demo", tmp_path / "out" / "demo.ipynb", {"rows": 2}, notebook_dir=tmp_path)
    nb = nbformat.read(executed, as_version=4)
    assert volatile_metadata(nb) == []
    html = render_html(executed, tmp_path / "out" / "demo.html")
    report = load(html, screenshot=tmp_path / "out" / "demo.png")
    assert_reads_well(report, "demo")
    assert report.mathjax == "typeset" and len(report.images) == 1
    assert "12.3%" in report.text and "-90.7%" in report.text and "0.02" not in report.text  # rows=2 injected
    assert "f64" not in report.text and '"12.3%"' not in report.text
    assert "adalib.table" not in report.text and "import altair" not in report.text
    # nbval re-executes the cleaned notebook and finds the same outputs (the table's HTML id is stable)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval",
            "--nbval-current-env",
            "--rootdir",
            str(tmp_path),
            "-o",
            "addopts=",
            str(executed),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:]


def test_the_checks_catch_a_broken_report(tmp_path: Path) -> None:
    """Negative control: MathJax missing, an error output, an empty image, a stylesheet on a closed port."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Broken\n\n$r_t = \\ln(close_t / close_{t-1})$"))
    cell = nbformat.v4.new_code_cell("1 / 0")
    cell.outputs = [
        nbformat.v4.new_output(
            "error", ename="ZeroDivisionError", evalue="division by zero", traceback=["ZeroDivisionError: x"]
        ),
        nbformat.v4.new_output("display_data", {"text/html": '<img src="missing.png">'}),
        nbformat.v4.new_output(
            "display_data", {"text/html": '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">'}
        ),
    ]
    nb.cells.append(cell)
    nbformat.write(nb, tmp_path / "broken.ipynb")
    html = render_html(tmp_path / "broken.ipynb", tmp_path / "out" / "broken.html")
    for part in (tmp_path / "out" / "mathjax").iterdir():  # as if MathJax had not been copied
        part.rename(tmp_path / part.name)
    report = load(html)
    assert any("MathJax.js" in f for f in report.failed_loads)
    assert any("missing.png" in f for f in report.failed_loads)
    assert any(u.startswith("http://127.0.0.1:9/") for u in report.requests)
    assert RAW_TEX.findall(report.text) and TRACEBACK.findall(report.text)
    assert [i for i in report.images if i["width"] == 0]
    with pytest.raises(AssertionError):
        assert_reads_well(report, "broken")
