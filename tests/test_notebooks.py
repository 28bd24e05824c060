"""The tutorial notebooks are stored without outputs (they are executed by `make test` via nbmake)."""
import json

from conftest import ROOT


def test_notebooks_are_stored_stripped():
    books = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert len(books) >= 3
    for nb in books:
        cells = json.loads(nb.read_text())["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        assert code and all(not c["outputs"] and c["execution_count"] is None for c in code), nb.name
