"""Trains the lesson's network on a gpuarray device and saves what it saw (run by test_gpu_route.py).

    THEANO_FLAGS=device=opencl0:0 .venv-gpu-3.12/bin/python tests/opencl_worker.py BATCHES.npz OUT.npz

It runs in the GPU venv, which has no pytest: the test gives it the batches and
compares the results with the CPU in its own process.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import genre_mlp  # noqa: E402 (after the path)
from theano_today import lesson_start  # noqa: E402
import numpy as np  # noqa: E402


def main(batches_path, out_path):
    batches = np.load(batches_path)
    model = genre_mlp.Model()
    graph_ops = [node.op for node in model.train_batch.maker.fgraph.toposort()]
    gpu_ops = sorted({type(op).__name__ for op in graph_ops if type(op).__module__.startswith("theano.gpuarray")})
    losses = [model.train_batch(x, t) for x, t in zip(batches["inputs"], batches["targets"])]
    results = {param.name: np.asarray(param.get_value()) for param in model.params}

    # Saturated outputs: every excerpt's logit is `logit` when W3 = 0 and B3 = logit.
    params = {param.name: param for param in model.params}
    saturated = []
    for logit in (20.0, -20.0, 100.0, -100.0):
        for target in (0.0, 1.0):
            params["W3"].set_value(np.zeros((64, 1), np.float32))
            params["B3"].set_value(np.array([logit], np.float32))
            targets = np.full(16, target, np.float32)
            loss = float(model.evaluate(batches["inputs"][0], targets)[1])
            train_loss = float(model.train_batch(batches["inputs"][0], targets))
            saturated.append((logit, target, loss, train_loss, float(params["B3"].get_value()[0])))
    np.savez(out_path, losses=np.array(losses), gpu_ops=np.array(gpu_ops), device=np.array(lesson_start.device_name()),
             saturated=np.array(saturated), **results)


if __name__ == "__main__":
    main(*sys.argv[1:])
