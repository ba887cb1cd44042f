"""conv2d on the CPU: theano_today/theano_corr.py's im2col and col2im in CorrMM give the numbers of a
brute-force NumPy convolution."""
import numpy as np
import pytest

import genre_mlp  # noqa: F401 (prepares Theano for today, theano_today/theano_corr.py included)
import theano
import theano.tensor as T
from theano.tensor.nnet import conv2d
from theano.tensor.nnet import corr

from theano_today import theano_corr


def brute_force(x, kernels, border, stride, dilation, r=None):
    """conv2d's output (a true convolution: kernels flipped), and the gradients of sum(output * r)
    with respect to x and to the kernels, one kernel position at a time in NumPy."""
    f, c, kh, kw = kernels.shape
    (sh, sw), (dh, dw) = stride, dilation
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    pad = {"valid": (0, 0), "half": (span_h // 2, span_w // 2), "full": (span_h - 1, span_w - 1)}[border]
    xpad = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh, ow = (xpad.shape[2] - span_h) // sh + 1, (xpad.shape[3] - span_w) // sw + 1
    flipped = kernels[:, :, ::-1, ::-1].astype(np.float64)
    out = np.zeros((x.shape[0], f, oh, ow))
    d_flipped, d_xpad = np.zeros_like(flipped), np.zeros_like(xpad)
    for u in range(kh):
        for v in range(kw):
            window = (slice(None), slice(None), slice(u * dh, u * dh + sh * (oh - 1) + 1, sh),
                      slice(v * dw, v * dw + sw * (ow - 1) + 1, sw))
            out += np.einsum("bchw,fc->bfhw", xpad[window], flipped[:, :, u, v])
            if r is not None:
                d_flipped[:, :, u, v] = np.einsum("bchw,bfhw->fc", xpad[window], r)
                d_xpad[window] += np.einsum("bfhw,fc->bchw", r, flipped[:, :, u, v])
    d_x = d_xpad[:, :, pad[0]:pad[0] + x.shape[2], pad[1]:pad[1] + x.shape[3]]
    return out, d_x, d_flipped[:, :, ::-1, ::-1]


# (input shape, kernel shape, border_mode, subsample, filter_dilation): the lesson's 1-by-k
# layers, a k-by-1 one, and cases where the padding cuts rows and columns off at both ends.
CASES = [((3, 1, 1, 120), (4, 1, 1, 31), "half", (1, 4), (1, 1)),
         ((3, 5, 1, 40), (6, 5, 1, 15), "half", (1, 3), (1, 1)),
         ((2, 3, 30, 1), (4, 3, 7, 1), "half", (2, 1), (1, 1)),
         ((2, 3, 9, 11), (4, 3, 3, 5), "half", (2, 3), (1, 1)),
         ((2, 2, 8, 13), (3, 2, 3, 4), "full", (3, 2), (1, 1)),
         ((2, 2, 8, 13), (3, 2, 2, 3), "valid", (1, 2), (1, 1)),
         ((2, 2, 9, 17), (3, 2, 3, 3), "half", (1, 5), (2, 3))]


@pytest.mark.parametrize("shape, kernel_shape, border, stride, dilation", CASES)
def test_conv2d_and_its_gradients_match_brute_force(shape, kernel_shape, border, stride, dilation):
    random = np.random.RandomState(sum(shape) + sum(kernel_shape))
    x_value = random.standard_normal(shape).astype("float32")
    k_value = random.standard_normal(kernel_shape).astype("float32")
    x, kernels, r = T.tensor4("x"), T.tensor4("kernels"), T.tensor4("r")
    out = conv2d(x, kernels, border_mode=border, subsample=stride, filter_dilation=dilation)
    d_x, d_kernels = theano.grad(T.sum(out * r), [x, kernels])
    function = theano.function([x, kernels, r], [out, d_x, d_kernels])
    ops = {type(node.op) for node in function.maker.fgraph.toposort()}
    assert {corr.CorrMM, corr.CorrMM_gradInputs, corr.CorrMM_gradWeights} <= ops  # the code under test ran
    expected_out = brute_force(x_value, k_value, border, stride, dilation)[0]
    r_value = random.standard_normal(expected_out.shape).astype("float32")
    expected = brute_force(x_value, k_value, border, stride, dilation, r_value)
    for got, want in zip(function(x_value, k_value, r_value), expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_corr_mm_compiles_the_faster_loops():
    # Taken out of theano_setup.py, CorrMM would compile Caffe's loops, under Theano's own cache key.
    assert corr.BaseCorrMM.theano_today_im2col is True
    x, kernels = T.tensor4("x"), T.tensor4("kernels")
    node = corr.CorrMM(border_mode="half", subsample=(1, 3))(x, kernels).owner
    code = node.op.c_support_code_apply(node, "node")
    assert theano_corr.FAST_IM2COL_LOOP % dict(float_type="npy_float") in code
    assert theano_corr.FAST_COL2IM_LOOP % dict(float_type="npy_float") in code
    assert theano_corr.IM2COL_LOOP not in code and theano_corr.COL2IM_LOOP not in code
    assert theano_corr.COL_EMPTY in code and theano_corr.COL_ZEROS not in code
    assert node.op.c_code_cache_version()[-1] == theano_corr.VERSION
    assert theano_corr.faster_corr_mm(theano) is True  # once is enough: a second call changes nothing
    assert node.op.c_support_code_apply(node, "node") == code
