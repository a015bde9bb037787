"""The app under attack (AppTest): a refused upload is one ``st.error`` sentence, never a traceback or a server path,
and the page around it keeps working; unexpected errors show a generic sentence and go to the server log only."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from isingviz.lattice import lattice_to_dict, ring_lattice

from . import crafted as c
from .harness import ROOT

LATTICE_PAGE = str(ROOT / "views" / "1_Lattice.py")
TRAIN_PAGE = str(ROOT / "views" / "3_Train.py")
BAD_LATTICES = {
    "deep.json": (c.lattice_doc("[" * 100_000 + "]" * 100_000), "nested 100,001 levels deep"),
    "infinity.json": (c.lattice_doc("[[0, Infinity]]"), "Infinity is not a number"),
    "digits.json": (c.lattice_doc(f"[[0, {'9' * 4000}]]"), "4,000 digits"),
    "edges.json": (c.lattice_doc('"01"'), "'edges' must be a list"),
    "bools.json": (c.lattice_doc("[[false, true]]"), "edge #0 must be a pair"),
    "dup.json": (c.lattice_doc("[[0, 1]]", extra=', "L": 2'), "appears twice"),
    "big.json": (c.lattice_doc("[[0, 1]]", extra=', "pad": "' + "x" * 2_000_000 + '"'), "over the limit"),
    "L64.json": (c.lattice_doc("[[0, 1]]", L="64"), "at most 32"),
}


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _clean(messages: list[str]) -> None:
    """Each message one sentence: no traceback, no server path, no Python keyword argument."""
    for m in messages:
        assert "Traceback" not in m and str(ROOT) not in m and "/tmp/" not in m and "=True" not in m, m


def test_streamlit_shows_no_error_details() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"


@pytest.mark.parametrize("name", list(BAD_LATTICES))
def test_a_refused_lattice_upload_leaves_the_page_usable(name: str) -> None:
    payload, phrase = BAD_LATTICES[name]
    at = AppTest.from_file(LATTICE_PAGE, default_timeout=60).run()
    before = (_metric(at, "spins L"), _metric(at, "edges"))
    at.sidebar.file_uploader[0].upload(name, payload, "application/json").run()
    errors = [e.value for e in at.error]
    assert not at.exception and len(errors) == 1 and errors[0].startswith(f"{name}: ") and phrase in errors[0], errors
    _clean(errors)
    assert (_metric(at, "spins L"), _metric(at, "edges")) == before, "the session's lattice is kept"
    # the Lattice sidebar controls are all still there and still work while the bad file stays in the uploader
    assert at.slider(key="lattice_L") and at.selectbox(key="lattice_family") and at.sidebar.button
    at.slider(key="lattice_L").set_value(9).run()
    assert not at.exception and _metric(at, "spins L") == "9"
    good = json.dumps(lattice_to_dict(ring_lattice(6))).encode()
    at.sidebar.file_uploader[0].clear().upload("ring.json", good, "application/json").run()
    assert not at.error and (_metric(at, "spins L"), _metric(at, "edges")) == ("6", "6")


def test_a_lattice_file_with_a_bom_is_accepted() -> None:
    at = AppTest.from_file(LATTICE_PAGE, default_timeout=60).run()
    at.sidebar.file_uploader[0].upload("bom.json", b"\xef\xbb\xbf" + c.lattice_doc("[[0, 2]]"), "application/json")
    at.run()
    assert not at.error and (_metric(at, "spins L"), _metric(at, "edges")) == ("3", "1")


@pytest.fixture
def train_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ISINGVIZ_USER_MODELS", str(tmp_path / "user_models"))
    at = AppTest.from_file(TRAIN_PAGE, default_timeout=60).run()
    assert not at.exception
    return at


def test_refused_model_uploads_are_one_sentence_and_nothing_runs(train_page: AppTest, tmp_path: Path) -> None:
    at = train_page
    uploads = {
        "channels.safetensors": (c.with_config(c.cnn_bytes(), channels=[1] * 40_000), "40,000 entries"),
        "general_M.safetensors": (c.with_config(c.general_bytes(), M=10**7), "must be an integer from 2 to 2,000"),
        "replicas.safetensors": (c.with_dataset(c.cnn_bytes(), replicas=5 * 10**7), "replicas must be"),
        "pickle.safetensors": (c.pickle_bytes(tmp_path / "pwned"), "pickle / torch.save"),
        "deep.safetensors": (c.with_metadata_text(c.cnn_bytes(), "[" * 100_000 + "]" * 100_000), "nested"),
    }
    for name, (data, phrase) in uploads.items():
        at.get("file_uploader")[0].set_value((name, data, "application/octet-stream"))
        at.run()
        errors = [e.value for e in at.error]
        assert not at.exception and len(errors) == 1 and errors[0].startswith(f"{name}: ") and phrase in errors[0]
        _clean(errors)
        assert not at.success, "nothing was loaded"
        assert at.button(key="tr_start").label == "Start training", "the page keeps working"
    assert not (tmp_path / "pwned").exists()
    at.get("file_uploader")[0].set_value(("good.safetensors", c.cnn_bytes(), "application/octet-stream"))
    at.run()
    assert not at.error and any(s.value.startswith("Loaded 'good'") for s in at.success)


def test_an_unexpected_error_is_a_generic_sentence_logged_on_the_server(caplog: pytest.LogCaptureFixture) -> None:
    from ui.widgets import error_text

    with caplog.at_level(logging.ERROR, logger="isingviz.app"):
        text = error_text(RuntimeError(f"secret detail from {ROOT}/isingviz/x.py"))
    assert text.startswith("Something went wrong (RuntimeError)") and "secret" not in text and str(ROOT) not in text
    assert "secret detail" in caplog.text  # the details are in the server's log
    assert error_text(ValueError("one clear sentence")) == "one clear sentence"
