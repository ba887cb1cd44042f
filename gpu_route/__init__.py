"""The GPU route, THEANO_FLAGS=device=cuda (README "GPU", docs/gpu.md): make_gpu_venv.sh
builds the GPU venv with pygpu and libgpuarray (gpu-requirements.txt), cuda_libs finds
or installs NVIDIA's NVRTC and cuBLAS (requirements-cuda12.txt, requirements-cuda13.txt),
cuda_check compiles the lesson's CUDA kernels without a GPU (`make cuda-check`),
gpu_check runs the lesson on cuda and on cpu side by side (`make gpu-check`), and
gpu_bundle.sh packs a GPU venv for a machine without a package registry. The lesson on
the CPU needs none of it; theano_today.theano_setup uses cuda_libs only for device=cuda.
"""
