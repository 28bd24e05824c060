"""A short run of the mutation fuzzer over every reader (``make fuzz`` runs 100 000 inputs per reader): every
input gives a result or a project error: no other exception, nothing caught only by the readers' last net,
no input slower than 5 s."""
from pathlib import Path

import pytest

from mocap.testing.fuzz import fuzz_reader, readers

SEEDS = Path(__file__).resolve().parent / "seeds"

READERS = readers(SEEDS)


@pytest.mark.parametrize("reader", READERS, ids=[r.name for r in READERS])
def test_fuzzed_inputs_give_results_or_project_errors(reader):
    rep = fuzz_reader(reader, SEEDS, n=400, seed=7)
    assert rep.inputs == 400 and rep.hangs == 0
    assert rep.other_exceptions == 0, {k: v[:2] for k, v in rep.crashes.items()}
    assert rep.errors > 40  # the mutations do break files (a fuzzer that breaks nothing tests nothing)
