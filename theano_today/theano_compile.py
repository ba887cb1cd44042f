"""Theano's compile cache and compile time: what a run waits for before its first update.

theano_today/theano_setup.py calls these right after `import theano`:
- fix_compile_cache: Theano 1.0.5 would recompile two of the lesson's ops in
  every new process;
- remember_march_flags: g++'s -march flags found once per compile directory;
- compile_faster: Theano's modules compiled with a precompiled header and no
  debug information, a function's modules on all cores at once, and one line
  on stderr when a run has to compile.
None of it changes what is computed, or the cache's keys.
"""
import hashlib
import os
import sys


def fix_compile_cache(theano):
    """Let Theano's compile cache keep every op of the lesson between runs.

    Theano 1.0.5 recompiles two kinds of op in every new process (a second or
    two at each start, and a cache that grows by one module per run):
    - ops whose __props__ is empty count as unversioned: the matrix products
      Dot22 and Dot22Scalar inherit an empty one. A constant property gives them
      a cache key without changing what they compute or compare equal to;
    - ops written as C files (COp: DimShuffle, most GPU ops) version themselves
      with Python's hash() of their code, which Python 3 salts anew in every
      process. A digest of the same code is stable.
    """
    from theano.gof.op import COp
    from theano.tensor import blas
    if getattr(COp.c_code_cache_version, "stable", False):
        return  # done already: a notebook's first cell run again
    for op_class in (blas.Dot22, blas.Dot22Scalar):
        op_class.__props__, op_class.cacheable = ("cacheable",), True
        op_class.__str__ = lambda op: type(op).__name__

    def stable_version(op):
        digest = hashlib.sha256("\0".join(op.func_codes).encode()).hexdigest()
        version = (int(digest[:15], 16),)
        if hasattr(op, "params_type"):
            version += (op.params_type.c_code_cache_version(),)
        return version
    stable_version.stable = True
    COp.c_code_cache_version = stable_version


# The headers nearly every module Theano compiles starts with: parsing them is
# most of the fixed cost of each module, so they are parsed once, into a
# precompiled header that gcc loads in a few milliseconds.
COMMON_HEADERS = ("Python.h", "iostream", "math.h", "numpy/arrayobject.h",
                  "numpy/arrayscalars.h", "vector", "algorithm")

FIRST_COMPILE_NOTICE = ("Compiling the network to C, once: Theano keeps the result in %s, "
                        "so later runs start in seconds.")


def write_file_atomically(path, data):
    """Bytes through a temporary file beside `path` (lesson_helpers/files.py): a reader never sees half of it."""
    from lesson_helpers.files import WriteError, write_atomically
    try:
        write_atomically(path, lambda stream: stream.write(data))
    except WriteError as error:
        raise OSError(str(error)) from None


# The lines of /proc/cpuinfo that -march=native's answer follows: x86's model and feature
# flags, ARM's implementer, part and features; not the clock, which changes between reads.
CPU_KEYS = ("vendor_id", "cpu family", "model", "model name", "flags",
            "CPU implementer", "CPU architecture", "CPU variant", "CPU part", "Features")


def cpu_identity(cpuinfo="/proc/cpuinfo"):
    """What -march=native depends on: the first processor's model and feature flags."""
    wanted = {}
    try:
        with open(cpuinfo) as lines:
            for line in lines:
                if not line.strip():
                    if wanted:
                        break  # the end of the first processor's lines
                    continue
                key, _, value = line.partition(":")
                key = key.strip()
                if key in CPU_KEYS and key not in wanted:
                    wanted[key] = value.strip()
    except OSError:
        pass
    import platform
    return "|".join([platform.machine()] + ["%s=%s" % (key, wanted[key]) for key in sorted(wanted)])


def compiler_file(cxx):
    """The compiler's file, its size and time: -dumpversion says only "12", and two builds of
    one major (another on PATH, or an upgrade in place) may know different CPUs."""
    import shutil
    found = shutil.which(cxx)
    if found is None:
        return ""
    found = os.path.realpath(found)
    try:
        stat = os.stat(found)
    except OSError:
        return found
    return "%s %d %d" % (found, stat.st_size, stat.st_mtime_ns)


def remember_march_flags(theano):
    """Find g++'s -march=native flags once per compile directory, not in every process.

    Theano works them out anew at each start (two g++ runs, then a test program
    compiled and run: about 0.4 s of every warm start). The answer depends only
    on the compiler and the CPU, so it is kept beside the compiled modules.
    """
    from theano.gof import cmodule
    compiler = cmodule.GCC_compiler
    if not theano.config.cxx or "-march" in theano.config.gcc.cxxflags:
        return  # no compiler, or the user chose the flags: Theano's own rules apply
    identity = hashlib.sha256("\0".join(
        [theano.config.cxx, compiler_file(theano.config.cxx), cmodule.gcc_version_str,
         cpu_identity()]).encode()).hexdigest()
    path = os.path.join(theano.config.compiledir, "march_flags.txt")
    if compiler.march_flags is None:
        try:
            with open(path) as stream:
                kept_identity, flags = stream.read().split("\n")[:2]
            if kept_identity == identity:
                compiler.march_flags = flags.split()
                return
        except (OSError, ValueError):
            pass
    compiler.compile_args()  # Theano's own detection, run once here
    try:
        write_file_atomically(path, ("%s\n%s\n" % (identity, " ".join(compiler.march_flags))).encode())
    except OSError:
        pass  # a read-only compile directory: detect again next time


def header_flags(preargs, common):
    """The flags of a module's g++ command that a precompiled header must share with it.

    Code generation flags all count; of the macros, only Theano's own (NumPy's API
    level): an op's -D (the BLAS names) does not touch the common headers, and
    leaving it out lets one header serve every module. Linker flags do not count.
    """
    flags, skip_next = [], False
    for flag in preargs:
        if skip_next:
            skip_next = False
        elif flag == "-Xlinker":
            skip_next = True
        elif flag.startswith(("-L", "-l", "-Wl,", "-I")):
            continue
        elif not flag.startswith(("-D", "-U")) or flag in common:
            flags.append(flag)
    return flags + ["-g0"]


def precompiled_header(theano, flags, build=True):
    """A header holding COMMON_HEADERS with a .gch built with `flags`; None if gcc fails (or not `build`).

    gcc uses a .gch only for a module compiled with the same flags (else it
    quietly reads the header itself), hence one per set of flags, named after them.
    """
    import subprocess
    from theano.gof import cmodule
    text = "".join("#include <%s>\n" % name for name in COMMON_HEADERS)
    # The compiler's file too: an upgrade in place keeps the name and often -dumpversion's
    # "12", and gcc would quietly pass over the old .gch in every module from then on.
    digest = hashlib.sha256("\0".join([theano.config.cxx, compiler_file(theano.config.cxx), cmodule.gcc_version_str,
                                       text] + flags).encode())
    folder = os.path.join(theano.config.compiledir, "precompiled_header")
    header = os.path.join(folder, "common_%s.h" % digest.hexdigest()[:16])
    if os.path.exists(header + ".gch"):
        return header
    if not build:
        return None
    includes = ["-I" + path for path in cmodule.std_include_dirs()]
    partial = None
    try:
        os.makedirs(folder, exist_ok=True)
        if not os.path.exists(header):
            write_file_atomically(header, text.encode())
        # gcc writes the .gch under another name first, so that no process reads half of it.
        partial = "%s.%d.gch" % (header, os.getpid())
        result = subprocess.run([theano.config.cxx] + flags + includes + ["-x", "c++-header", header, "-o", partial],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if result.returncode != 0:
            return None
        os.replace(partial, header + ".gch")
        return header
    except OSError:
        return None
    finally:
        if partial and os.path.exists(partial):
            try:
                os.remove(partial)  # what a failed gcc left: never read, and never to pile up
            except OSError:
                pass


def compile_faster(theano, notice=True):
    """Compile Theano's C modules sooner: a precompiled header, no debug info, all cores, and a notice.

    Each of the lesson's ~25 modules costs g++ about half a second, most of it
    parsing the same headers (Python, NumPy, the C++ library) and writing debug
    information nobody reads here. Both are left out of the module cache's keys:
    the compiled code is the same, so modules compiled either way serve each other.
    Theano runs g++ for one module after another; ParallelCompiles starts them
    together (see there). The first compilation in a process prints one line
    saying why the run waits.
    """
    from theano.gof import cmodule
    if not theano.config.cxx or getattr(cmodule.GCC_compiler.compile_str, "faster", False):
        return
    # gcc's .gch files; clang has its own format (THEANO_FLAGS=cxx=clang++ compiles without one).
    use_header = "clang" not in os.path.basename(theano.config.cxx)
    original = cmodule.GCC_compiler.compile_str
    common = set(cmodule.GCC_compiler.compile_args())
    headers, seen, first = {}, set(), [True]

    def flags_key(preargs):
        flags = header_flags(preargs, common)
        return flags, " ".join(flags)

    def header_for(preargs):
        flags, key = flags_key(preargs)
        if use_header and key not in headers:
            # A header takes as long to build as a few modules: build it once a second
            # module shares these flags, not for a lone module's. But nearly every op
            # shares the flags of the process's first module: that header starts at
            # once, on another core, while this module compiles without it.
            built = precompiled_header(theano, flags, build=False)
            if built or key in seen:
                headers[key] = built or parallel.submit(precompiled_header, theano, flags)
            elif not seen:
                headers[key] = parallel.submit(precompiled_header, theano, flags)
                seen.add(key)
                return None
            seen.add(key)
        header = headers.get(key)
        return header.result() if hasattr(header, "result") else header  # one the pool builds

    def compile_str(module_name, src_code, location=None, include_dirs=None, lib_dirs=None,
                    libs=None, preargs=None, py_module=True, hide_symbols=True):
        if first and notice:
            print("notice: " + FIRST_COMPILE_NOTICE % theano.config.compiledir, file=sys.stderr)
        del first[:]
        preargs = list(preargs or [])
        parallel.start()
        built = parallel.take(module_name, src_code, location, include_dirs, lib_dirs, libs, preargs, py_module,
                              hide_symbols)
        if built is not None:
            return built[0]
        header = header_for(preargs)
        extra = ["-g0"] + (["-include", header] if header else [])
        return original(module_name, src_code, location, include_dirs, lib_dirs, libs,
                        preargs + extra, py_module, hide_symbols)

    def plan_headers(jobs):
        """Which precompiled header each new module will use; those to build go to the pool first."""
        by_key = {}
        for job in jobs:
            by_key.setdefault(flags_key(job.preargs)[1], []).append(job)
        for key, group in by_key.items():
            if use_header and key not in headers and len(group) + (key in seen) >= 2:
                # The header's first module does without it, as compile_str would,
                # so that one core compiles while the other builds the header.
                flags = flags_key(group[0].preargs)[0]
                headers[key] = parallel.submit(precompiled_header, theano, flags)
                if key not in seen:
                    group = group[1:]
            seen.add(key)
            for job in group:
                job.header = headers.get(key)

    parallel = ParallelCompiles(theano, original, plan_headers)
    compile_str.faster = True
    cmodule.GCC_compiler.compile_str = staticmethod(compile_str)


class Job:
    """One module's g++ run in the pool: compile_str's arguments, then its command and outcome."""
    header = None
    folder = command = None
    ok = False

    def __init__(self, module_name, src_code, include_dirs, lib_dirs, libs, preargs):
        self.module_name, self.src_code = module_name, src_code
        self.include_dirs, self.lib_dirs, self.libs, self.preargs = include_dirs, lib_dirs, libs, preargs

    def remove(self):
        import shutil
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def extra(self):
        header = self.header.result() if hasattr(self.header, "result") else self.header
        return ["-g0"] + (["-include", header] if header else [])


class ParallelCompiles:
    """Run g++ for all of a function's new modules at once, on every core.

    Theano compiles a function's modules one after another, each while holding
    its compile lock, and g++ uses one core. At the first compilation inside a
    VM linker's make_all, this works out the source and arguments of every node
    whose module the cache lacks, and runs Theano's own g++ command for each in
    a pool, in folders of its own. compile_str then takes a finished module only
    for the very same source and command (its output path aside), and otherwise,
    or when that g++ failed, compiles as Theano does: same modules, same keys.
    """

    def __init__(self, theano, original, plan_headers):
        import threading
        from theano.gof import cmodule, vm
        self.theano, self.original, self.plan_headers = theano, original, plan_headers
        self.linker, self.jobs, self.executor = None, {}, None
        self.local = threading.local()
        # compile_str builds g++'s command and runs it through this name: asked for the
        # command only, it gets it without running anything.
        run_command = cmodule.output_subprocess_Popen

        def capturing(command, *args, **kwargs):
            if getattr(self.local, "commands", None) is None:
                return run_command(command, *args, **kwargs)
            self.local.commands.append(list(command))
            return b"", b"", 0
        cmodule.output_subprocess_Popen = capturing

        make_all = vm.VM_Linker.make_all

        def watched_make_all(linker, *args, **kwargs):
            self.linker = linker
            try:
                return make_all(linker, *args, **kwargs)
            finally:
                self.linker = None
                self.discard()
        vm.VM_Linker.make_all = watched_make_all

    def command(self, module_name, src_code, location, include_dirs, lib_dirs, libs, preargs, hide_symbols):
        """Theano's g++ command for these arguments (compile_str writes mod.cpp to `location` too)."""
        self.local.commands = []
        try:
            self.original(module_name, src_code, location, include_dirs, lib_dirs, libs, preargs, False,
                          hide_symbols)
            return self.local.commands[0]
        finally:
            self.local.commands = None

    def submit(self, function, *args):
        if self.executor is None:
            from concurrent.futures import ThreadPoolExecutor
            self.executor = ThreadPoolExecutor(os.cpu_count() or 1)
        return self.executor.submit(function, *args)

    def start(self):
        """On a make_all's first compilation: start g++ for each module the function still needs."""
        linker, self.linker = self.linker, None
        if linker is None:
            return
        jobs = new_modules(self.theano, linker)
        self.plan_headers(jobs)
        for job in jobs:
            self.jobs[job.module_name, job.src_code] = job
            job.future = self.submit(self.build, job)

    def build(self, job):
        import subprocess
        import tempfile
        job.folder = tempfile.mkdtemp(prefix="theano_module_")
        job.command = self.command(job.module_name, job.src_code, job.folder, job.include_dirs, job.lib_dirs,
                                   job.libs, job.preargs + job.extra(), True)
        result = subprocess.run(job.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        job.output, job.ok = result.stdout.decode(errors="replace"), result.returncode == 0

    def take(self, module_name, src_code, location, include_dirs, lib_dirs, libs, preargs, py_module,
             hide_symbols):
        """(module,) from the pool's g++ run of exactly this request; None: compile as Theano does."""
        import shutil
        from theano.gof import cmodule
        job = self.jobs.pop((module_name, src_code), None)
        if job is None:
            return None
        try:
            job.future.result()
            if not job.ok:
                return None  # compile_str runs g++ again and reports its error as usual
            command = self.command(module_name, src_code, location, include_dirs, lib_dirs, libs,
                                   preargs + job.extra(), hide_symbols)
            if [part.replace(location, "") for part in command] != [part.replace(job.folder, "")
                                                                    for part in job.command]:
                return None
            library = command[command.index("-o") + 1]
            shutil.move(job.command[job.command.index("-o") + 1], library)
        except Exception:
            return None
        finally:
            job.remove()
        if self.theano.config.cmodule.compilation_warning and job.output:
            print(job.output)
        if not py_module:
            return (None,)
        open(os.path.join(location, "__init__.py"), "w").close()
        return (cmodule.dlimport(library),)

    def discard(self):
        """Modules the function did not ask for after all (found by hash): drop them."""
        jobs, self.jobs = self.jobs, {}
        for job in jobs.values():
            if not job.future.cancel():
                job.future.add_done_callback(lambda _, job=job: job.remove())


def new_modules(theano, linker):
    """A Job for each distinct C module of the linker's nodes that Theano's cache does not hold.

    The same steps as Theano's Op.make_c_thunk and ModuleCache.module_from_key,
    without compiling; a node they do not fit is left to the normal path.
    """
    from theano.gof import cc, cmodule
    from theano.gof.fg import FunctionGraph
    from theano.gof.op import Op
    cache = cc.get_module_cache()
    jobs = {}
    for node in linker.schedule(linker.fgraph):
        if type(node.op).make_thunk is not Op.make_thunk:
            continue  # an op that makes its thunks its own way
        try:
            node_linker = cc.CLinker().accept(FunctionGraph(node.inputs, node.outputs), no_recycling=[])
            if node_linker.c_compiler() is not cmodule.GCC_compiler:
                continue
            key = node_linker.cmodule_key()
            if key in cache.entry_from_key:
                continue
            module = node_linker.get_dynamic_module()
            src_code = module.code()
            if cmodule.get_module_hash(src_code, key) in cache.module_hash_to_key_data:
                continue
            jobs[module.code_hash, src_code] = Job(
                module.code_hash, src_code, node_linker.header_dirs(), node_linker.lib_dirs(),
                node_linker.libraries(), list(node_linker.compile_args()))
        except Exception:
            continue  # no C code, or anything else: Theano's own path decides
    return list(jobs.values())
