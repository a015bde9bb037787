"""torch's CPU thread count for the length of a block, the caller's count restored after (even on an error).

Several entry points (training, the sweep runner, the general model's prediction) pin the thread count: one thread
makes a sweep's numbers independent of the machine's cores, and a chosen count bounds what one request may use.
torch's count is process-wide, so every one of them hands back the count it found.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads (None or 0: leave the count as it is), then restore the count."""
    old = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)
