"""Visitors by token: isolated, bounded in number, models and time; tokens safe as folder names."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from isingviz.jobs.visitors import VisitorStore, model_folder, new_token, valid_token


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_each_token_sees_only_its_own_state():
    store = VisitorStore(idle_seconds=100)
    a, b = new_token(), new_token()
    assert a != b and valid_token(a) and len(a) >= 16
    store.get(a).lattice = np.ones((3, 3))
    store.add_model(a, "mine", object())
    assert store.get(b).lattice is None and not store.get(b).models
    assert store.get(a).lattice.sum() == 9 and list(store.get(a).models) == ["mine"]


def test_the_store_is_bounded_in_visitors_models_and_time():
    clock = Clock()
    store = VisitorStore(max_visitors=3, max_models=2, idle_seconds=60, clock=clock)
    tokens = [new_token() for _ in range(4)]
    for t in tokens:
        store.get(t)
        clock.now += 1
    assert len(store) == 3 and tokens[0] not in store  # the least recently seen went first
    for name in ("a", "b", "c"):
        store.add_model(tokens[1], name, name)
    assert list(store.get(tokens[1]).models) == ["b", "c"]
    clock.now += 61
    store.get(tokens[3])
    assert tokens[3] in store and len(store) == 1  # the others were idle too long


@given(st.text(max_size=80))
def test_only_well_formed_tokens_are_accepted(text):
    ok = valid_token(text)
    assert ok == (16 <= len(text) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in text))
    if not ok:
        with pytest.raises(ValueError, match="visitor token"):
            VisitorStore(idle_seconds=1).get(text)
        with pytest.raises(ValueError, match="visitor token"):
            model_folder("/tmp", text)


def test_model_folders_are_per_token(tmp_path):
    a, b = new_token(), new_token()
    assert model_folder(tmp_path, a) != model_folder(tmp_path, b)
    assert model_folder(tmp_path, a).parent == tmp_path / "visitors"
