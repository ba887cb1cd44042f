"""The g++ -march flags kept in the compile directory (theano_today/theano_compile.py): used again only for
the same CPU and the same compiler."""
import os
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
