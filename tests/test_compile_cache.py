"""The g++ -march flags kept in the compile directory (theano_today/theano_compile.py): used again only for
the same CPU and the same compiler."""
import os
import pathlib
import types

import pytest

from theano_today import theano_compile

X86 = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz
cpu MHz\t\t: %s
flags\t\t: fpu sse2 avx avx2 avx512f
bogomips\t: 4999.99

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: another core
cpu MHz\t\t: 3100.000
flags\t\t: fpu sse2

"""
ARM = """processor\t: 0
BogoMIPS\t: 50.00
Features\t: %s
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x3
CPU part\t: %s
CPU revision\t: 1

processor\t: 1
Features\t: fp asimd
CPU part\t: 0xd05

"""


def identity(tmp_path, text):
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    return theano_compile.cpu_identity(str(path))


def test_the_cpu_identity_follows_the_cpu_not_its_clock(tmp_path):
    first = identity(tmp_path, X86 % "2500.000")
    assert identity(tmp_path, X86 % "3412.718") == first  # the clock moves between reads
    assert identity(tmp_path, (X86 % "2500.000").replace(" avx512f", "", 1)) != first
    assert identity(tmp_path, (X86 % "2500.000").replace("8259CL", "8375C", 1)) != first
    assert identity(tmp_path, (X86 % "2500.000").replace("model\t\t: 85", "model\t\t: 106", 1)) != first
    # ARM says what it is in other words.
    neoverse = identity(tmp_path, ARM % ("fp asimd aes sve", "0xd0c"))
    assert identity(tmp_path, ARM % ("fp asimd aes", "0xd0c")) != neoverse
    assert identity(tmp_path, ARM % ("fp asimd aes sve", "0xd40")) != neoverse
    assert len({first, neoverse, identity(tmp_path, "")}) == 3


@pytest.fixture
def march(genre_mlp, tmp_path, monkeypatch):
    """remember_march_flags on a compile directory of its own, with Theano's probe replaced by
    one that counts its runs and answers -march=probe<N>."""
    from theano.gof import cmodule
    probes = []

    def probe():
        probes.append(1)
        cmodule.GCC_compiler.march_flags = ["-march=probe%d" % len(probes)]
        return []
    monkeypatch.setattr(cmodule.GCC_compiler, "compile_args", staticmethod(probe))
    monkeypatch.setattr(cmodule.GCC_compiler, "march_flags", None)
    theano = types.SimpleNamespace(config=types.SimpleNamespace(
        cxx="g++", gcc=types.SimpleNamespace(cxxflags=""), compiledir=str(tmp_path)))

    def start():
        """A new process's start: (the flags it uses, whether it probed)."""
        cmodule.GCC_compiler.march_flags = None
        before = len(probes)
        theano_compile.remember_march_flags(theano)
        return cmodule.GCC_compiler.march_flags, len(probes) > before
    return types.SimpleNamespace(start=start, theano=theano, cmodule=cmodule)


def test_saved_flags_serve_the_next_start(march):
    assert march.start() == (["-march=probe1"], True)
    assert march.start() == (["-march=probe1"], False)


def test_saved_flags_are_not_used_on_another_cpu(march, monkeypatch):
    march.start()
    monkeypatch.setattr(theano_compile, "cpu_identity", lambda: "x86_64|model name=another CPU")
    assert march.start() == (["-march=probe2"], True)


@pytest.mark.parametrize("change", ["cxx", "version", "file on PATH"])
def test_saved_flags_are_not_used_with_another_compiler(march, monkeypatch, tmp_path, change):
    march.start()
    if change == "cxx":
        march.theano.config.cxx = "clang++"
    elif change == "version":
        monkeypatch.setattr(march.cmodule, "gcc_version_str", "13")
    else:
        # Another g++ of the same major version, first on PATH.
        other = tmp_path / "bin" / "g++"
        other.parent.mkdir()
        other.write_text("#!/bin/sh\nexec /usr/bin/g++ \"$@\"\n")
        other.chmod(0o755)
        monkeypatch.setenv("PATH", "%s:%s" % (other.parent, os.environ["PATH"]))
    assert march.start() == (["-march=probe2"], True)


def test_flags_the_user_chose_are_left_to_theano(march):
    march.theano.config.gcc.cxxflags = "-march=haswell"
    assert march.start() == (None, False)
    assert not os.path.exists(os.path.join(march.theano.config.compiledir, "march_flags.txt"))


def stub_compiler(path, writes, status=0):
    """A g++ stand-in at `path`: it writes `writes` to its -o file and exits with `status`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\n"
                    "printf '%s' > \"$out\"\nexit %d\n" % (writes, status))
    path.chmod(0o755)
    return str(path)


def test_flags_are_found_again_after_the_compiler_is_upgraded_in_place(march, monkeypatch, tmp_path):
    # The same path, the same -dumpversion: only the file itself changed.
    compiler = tmp_path / "bin" / "g++"
    stub_compiler(compiler, "gcc 12.2")
    monkeypatch.setenv("PATH", "%s:%s" % (compiler.parent, os.environ["PATH"]))
    assert march.start() == (["-march=probe1"], True)
    assert march.start() == (["-march=probe1"], False)
    stub_compiler(compiler, "gcc 12.3, a longer build")
    assert march.start() == (["-march=probe2"], True)


@pytest.fixture
def header_theano(genre_mlp, tmp_path):
    """A Theano stand-in whose compiler is a stub in tmp_path and whose compile directory is its own."""
    return types.SimpleNamespace(config=types.SimpleNamespace(cxx=str(tmp_path / "bin" / "g++"),
                                                              compiledir=str(tmp_path / "compiledir")))


def header_folder(theano):
    return os.path.join(theano.config.compiledir, "precompiled_header")


def test_a_precompiled_header_half_written_is_never_used(header_theano):
    stub_compiler(pathlib.Path(header_theano.config.cxx), "half a header", status=1)
    assert theano_compile.precompiled_header(header_theano, ["-O3"]) is None
    # Nothing under the .gch's name, and no partial file left to pile up.
    assert [name for name in os.listdir(header_folder(header_theano)) if not name.endswith(".h")] == []
    assert theano_compile.precompiled_header(header_theano, ["-O3"], build=False) is None
    stub_compiler(pathlib.Path(header_theano.config.cxx), "a whole header")
    header = theano_compile.precompiled_header(header_theano, ["-O3"])
    with open(header + ".gch") as stream:
        assert stream.read() == "a whole header"
    assert theano_compile.precompiled_header(header_theano, ["-O3"], build=False) == header


def test_a_precompiled_header_is_built_again_for_a_compiler_upgraded_in_place(header_theano):
    compiler = pathlib.Path(header_theano.config.cxx)
    stub_compiler(compiler, "built by 12.2")
    first = theano_compile.precompiled_header(header_theano, ["-O3"])
    assert theano_compile.precompiled_header(header_theano, ["-O2"], build=False) is None  # other flags, other header
    stub_compiler(compiler, "built by 12.3, upgraded")
    assert theano_compile.precompiled_header(header_theano, ["-O3"], build=False) is None
    second = theano_compile.precompiled_header(header_theano, ["-O3"])
    assert second != first
    with open(second + ".gch") as stream:
        assert stream.read() == "built by 12.3, upgraded"


# ---------------------------------------------------------------------------
# A module the pool compiled is taken only for the very same g++ command
# ---------------------------------------------------------------------------
@pytest.fixture
def pool(genre_mlp, monkeypatch, tmp_path):
    """A ParallelCompiles whose `original` compile_str only builds g++'s command (nothing runs),
    holding one finished job: module m1 built with -O3 against include/ and -lblas."""
    from concurrent.futures import Future
    from theano.gof import cmodule, vm
    monkeypatch.setattr(cmodule, "output_subprocess_Popen", cmodule.output_subprocess_Popen)  # put back after
    monkeypatch.setattr(vm.VM_Linker, "make_all", vm.VM_Linker.make_all)

    def original(module_name, src_code, location, include_dirs, lib_dirs, libs, preargs, py_module, hide_symbols):
        cmodule.output_subprocess_Popen(["g++"] + preargs + ["-I" + folder for folder in include_dirs]
                                        + ["-l" + lib for lib in libs]
                                        + ["-o", os.path.join(location, "lib%s.so" % module_name),
                                           os.path.join(location, "mod.cpp")])
    compiles = theano_compile.ParallelCompiles(genre_mlp.theano, original, lambda jobs: None)
    job = theano_compile.Job("m1", "source of m1", ["include"], [], ["blas"], ["-O3"])
    job.folder = str(tmp_path / "pooled")
    os.mkdir(job.folder)
    job.command = compiles.command("m1", "source of m1", job.folder, ["include"], [], ["blas"], ["-O3", "-g0"], True)
    with open(os.path.join(job.folder, "libm1.so"), "w") as stream:
        stream.write("built by the pool")
    job.future, job.ok, job.output = Future(), True, ""
    job.future.set_result(None)
    compiles.jobs["m1", "source of m1"] = job
    location = tmp_path / "theano-cache-entry"
    location.mkdir()
    return types.SimpleNamespace(compiles=compiles, job=job, location=location)


def take(pool, src_code="source of m1", include_dirs=("include",), libs=("blas",), preargs=("-O3",)):
    return pool.compiles.take("m1", src_code, str(pool.location), list(include_dirs), [], list(libs), list(preargs),
                              False, True)


def test_a_pooled_module_of_the_same_command_is_taken(pool):
    assert take(pool) == (None,)
    assert (pool.location / "libm1.so").read_text() == "built by the pool"
    assert not os.path.exists(pool.job.folder)


@pytest.mark.parametrize("differs", [dict(preargs=("-O2",)), dict(preargs=("-O3", "-DMORE")),
                                     dict(include_dirs=("other",)), dict(libs=("openblas",)),
                                     dict(src_code="other source")])
def test_a_pooled_module_whose_command_differs_is_compiled_again(pool, differs):
    assert take(pool, **differs) is None  # compile_str then runs g++ as Theano does
    assert not (pool.location / "libm1.so").exists()
    if "src_code" not in differs:
        assert not os.path.exists(pool.job.folder)  # and the pool's module is dropped


def test_a_pooled_module_whose_gcc_failed_is_compiled_again(pool):
    pool.job.ok = False
    assert take(pool) is None and not (pool.location / "libm1.so").exists()
