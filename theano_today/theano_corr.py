"""A faster im2col and col2im for Theano's CPU convolution (CorrMM), the same numbers.

Theano 1.0.5 computes conv2d on the CPU with CorrMM: for each excerpt of the batch, im2col
copies the input's windows into columns, one BLAS product multiplies them by the kernels,
and for the gradient col2im adds columns back. Its im2col and col2im, Caffe's, test every
element against the padding's borders. For the second lesson's 1-by-k kernels with a
stride (genre_cnn.py), that copying took about as long as the products themselves.

faster_corr_mm(theano) gives CorrMM's C code an im2col and a col2im that work out, once per
row of columns, which of them fall inside the input, then copy (or add) those without a
test and write zeros for the rest. They copy the same values and add in the same order, so
the results are the same to the bit; only the C code, and so its cache key, is new. And
since im2col (or, for the input's gradient, a product with beta 0) writes every column,
their buffer is no longer zeroed first at every call (PyArray_EMPTY for PyArray_ZEROS:
3.2 MB for the lesson's second layer, three times an update).
"""

# Caffe's loops as Theano 1.0.5 ships them in theano/tensor/nnet/c_code/corr_gemm.c
# (%% and %(float_type)s: the file is a Python %-template).
IM2COL_LOOP = """
    for (int h = 0; h < height_col; ++h) {
      int h_pad = h * stride_h - pad_hl + h_offset * dilation_h;
      for (int w = 0; w < width_col; ++w) {
        int w_pad = w * stride_w - pad_wl + w_offset * dilation_w;
        if (h_pad >= 0 && h_pad < height && w_pad >= 0 && w_pad < width)
          data_col[(npy_intp)(c * height_col + h) * width_col + w] =
            data_im[(npy_intp)(c_im * height + h_pad) * width + w_pad];
        else
          data_col[(npy_intp)(c * height_col + h) * width_col + w] = 0.;
      }
    }
"""
COL2IM_LOOP = """
    for (int h = 0; h < height_col; ++h) {
      int h_pad = h * stride_h - pad_hl + h_offset * dilation_h;
      for (int w = 0; w < width_col; ++w) {
        int w_pad = w * stride_w - pad_wl + w_offset * dilation_w;
        if (h_pad >= 0 && h_pad < height && w_pad >= 0 && w_pad < width)
          data_im[(npy_intp)(c_im * height + h_pad) * width + w_pad] +=
            data_col[(npy_intp)(c * height_col + h) * width_col + w];

      }
    }
"""

# The columns w whose w_pad = first + w * stride_w lies in [0, width): lo <= w < hi.
COLUMN_RANGE = """
    const int first = w_offset * dilation_w - pad_wl;
    int lo = first >= 0 ? 0 : (-first + stride_w - 1) / stride_w;
    int hi = first >= width ? 0 : (width - first + stride_w - 1) / stride_w;
    if (hi > width_col) hi = width_col;
    if (lo > hi) lo = hi;
"""
FAST_IM2COL_LOOP = COLUMN_RANGE + """
    for (int h = 0; h < height_col; ++h) {
      int h_pad = h * stride_h - pad_hl + h_offset * dilation_h;
      %(float_type)s* col = data_col + (npy_intp)(c * height_col + h) * width_col;
      if (h_pad < 0 || h_pad >= height) {
        for (int w = 0; w < width_col; ++w) col[w] = 0.;
        continue;
      }
      const %(float_type)s* row = data_im + (npy_intp)(c_im * height + h_pad) * width;
      for (int w = 0; w < lo; ++w) col[w] = 0.;
      for (int w = lo; w < hi; ++w) col[w] = row[w * stride_w + first];
      for (int w = hi; w < width_col; ++w) col[w] = 0.;
    }
"""
FAST_COL2IM_LOOP = COLUMN_RANGE + """
    for (int h = 0; h < height_col; ++h) {
      int h_pad = h * stride_h - pad_hl + h_offset * dilation_h;
      if (h_pad < 0 || h_pad >= height) continue;
      const %(float_type)s* col = data_col + (npy_intp)(c * height_col + h) * width_col;
      %(float_type)s* row = data_im + (npy_intp)(c_im * height + h_pad) * width;
      for (int w = lo; w < hi; ++w) row[w * stride_w + first] += col[w];
    }
"""
# Part of CorrMM's cache key: raise it whenever the loops above change, or Theano keeps
# running the module it compiled from the old ones.
# CorrMM's buffer of columns, allocated (and zeroed) at every call.
COL_ZEROS = """    PyArrayObject* col = (PyArrayObject*)PyArray_ZEROS(3,
            col_dim,"""
COL_EMPTY = """    PyArrayObject* col = (PyArrayObject*)PyArray_EMPTY(3,
            col_dim,"""
VERSION = "theano_today_im2col_2"


def faster_corr_mm(theano):
    """CorrMM's im2col and col2im without a test per element; False (and Theano's own left) if this
    Theano's C file does not hold the loops above word for word."""
    import os
    from theano.tensor.nnet import corr
    BaseCorrMM = corr.BaseCorrMM
    if getattr(BaseCorrMM, "theano_today_im2col", False):
        return True
    with open(os.path.join(os.path.dirname(corr.__file__), "c_code", "corr_gemm.c")) as source:
        template = source.read()
    if IM2COL_LOOP not in template or COL2IM_LOOP not in template or COL_ZEROS not in template:
        return False
    support_code, version = BaseCorrMM.c_support_code_apply, BaseCorrMM.c_code_cache_version

    def c_support_code_apply(self, node, nodename):
        float_type = "npy_float" if str(node.inputs[0].dtype) == "float32" else "npy_double"
        code = support_code(self, node, nodename)
        # The loops hold no %-field, so they read the same in the filled-in code.
        return (code.replace(IM2COL_LOOP, FAST_IM2COL_LOOP % dict(float_type=float_type), 1)
                .replace(COL2IM_LOOP, FAST_COL2IM_LOOP % dict(float_type=float_type), 1)
                .replace(COL_ZEROS, COL_EMPTY, 1))

    def c_code_cache_version(self):
        return version(self) + (VERSION,)  # a new key: a cached module of Theano's own is not reused

    BaseCorrMM.c_support_code_apply, BaseCorrMM.c_code_cache_version = c_support_code_apply, c_code_cache_version
    BaseCorrMM.theano_today_im2col = True
    return True
