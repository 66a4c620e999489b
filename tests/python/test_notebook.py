"""docs/notebooks/ioi_circuit.ipynb runs top to bottom (Debian's nbclient and ipykernel), and is
what make_ioi_notebook.py writes."""
import os
import subprocess

import nbclient
import nbformat

from conftest import PYTHON, SOURCE_DIR

NOTEBOOKS = os.path.join(SOURCE_DIR, "docs", "notebooks")


def test_the_committed_notebook_is_the_generated_one(tmp):
    committed = nbformat.read(os.path.join(NOTEBOOKS, "ioi_circuit.ipynb"), as_version=4)
    env = dict(os.environ)
    script = os.path.join(NOTEBOOKS, "make_ioi_notebook.py")
    generated_path = tmp / "make_ioi_notebook.py"
    generated_path.write_text(open(script).read())
    subprocess.run([PYTHON, str(generated_path)], check=True, env=env)
    generated = nbformat.read(str(tmp / "ioi_circuit.ipynb"), as_version=4)
    assert [c.source for c in committed.cells] == [c.source for c in generated.cells]


def test_ioi_notebook_runs_top_to_bottom():
    nb = nbformat.read(os.path.join(NOTEBOOKS, "ioi_circuit.ipynb"), as_version=4)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": NOTEBOOKS}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "most necessary head: L" in text and "'head_attribution', 'io_attention'" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 4  # the four figures, drawn
