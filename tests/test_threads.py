"""torch_threads: the block runs with the count asked for, and the caller's count comes back, even on an error."""

from __future__ import annotations

import pytest
import torch

from isingviz.threads import torch_threads


def test_the_count_holds_inside_and_is_restored_after():
    before = torch.get_num_threads()
    want = 1 if before != 1 else 2
    with torch_threads(want):
        assert torch.get_num_threads() == want
    assert torch.get_num_threads() == before


def test_none_and_zero_leave_the_count_alone():
    before = torch.get_num_threads()
    for n in (None, 0):
        with torch_threads(n):
            assert torch.get_num_threads() == before
    assert torch.get_num_threads() == before


def test_an_error_in_the_block_still_restores_the_count():
    before = torch.get_num_threads()
    want = 1 if before != 1 else 2
    with pytest.raises(RuntimeError, match="boom"), torch_threads(want):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
