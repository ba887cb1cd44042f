"""The lesson as a notebook: genre_mlp.ipynb written from genre_mlp.py's cells by jupytext
and executed in a kernel of the venv's Python (lesson_notebook: `make ipynb`, `make
notebook`), the executed notebook as one self-contained web page (lesson_html: `make
html`), and, for a hosted kernel such as Colab's that lacks the lesson's packages, their
installation into the kernel's own Python from the first code cell (notebook). None of it
is needed to run the lesson as a script.
"""
