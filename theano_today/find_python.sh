#!/usr/bin/env bash
# Which Python the Makefile builds the lesson's venv with. Prints "ok PATH X.Y" for a
# usable one, else one line saying what to install.
#   theano_today/find_python.sh                  python3 if it is 3.11 to 3.15, else the newest of
#                                         python3.15 ... python3.11 on PATH, in pyenv, or from uv
#   theano_today/find_python.sh 3.13             that version, from the same places
#   theano_today/find_python.sh /path/to/python  that interpreter (a name on PATH works too)
# Why these: requirements.txt pins NumPy 2 wheels for 3.11 to 3.15 (README "Where it
# runs"). Older ones are refused; a newer one is tried after a notice on stderr.
set -u
SUPPORTED="3.15 3.14 3.13 3.12 3.11"   # newest first: the order of the search
INSTALL="install Python 3.13 (your distribution's python3 or python3.13 package, or \`uv python install 3.13\`) and run make again, or name one with PYTHON=/path/to/python3"

# "X.Y REAL_PATH" of a working interpreter with venv support and the C headers
# (Theano compiles against Python.h), else nothing.
probe() {
  "$1" -c 'import os, sys, sysconfig, venv, ensurepip
assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))
print("%d.%d" % sys.version_info[:2], sys.executable)' 2>/dev/null
}

supported() { case " $SUPPORTED " in *" $1 "*) return 0 ;; esac; return 1; }
newer() { [ "${1%%.*}" -eq 3 ] && [ "${1#*.}" -gt 15 ]; }   # X.Y after 3.15

# Every interpreter of version $1 this machine offers, best first.
candidates() {
  local version=$1 root path patch
  command -v "python$version"
  root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
  # Newest patch first, sorted on the patch number alone: the root's own path may
  # hold dots (~/.pyenv does), and 3.13.10 is newer than 3.13.9.
  for path in "$root"/versions/"$version".*/bin/"python$version"; do
    [ -x "$path" ] || continue
    patch=${path#"$root/versions/$version."}
    echo "${patch%%/*} $path"
  done | sort -k1,1nr | sed 's/^[^ ]* //'
  command -v uv > /dev/null && uv python find "$version" 2>/dev/null
}

why_not() {  # one phrase on why interpreter $1 cannot be used
  local version
  version=$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) ||
    { echo "$1 does not run"; return; }
  if ! supported "$version" && ! newer "$version"; then
    echo "$1 is Python $version, too old: the lesson needs 3.11 to 3.15"
  elif ! "$1" -c 'import venv, ensurepip' 2> /dev/null; then
    echo "$1 (Python $version) has no venv module (on Debian or Ubuntu: apt-get install python$version-venv)"
  else
    echo "$1 (Python $version) has no C headers, which Theano compiles against (on Debian or Ubuntu: apt-get install python$version-dev)"
  fi
}

# Prints "ok PATH X.Y" and exits if $1 is usable: a supported version, or with
# $2 = newer, one after 3.15 (with a notice that it is untested).
answer() {
  local found version
  found=$(probe "$1") || return 1
  version=${found%% *}
  if ! supported "$version"; then
    [ "${2:-}" = newer ] && newer "$version" || return 1
    echo "notice: Python $version is newer than any tested here (3.11 to 3.15); trying it" >&2
  fi
  echo "ok ${found#* } $version"
  exit 0
}

request=${1:-}
case $request in
  "")
    answer python3
    for version in $SUPPORTED; do
      for candidate in $(candidates "$version"); do answer "$candidate"; done
    done
    answer python3 newer
    if command -v python3 > /dev/null; then
      echo "no usable Python 3.11 to 3.15 found ($(why_not python3)); $INSTALL"
    else
      echo "no Python 3.11 to 3.15 found; $INSTALL"
    fi ;;
  3.*)
    for candidate in $(candidates "$request"); do answer "$candidate" newer; done
    if supported "$request" || newer "$request" 2>/dev/null; then
      echo "PYTHON=$request: no Python $request found on PATH, in pyenv or from uv; $INSTALL"
    else
      echo "PYTHON=$request is not supported: use 3.11 to 3.15 (requirements.txt pins NumPy 2 wheels for those)"
    fi ;;
  *)
    answer "$request" newer
    echo "PYTHON=$request cannot be used: $(why_not "$request"); $INSTALL" ;;
esac
exit 1
