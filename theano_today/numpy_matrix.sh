#!/usr/bin/env bash
# make numpy-matrix: the glue (theano_setup.py, theano_numpy2.py) on each NumPy a hosted
# runtime may hold (docs/platforms.md): a small venv per NumPy 2.1 ... 2.5, with the SciPy
# built for it, the lesson's Theano and BLAS wheel, and one short run of the lesson; or,
# given a SCRIPT, that script with ARGS in each venv instead (make theano-diff).
#   theano_today/numpy_matrix.sh PYTHON [FOLDER [SCRIPT ARGS...]]
set -euo pipefail
python=${1:?usage: numpy_matrix.sh PYTHON [FOLDER [SCRIPT ARGS...]]}
folder=${2:-.numpy-matrix}
shift $(($# < 2 ? $# : 2))
root=$(cd "$(dirname "$0")/.." && pwd)
pins() { grep -E "^$1==" "$root/requirements.txt" | head -1 | cut -d';' -f1 | tr -d ' '; }
# Each NumPy with the SciPy release made for it.
matrix="numpy==2.1.3,scipy==1.14.1 numpy==2.2.6,scipy==1.15.3 numpy==2.3.5,scipy==1.16.3
        numpy==2.4.6,scipy==1.17.1 numpy==2.5.5,scipy==1.18.1"
mkdir -p "$folder"
failed=0
for pair in $matrix; do
    numpy=${pair%%,*} scipy=${pair##*,}
    venv="$folder/${numpy#numpy==}"
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
    "${pip[@]}" "$(pins setuptools)"
    "${pip[@]}" "$numpy" "$scipy" "$(pins six)" "$(pins scipy-openblas32)"
    PYTHONPATH="$root/theano_today/build_shims" "${pip[@]}" --no-build-isolation --no-deps "$(pins theano)"
    started=$SECONDS
    if [ $# -gt 0 ]; then
        echo "== $numpy $scipy"
        "$venv/bin/python" "$@" || failed=1
        continue
    fi
    if out=$("$venv/bin/python" "$root/genre_mlp.py" --updates 200 --eval-step 100 2>&1); then
        echo "$numpy $scipy: $(grep '^Accuracy after update 200/' <<<"$out" | sed 's/  (.*//') ($((SECONDS - started)) s)"
    else
        echo "$numpy $scipy: FAILED: $(tail -1 <<<"$out")"; failed=1
    fi
done
exit $failed
