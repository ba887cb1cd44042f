"""What makes Theano 1.0.5 (2020) import, compile and link a BLAS on today's Python
(3.11 to 3.15) and NumPy 2: theano_setup runs before `import theano` (flags, NumPy's
removed names and modules, C flags, the BLAS and its threads) and calls theano_numpy2
after it (Theano's own code that NumPy 2 broke) and theano_compile (the compile cache);
get_blis.py fetches the BLAS `make setup` puts in the venv; find_python.sh picks the
Python; build_shims/ lets Theano's setup.py run on 3.12 and later. None of it is the
lesson; every piece says why it is there and has a test that fails without it.
"""
