"""The sweep runner's document writer."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from isingviz.experiments.runner import compact_json

leaf = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
                 st.booleans(), st.none())  # fmt: skip
tree = st.recursive(
    leaf, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(st.text(max_size=4), c, max_size=4))
)


@settings(max_examples=200, deadline=None)
@given(doc=st.dictionaries(st.text(max_size=6), tree, max_size=5))
def test_the_compact_document_reads_back_as_the_same_document(doc):
    assert json.loads(compact_json(doc)) == doc


def test_lists_of_numbers_take_one_line_and_strings_are_untouched():
    text = compact_json({"acc": [0.5, 1, -2e-05], "s": "[1,\n 2]", "nested": [[1, 2], {"k": [3]}]})
    assert '"acc": [0.5, 1, -2e-05]' in text and '"s": "[1,\\n 2]"' in text and "[1, 2]" in text
    assert text.count("\n") < json.dumps(json.loads(text), indent=1).count("\n")
