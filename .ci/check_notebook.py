"""CI: the executed notebook (make notebook) holds the accuracy lines and its three pictures, and no error.

    python .ci/check_notebook.py genre_mlp.executed.ipynb EVALUATIONS
"""
import sys

import nbformat

path, evaluations = sys.argv[1], int(sys.argv[2])
outputs = [output for cell in nbformat.read(path, as_version=4).cells for output in cell.get("outputs", [])]
text = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
accuracy = [line for line in text.splitlines() if line.startswith("Accuracy after update")]
pictures = sum("image/png" in output.get("data", {}) for output in outputs)
errors = [output.ename for output in outputs if output.output_type == "error"]
print("%s: %d accuracy lines, %d pictures, %d errors" % (path, len(accuracy), pictures, len(errors)))
if len(accuracy) != evaluations or pictures != 3 or errors:
    sys.exit("error: %s should hold %d accuracy lines, 3 pictures and no error" % (path, evaluations))
