"""The layout's promises (docs/layout.md): imports run one way, no package reaches into
another's private names, every folder says what it is for, and the README names every
top-level entry."""
import ast
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, gitignored, project_files, walked_files

PACKAGES = ("lesson_helpers", "theano_today", "gpu_route", "dataset_builder", "benchmark")
# lesson_helpers/ grouped by what its parts are for (its __init__.py names each).
SUBPACKAGES = tuple("lesson_helpers." + name for name in ("data", "command_line", "sound", "drawing", "notebook_route"))
# What each package may import of the project: the lesson's helpers import nothing else of
# it, and only the commands around the lessons (the benchmark, the GPU checks) use them. The next
# lesson imports the first one's pieces; the first never imports the next.
LESSONS = ("genre_mlp", "genre_cnn")
MAY_IMPORT = {
    "genre_mlp": {"lesson_helpers", "theano_today"},
    "genre_cnn": {"lesson_helpers", "theano_today", "genre_mlp"},
    "lesson_helpers": set(),
    "theano_today": {"lesson_helpers", "gpu_route"},
    "gpu_route": {"lesson_helpers", "theano_today", "genre_mlp", "genre_cnn"},
    "dataset_builder": {"lesson_helpers"},
    "benchmark": {"lesson_helpers", "theano_today", "genre_mlp", "genre_cnn"},
}


def modules():
    """Every module of the project: name -> path."""
    found = {lesson: os.path.join(ROOT, lesson + ".py") for lesson in LESSONS}
    for package in PACKAGES + SUBPACKAGES:
        for name in sorted(os.listdir(os.path.join(ROOT, *package.split(".")))):
            if name.endswith(".py"):
                module = package if name == "__init__.py" else "%s.%s" % (package, name[:-3])
                found[module] = os.path.join(ROOT, *package.split("."), name)
    return found


def imports(path):
    """(module, name or None) for every import in the file, at any depth."""
    with open(path) as source:
        tree = ast.parse(source.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.module, alias.name


def project_graph():
    """module -> the project's modules it imports."""
    known = modules()
    graph = {}
    for module, path in known.items():
        targets = set()
        for imported, name in imports(path):
            if name and "%s.%s" % (imported, name) in known:
                targets.add("%s.%s" % (imported, name))
            elif imported in known:
                targets.add(imported)
        graph[module] = targets - {module}
    return graph


def test_the_graph_is_read_from_the_files():
    # The rules below mean something only if the graph holds the imports known to be there.
    graph = project_graph()
    assert "theano_today.lesson_start" in graph["genre_mlp"]
    assert "lesson_helpers.data.data_file" in graph["lesson_helpers.command_line.model_file"]
    assert "gpu_route.cuda_libs" in graph["theano_today.theano_setup"]  # a function-level import
    assert "genre_mlp" in graph["benchmark.bench"]


def test_imports_run_one_way():
    graph = project_graph()
    for module, targets in graph.items():
        package = module.split(".")[0]
        for target in targets:
            other = target.split(".")[0]
            assert other == package or other in MAY_IMPORT[package], "%s imports %s" % (module, target)
    # No cycle among modules: what genre_mlp imports never leads back to it.
    done, active = set(), []

    def visit(module):
        if module in active:
            pytest.fail("import cycle: %s" % " -> ".join(active[active.index(module):] + [module]))
        if module not in done:
            active.append(module)
            for target in sorted(graph[module]):
                visit(target)
            active.pop()
            done.add(module)

    for module in sorted(graph):
        visit(module)


def test_no_package_uses_anothers_private_names():
    for module, path in modules().items():
        package = module.split(".")[0]
        for imported, name in imports(path):
            if imported.split(".")[0] in PACKAGES + LESSONS and imported.split(".")[0] != package:
                assert not (name or "").startswith("_"), "%s imports %s from %s" % (module, name, imported)


def test_the_lessons_helpers_never_import_theano():
    for module, path in modules().items():
        if module.startswith("lesson_helpers"):
            assert not [name for name, _ in imports(path) if name.split(".")[0] == "theano"], module


@pytest.mark.parametrize("package", PACKAGES + SUBPACKAGES)
def test_every_package_says_what_it_is_for(package):
    with open(os.path.join(ROOT, *package.split("."), "__init__.py")) as source:
        docstring = ast.get_docstring(ast.parse(source.read()))
    assert docstring and len(docstring.split()) >= 40, "%s/__init__.py needs a paragraph on what it is for" % package


def test_the_walk_finds_what_git_would_list():
    # Without git (a "Download ZIP" copy) the layout's tests read the tree by the .gitignore's
    # patterns: here, where git is at hand, that walk must agree with git's own list.
    try:
        listed = subprocess.run(["git", "-C", ROOT, "ls-files", "--cached", "--others", "--exclude-standard"],
                                capture_output=True, text=True)
    except OSError:
        pytest.skip("git is not installed (the walk is what the other tests use then)")
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    on_disk = [path for path in listed.stdout.splitlines() if os.path.lexists(os.path.join(ROOT, path))]
    assert "genre_mlp.py" in on_disk and "lesson_helpers/files.py" in on_disk
    assert walked_files() == sorted(on_disk)


def test_the_ignore_rules_are_read_as_git_reads_them():
    # Paths git ignores by each kind of line, and paths it keeps, worked out from the .gitignore.
    assert gitignored(".venv-3.13", is_folder=True) and gitignored(".venv-3.13/bin/python")
    assert gitignored("tests/__pycache__/conftest.cpython-313.pyc") and gitignored("a/b/sample.npz")
    assert gitignored("sample_3s_400Hz.npz.download.part") and gitignored("genre_mlp.executed.ipynb")
    assert not gitignored(".venv-3.13")  # "NAME/" ignores folders only, not a file of that name
    assert not gitignored("genre_mlp.py") and not gitignored("sample_3s_400Hz.npz.README")
    assert not gitignored("docs/layout.md") and not gitignored(".gitignore")


@pytest.mark.skipif("GENRE_MLP_NO_GIT_COPY" in os.environ, reason="already the copy without git")
def test_the_layout_tests_pass_in_a_copy_without_git(tmp_path):
    # GitHub's "Download ZIP": the project's files and no .git, on a machine without git.
    copy = tmp_path / "genre-mlp-main"
    for path in walked_files():
        os.makedirs(os.path.dirname(str(copy / path)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, path), str(copy / path), follow_symlinks=False)
    bare = tmp_path / "bin"  # a PATH that holds this Python and nothing else (no git)
    bare.mkdir()
    os.symlink(sys.executable, str(bare / "python"))
    env = dict(os.environ, PATH=str(bare), GENRE_MLP_NO_GIT_COPY="1")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_layout.py"],
                            cwd=str(copy), env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout and "skipped" in result.stdout  # the walk's check against git skips


def test_the_readme_names_every_top_level_entry():
    entries = sorted({path.split("/")[0] for path in project_files()})
    with open(os.path.join(ROOT, "README.md")) as readme:
        layout = readme.read().split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    named = set()
    for line in layout.split("```")[1].splitlines():  # the tree: "NAME[, NAME]  what it is"
        if line.strip():
            first = re.split(r"\s{2,}", line.strip())[0]
            named |= {name.strip().rstrip("/") for name in first.split(",")}
    missing = [entry for entry in entries if entry not in named | {"README.md"}]
    assert not missing, "README's Layout does not say why these are at the top: %s" % ", ".join(missing)


def markdown_files():
    docs = os.path.join(ROOT, "docs")
    return [os.path.join(ROOT, "README.md")] + [os.path.join(docs, name) for name in sorted(os.listdir(docs))
                                                 if name.endswith(".md")]


def test_every_link_in_the_docs_leads_somewhere():
    broken = []
    for path in markdown_files():
        with open(path) as text:
            for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text.read()):
                if "://" not in target and not os.path.exists(os.path.join(os.path.dirname(path), target)):
                    broken.append("%s: %s" % (os.path.relpath(path, ROOT), target))
    assert not broken


def test_every_readme_section_the_code_names_is_there():
    # Messages and comments send the reader to a README section by its name in quotes: a moved
    # section must leave one of that name behind.
    with open(os.path.join(ROOT, "README.md")) as readme:
        headings = {line.lstrip("#").strip() for line in readme if line.startswith("#")}
    named = {}
    for path in project_files():
        if path.endswith((".py", ".sh", ".md", ".README")) or path in ("Makefile", ".ci/run"):
            with open(os.path.join(ROOT, path)) as text:
                joined = re.sub(r"\s*\n\s*#?\s*", " ", text.read())  # a comment's lines as one
                for section in re.findall(r'README,? \\?"([A-Z][^"\\]*)\\?"', joined):
                    named.setdefault(section, path)
    assert "The data" in named  # the pattern finds what is known to be there
    missing = {section: path for section, path in named.items() if section not in headings}
    assert not missing, "README has no section named: %s" % missing


# ---------------------------------------------------------------------------
# The lesson's budgets (issue 33): the page a learner reads is the lesson
# ---------------------------------------------------------------------------
CODE_LINES = {"genre_mlp": 250, "genre_cnn": 200}  # each lesson's code, markdown cells and comments not counted
FIRST_CELL_LINES = 12   # the first code cell: the imports and the one call that prepares Theano
MODULES_SIDE_BY_SIDE = 15


def code_cells(text):
    """genre_mlp.py's code cells as lists of lines, a notebook-only cell (active="ipynb", commented
    out in the script) uncommented as the notebook has it."""
    cells = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            cells.append(None if "[markdown]" in line else ([], 'active="ipynb"' in line))
        elif cells and cells[-1] is not None:
            lines, commented = cells[-1]
            lines.append(line[2:] if commented and line.startswith("# ") else line[1:] if commented else line)
    return [lines for lines, _ in filter(None, cells)]


def code_lines(lines):
    """The lines that hold code: not blank, not only a comment."""
    return [line for line in lines if line.strip() and not line.strip().startswith("#")]


def test_the_cells_are_read_as_the_notebook_has_them():
    cells = code_cells('#!\n# %% [markdown]\n# # Title\n# %%\nimport os\n\n# why\nx = 1  # one\n'
                       '# %% active="ipynb"\n# print(x)\n#\n# y = 2\n')
    assert cells == [["import os", "", "# why", "x = 1  # one"], ["print(x)", "", "y = 2"]]
    assert [len(code_lines(cell)) for cell in cells] == [2, 2]


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_lesson_keeps_to_its_budget_of_code_lines(lesson):
    with open(os.path.join(ROOT, lesson + ".py")) as source:
        cells = code_cells(source.read())
    count = sum(len(code_lines(cell)) for cell in cells)
    assert count <= CODE_LINES[lesson], "%s.py has %d lines of code; the budget is %d" % (lesson, count,
                                                                                         CODE_LINES[lesson])


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_first_code_cell_is_the_imports_and_one_call(lesson):
    with open(os.path.join(ROOT, lesson + ".py")) as source:
        first = code_cells(source.read())[0]
    lines = [line for line in first if line.strip()]
    assert len(lines) <= FIRST_CELL_LINES, "the first code cell has %d lines" % len(lines)
    tree = ast.parse("\n".join(first))
    calls = [node for node in tree.body if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]
    assert [ast.unparse(call.value.func) for call in calls] == ["prepare_theano_for_today"]
    imported = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    assert {"numpy", "theano"} <= imported
    assert all(isinstance(node, (ast.Import, ast.ImportFrom)) or node in calls
               or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))  # the docstring
               for node in tree.body)


def test_no_folder_holds_more_than_15_modules_side_by_side():
    folders = {}
    for path in project_files():
        # tests/ excepted: pytest's one file per concern (docs/tests.md), none of them imported by the lesson.
        if path.endswith(".py") and not path.startswith("tests/"):
            folders.setdefault(os.path.dirname(path), []).append(path)
    crowded = {folder: len(paths) for folder, paths in folders.items() if len(paths) > MODULES_SIDE_BY_SIDE}
    assert not crowded, crowded


@pytest.mark.parametrize("lesson", LESSONS)
def test_importing_the_lesson_runs_nothing_and_prints_nothing(lesson):
    # From `python -c`, whose __main__ has no file as a notebook kernel's has none: still an import,
    # so no hosted kernel's install is tried.
    code = ("import sys; from lesson_helpers.notebook_route import notebook; "
            "notebook.install_missing_packages = lambda: sys.exit('an install was tried on import'); "
            "import {0}; "
            "assert 'lesson_helpers.command_line.errors' not in sys.modules, 'the script-only hook was loaded'; "
            "assert not hasattr({0}, 'args') and not hasattr({0}, 'model')").format(lesson)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    # Theano's notices about this machine (no C++ compiler on a bare PATH, say) are not the lesson's.
    notices = [line for line in result.stderr.splitlines() if not line.startswith("notice: ")]
    assert (result.returncode, result.stdout, notices) == (0, "", [])
