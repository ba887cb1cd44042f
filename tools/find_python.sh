#!/usr/bin/env bash
# Which Python the Makefile builds the lesson's venv with. Prints "ok PATH X.Y" for a
# supported one (3.11 or 3.12), else one line saying what to install.
#   tools/find_python.sh                  python3 if it is 3.11 or 3.12, else python3.12 or
#                                         python3.11 on PATH, in pyenv, or from uv
#   tools/find_python.sh 3.12             that version, from the same places
#   tools/find_python.sh /path/to/python  that interpreter (a name on PATH works too)
# Why only these two: Theano 1.0.5's C code needs NumPy 1.x, whose last release
# (1.26.4) stops at Python 3.12; requirements.txt pins a NumPy for each.
set -u
SUPPORTED="3.12 3.11"
INSTALL="install Python 3.12 (your distribution's python3.12 package, or \`uv python install 3.12\`) and run make again, or name one with PYTHON=/path/to/python3.12"

# "X.Y REAL_PATH" of a working interpreter with venv support and the C headers
# (Theano compiles against Python.h), else nothing.
probe() {
  "$1" -c 'import os, sys, sysconfig, venv, ensurepip
assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))
print("%d.%d" % sys.version_info[:2], sys.executable)' 2>/dev/null
}

supported() { case " $SUPPORTED " in *" $1 "*) return 0 ;; esac; return 1; }

# Every interpreter of version $1 this machine offers, best first.
candidates() {
  local version=$1 root
  command -v "python$version"
  root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
  ls -d "$root"/versions/"$version".*/bin/"python$version" 2>/dev/null | sort -t. -k3 -n -r
  command -v uv > /dev/null && uv python find "$version" 2>/dev/null
}

why_not() {  # one phrase on why interpreter $1 cannot be used
  local version
  version=$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) ||
    { echo "$1 does not run"; return; }
  if ! supported "$version"; then
    case $version in
      3.1[3-9]|3.[2-9]*) echo "$1 is Python $version, too new: Theano's C code needs NumPy 1.x, and NumPy 1.x stops at Python 3.12" ;;
      *) echo "$1 is Python $version, too old for the pinned packages" ;;
    esac
  elif ! "$1" -c 'import venv, ensurepip' 2> /dev/null; then
    echo "$1 (Python $version) has no venv module (on Debian or Ubuntu: apt-get install python$version-venv)"
  else
    echo "$1 (Python $version) has no C headers, which Theano compiles against (on Debian or Ubuntu: apt-get install python$version-dev)"
  fi
}

answer() {  # prints "ok PATH X.Y" and exits, if $1 is usable
  local found
  found=$(probe "$1") || return 1
  supported "${found%% *}" || return 1
  echo "ok ${found#* } ${found%% *}"
  exit 0
}

request=${1:-}
case $request in
  "")
    answer python3
    for version in $SUPPORTED; do
      for candidate in $(candidates "$version"); do answer "$candidate"; done
    done
    if command -v python3 > /dev/null; then
      echo "no usable Python 3.11 or 3.12 found ($(why_not python3)); $INSTALL"
    else
      echo "no Python 3.11 or 3.12 found; $INSTALL"
    fi ;;
  3.*)
    for candidate in $(candidates "$request"); do answer "$candidate"; done
    if supported "$request"; then
      echo "PYTHON=$request: no Python $request found on PATH, in pyenv or from uv; $INSTALL"
    else
      echo "PYTHON=$request is not supported: use 3.11 or 3.12 (Theano's C code needs NumPy 1.x, and NumPy 1.x stops at Python 3.12)"
    fi ;;
  *)
    answer "$request"
    echo "PYTHON=$request cannot be used: $(why_not "$request"); $INSTALL" ;;
esac
exit 1
