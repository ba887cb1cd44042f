"""The layout's promises (docs/layout.md): imports run one way, no package reaches into
another's private names, every folder says what it is for, and the README names every
top-level entry."""
import ast
import os
import re
import subprocess

import pytest

from conftest import ROOT

PACKAGES = ("lesson_helpers", "theano_today", "gpu_route", "dataset_builder", "benchmark")
# What each package may import of the project: the lesson's helpers import nothing else of
# it, and only the commands around the lesson (the benchmark, the GPU checks) use genre_mlp.
MAY_IMPORT = {
    "genre_mlp": {"lesson_helpers", "theano_today"},
    "lesson_helpers": set(),
    "theano_today": {"lesson_helpers", "gpu_route"},
    "gpu_route": {"lesson_helpers", "genre_mlp"},
    "dataset_builder": {"lesson_helpers"},
    "benchmark": {"lesson_helpers", "theano_today", "genre_mlp"},
}


def modules():
    """Every module of the project: name -> path."""
    found = {"genre_mlp": os.path.join(ROOT, "genre_mlp.py")}
    for package in PACKAGES:
        for name in sorted(os.listdir(os.path.join(ROOT, package))):
            if name.endswith(".py"):
                module = package if name == "__init__.py" else "%s.%s" % (package, name[:-3])
                found[module] = os.path.join(ROOT, package, name)
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
    assert "theano_today.theano_setup" in graph["genre_mlp"]
    assert "lesson_helpers.data_file" in graph["lesson_helpers.model_file"]
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
            if imported.split(".")[0] in PACKAGES + ("genre_mlp",) and imported.split(".")[0] != package:
                assert not (name or "").startswith("_"), "%s imports %s from %s" % (module, name, imported)


def test_the_lessons_helpers_never_import_theano():
    for module, path in modules().items():
        if module.startswith("lesson_helpers"):
            assert not [name for name, _ in imports(path) if name.split(".")[0] == "theano"], module


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_says_what_it_is_for(package):
    with open(os.path.join(ROOT, package, "__init__.py")) as source:
        docstring = ast.get_docstring(ast.parse(source.read()))
    assert docstring and len(docstring.split()) >= 40, "%s/__init__.py needs a paragraph on what it is for" % package


def test_the_readme_names_every_top_level_entry():
    tracked = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    entries = sorted({path.split("/")[0] for path in tracked.stdout.split()})
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
    tracked = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    named = {}
    for path in tracked.stdout.split():
        if path.endswith((".py", ".sh", ".md", ".README")) or path in ("Makefile", ".ci/run"):
            with open(os.path.join(ROOT, path)) as text:
                joined = re.sub(r"\s*\n\s*#?\s*", " ", text.read())  # a comment's lines as one
                for section in re.findall(r'README,? \\?"([A-Z][^"\\]*)\\?"', joined):
                    named.setdefault(section, path)
    assert "The data" in named  # the pattern finds what is known to be there
    missing = {section: path for section, path in named.items() if section not in headings}
    assert not missing, "README has no section named: %s" % missing
