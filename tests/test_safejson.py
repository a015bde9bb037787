"""The strict JSON reader shared by lattice files, model metadata and config files."""

from __future__ import annotations

import json
import random

import pytest

from isingviz import safejson


def loads(data: bytes | str) -> object:
    return safejson.loads(data, "doc", max_bytes=1_000_000)


def test_reads_plain_json_and_tolerates_a_bom() -> None:
    assert loads(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    assert loads(b"\xef\xbb\xbf[1]") == [1]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"[" * 100_000 + b"]" * 100_000, "doc is nested 100,000 levels deep; at most 64 are allowed"),
        (b'{"a": NaN}', "NaN is not a number JSON allows"),
        (b"[-Infinity]", "-Infinity is not a number JSON allows"),
        (b"[1e400]", "the number 1e400 is out of range"),
        (b"[" + b"1" * 21 + b"]", "an integer with 21 digits is too long"),
        (b'{"a": 1, "b": 2, "a": 3}', "the key 'a' appears twice"),
        (b"[1,]", "doc is not valid JSON"),
        (b"\xff\xfe[]", "doc is not UTF-8 text"),
        (b"1" * 1_000_001, "over the limit"),
    ],
    ids=["deep", "nan", "infinity", "1e400", "long-int", "duplicate", "invalid", "not-utf8", "too-big"],
)
def test_refuses_with_one_sentence(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message) as e:
        loads(data)
    assert "\n" not in str(e.value) and len(str(e.value)) < 200


def test_depth_ignores_brackets_inside_strings() -> None:
    assert loads(json.dumps({"x": "[" * 1000 + '\\"{' * 100})) == {"x": "[" * 1000 + '\\"{' * 100}
    assert safejson.nesting_depth(b'["\\\\", [[1]]]') == 3


def test_depth_agrees_with_the_parsed_document_whatever_the_chunk_size() -> None:
    rng = random.Random(1)

    def gen(d: int) -> object:
        r = rng.random()
        if d > 6 or r < 0.3:
            return "".join(rng.choice('[]{}"\\a') for _ in range(rng.randint(0, 6)))
        if r < 0.65:
            return [gen(d + 1) for _ in range(rng.randint(0, 3))]
        return {str(gen(7)): gen(d + 1) for _ in range(rng.randint(0, 3))}

    def depth(x: object) -> int:
        children = x.values() if isinstance(x, dict) else x if isinstance(x, list) else None
        return 0 if children is None else 1 + max((depth(v) for v in children), default=0)

    for _ in range(300):
        x = gen(0)
        text = json.dumps(x).encode()
        assert {safejson.nesting_depth(text, chunk) for chunk in (1, 3, 8, 1 << 20)} == {depth(x)}


def test_escaped_quotes_cost_linear_time() -> None:
    """A text of escaped quotes used to make a regex scan quadratic; the scan is vectorised and linear."""
    assert safejson.nesting_depth(b'"' + b'\\"' * 4_000_000) == 0


def test_load_file_checks_the_size_first(tmp_path) -> None:
    p = tmp_path / "c.json"
    p.write_bytes(b"[1]" + b" " * 100)
    with pytest.raises(ValueError, match="config 'c.json' is 103 bytes, over the limit of 50 bytes"):
        safejson.load_file(p, "config", max_bytes=50)
    with pytest.raises(ValueError, match="config 'missing.json' does not exist"):
        safejson.load_file(tmp_path / "missing.json", "config", max_bytes=50)
    assert safejson.load_file(p, "config", max_bytes=200) == [1]
