"""Runs a notebook from top to bottom without a browser, as the build does.

Usage: python notebooks/execute.py notebooks/storm-analysis.ipynb [OUTPUT.ipynb]

The notebook runs in its own directory, so its default paths (../output/...) resolve as
they do in Jupyter; STORMSIM_RUN and STORMSIM_SWEEP point it at other results. Any cell
that raises fails the run with that cell's error. With OUTPUT, the executed notebook is
saved there, outputs included.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main(arguments):
    if len(arguments) not in (1, 2):
        sys.exit(__doc__)
    path = Path(arguments[0])
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    client.execute()
    if len(arguments) == 2:
        nbformat.write(notebook, arguments[1])
    print(f"{path}: {len(notebook.cells)} cells ran without error")


if __name__ == "__main__":
    main(sys.argv[1:])
