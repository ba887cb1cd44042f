"""make html: the lesson's page, opened in a real headless browser (Debian's chromium).

The notebook runs once (a short run); Chromium then loads the page inside a small
frame page of the test's own, which reads the page's DOM after it has loaded (the two
are same-origin files with --allow-file-access-from-files) and writes what it found
into its own DOM, which --dump-dom prints. Nothing of the page itself is changed.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, gitignored

HTML = os.path.join(ROOT, "lesson_helpers", "notebook_route", "lesson_html.py")
SHORT_RUN = ["--updates", "1000", "--stand-in"]  # two accuracy lines, at 500 and 1000
CHROMIUM = shutil.which("chromium")
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                 "--virtual-time-budget=20000",
                 # Chromium calls home on its own (component updates, sign-in; tests/conftest.py's
                 # tripwire caught them) and the suite never reaches the internet: fewer calls, and
                 # those left sent to a proxy on port 9 of this machine, where nothing listens. The
                 # page is a file and needs no network.
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--proxy-server=http://127.0.0.1:9"]

# What the browser reports of the loaded page: each image's decoded size, the headings, the text
# of each printed output (nbconvert's lab template marks a printed stream text/plain), one string
# an output, and of error outputs (marked as stderr, with the exception's name in them).
PROBE = """<!doctype html><html><body><pre id="report">not loaded</pre>
<iframe id="page" src="%s" width="1200" height="900"></iframe>
<script>
document.getElementById("page").addEventListener("load", function () {
  var doc = this.contentDocument;
  function texts(selector) {
    return Array.prototype.map.call(doc.querySelectorAll(selector), function (e) { return e.innerText; });
  }
  var report = {
    title: doc.title,
    images: Array.prototype.map.call(doc.images, function (image) {
      return {complete: image.complete, width: image.naturalWidth, height: image.naturalHeight,
              inline: image.src.indexOf("data:image/png;base64,") === 0};
    }),
    headings: texts("h1, h2, h3"),
    printed: texts(".jp-OutputArea-output[data-mime-type='text/plain']"),
    errors: texts(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").filter(
      function (text) { return /Traceback|\\w+(Error|Exception|Exit): /.test(text); }),
    remote: Array.prototype.filter.call(doc.querySelectorAll("script[src], link[href], img[src]"),
      function (e) { return /^https?:/.test(e.getAttribute("src") || e.getAttribute("href")); }).length
  };
  document.getElementById("report").textContent = JSON.stringify(report);
});
</script></body></html>
"""


def printed_lines(report):
    """The page's printed lines, read output by output: a line never runs into the next output's."""
    return [line for text in report["printed"] for line in text.splitlines()]


def browser_report(page, folder):
    """What Chromium finds in `page` once it has loaded it: a dict (see PROBE)."""
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: CI must install it (apt-get install chromium)")
        pytest.skip("no chromium on PATH: apt-get install chromium to open the page in a real browser")
    probe = os.path.join(folder, "probe.html")
    with open(probe, "w") as out:
        out.write(PROBE % ("file://" + os.path.abspath(page)))
    result = subprocess.run([CHROMIUM] + BROWSER_FLAGS + ["--user-data-dir=" + os.path.join(folder, "profile"),
                                                          "--dump-dom", "file://" + probe],
                            capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="report">(.*?)</pre>', result.stdout, re.S)
    assert found and found.group(1) != "not loaded", "chromium did not load the page: %s" % result.stderr[-2000:]
    import html
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("html")
    path = folder / "genre_mlp.html"
    result = subprocess.run([sys.executable, HTML, "--output", str(path), "--"] + SHORT_RUN,
                            capture_output=True, text=True, timeout=1200, cwd=ROOT)
    return result, path, folder


def test_make_html_writes_one_page(page):
    result, path, folder = page
    assert result.returncode == 0, result.stderr
    size = path.stat().st_size
    assert result.stdout.strip() == ("Ran the notebook and wrote it as one page, %s (%d kB): open it in a browser."
                                     % (os.path.relpath(str(path), ROOT), round(size / 1000)))
    assert sorted(os.listdir(folder)) == ["genre_mlp.html"]  # no temporary file, no executed notebook left


def test_the_page_shows_the_lesson_in_a_browser(page):
    result, path, folder = page
    assert result.returncode == 0, result.stderr
    report = browser_report(path, str(folder))
    assert report["title"] == "Music genre prediction using Theano"
    # The pictures (the excerpts before training, the learning curve after it, any others):
    # embedded, and decoded by the browser to a real size.
    assert len(report["images"]) >= 2
    assert all(image["inline"] and image["complete"] and image["width"] > 0 and image["height"] > 0
               for image in report["images"]), report["images"]
    accuracy = [found.group(1) for found in map(re.compile(r"Accuracy after update (\d+)/1000: \d+\.\d\d%").match,
                                                  printed_lines(report)) if found]
    assert accuracy[-2:] == ["500", "1000"], printed_lines(report)[-20:]
    assert report["errors"] == []
    assert report["remote"] == 0  # self-contained: nothing loaded from the web


def test_the_page_ends_with_the_exercises(page):
    result, path, folder = page
    assert result.returncode == 0, result.stderr
    headings = browser_report(path, str(folder))["headings"]
    assert any("Exercises" in heading for heading in headings), headings


def test_the_page_is_ignored_by_git():
    try:
        result = subprocess.run(["git", "-C", ROOT, "check-ignore", "genre_mlp.html"], capture_output=True,
                                text=True)
    except OSError:  # no git: the .gitignore read as git reads it (checked against git in test_layout.py)
        assert gitignored("genre_mlp.html")
        return
    if result.returncode == 128:  # not a git checkout ("Download ZIP")
        assert gitignored("genre_mlp.html")
        return
    assert result.stdout.strip() == "genre_mlp.html"


def test_a_page_that_cannot_be_written_is_one_line_before_the_run(tmp_path):
    result = subprocess.run([sys.executable, HTML, "--output", str(tmp_path / "none" / "page.html")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["error: %s: its folder does not exist; create it first"
                                          % (tmp_path / "none" / "page.html")]


def split_stream_notebook():
    """A notebook whose one cell printed two lines that the kernel flushed as two outputs, the
    second starting with the first one's newline (as print's two writes can be split)."""
    import nbformat
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("train()")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Accuracy after update 500/1000: 81.75%"),
                    nbformat.v4.new_output("stream", name="stdout", text="\nAccuracy after update 1000/1000: 81.35%\n")]
    notebook.cells.append(cell)
    return notebook


def test_a_stream_split_before_its_newline_is_one_output_of_whole_lines_on_the_page(tmp_path):
    from lesson_helpers.notebook_route.lesson_html import page_text
    page = tmp_path / "split.html"
    page.write_text(page_text(split_stream_notebook()))
    report = browser_report(str(page), str(tmp_path))
    assert report["printed"] == ["Accuracy after update 500/1000: 81.75%\nAccuracy after update 1000/1000: 81.35%\n"]
    assert printed_lines(report) == ["Accuracy after update 500/1000: 81.75%", "Accuracy after update 1000/1000: 81.35%"]
