"""Model files: a save/load round trip is exact, and every bad or hostile file is refused without unpickling."""

from __future__ import annotations

import json
import pathlib
import pickle
import struct

import numpy as np
import pytest
import safetensors.torch
import torch

import isingviz
from isingviz.data import DatasetSpec
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.networks import build_model
from isingviz.learn.store import LoadedModel, list_models, load_model, model_to_bytes, save_model
from isingviz.learn.train import TrainConfig, train

CFG = ModelConfig(L=5, M=8, channels=(4,), hidden=8)


@pytest.fixture
def model() -> torch.nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build_model(CFG).eval()


@pytest.fixture
def X() -> np.ndarray:
    return np.random.default_rng(0).uniform(-1, 1, size=(6, CFG.L, CFG.M))  # (B, L, M)


def meta_kwargs() -> dict:
    return dict(
        T=0.4,
        tau=CFG.tau,
        dataset=DatasetSpec(L=5, M=8, n_train=10, n_test=5).to_dict(),
        train_config=TrainConfig(epochs=1).to_dict(),
        history=[{"epoch": 1, "train_loss": 0.5, "test_accuracy": 0.75}],
        metrics={"test_accuracy": 0.75},
        name="tiny",
    )


@pytest.fixture
def good_bytes(model: torch.nn.Module) -> bytes:
    return model_to_bytes(model, CFG, **meta_kwargs())


# ---- round trip -------------------------------------------------------------------------------------------


def test_save_load_round_trip_is_exact(tmp_path: pathlib.Path, model: torch.nn.Module, X: np.ndarray) -> None:
    path = save_model(tmp_path / "tiny.safetensors", model, CFG, **meta_kwargs())
    loaded = load_model(path)
    assert loaded.config == CFG and not loaded.model.training
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[k], v)
    expected = LoadedModel(metadata={}, config=CFG, model=model).predict_proba(X)
    p = loaded.predict_proba(X)
    # Weights are bit-identical (above); CPU kernels may round differently from call to call (batch size, memory
    # alignment), so the predictions are compared at float32 resolution.
    assert p.shape == (6, CFG.K, 2)
    np.testing.assert_allclose(p, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(loaded.predict_proba(X[2]), p[2], rtol=0, atol=1e-6)  # one (L, M) -> (K, 2)
    np.testing.assert_allclose(np.exp(loaded.log_proba(X)), p, rtol=1e-6)


def test_metadata_round_trip(tmp_path: pathlib.Path, model: torch.nn.Module) -> None:
    kw = meta_kwargs()
    loaded = load_model(save_model(tmp_path / "a.safetensors", model, CFG, notes="a note", **kw))
    md = loaded.metadata
    assert md["format"] == "isingviz-model" and md["version"] == 1
    assert ModelConfig.from_dict(md["model_config"]) == CFG
    for key in ("T", "tau", "dataset", "train_config", "history", "metrics", "name"):
        assert md[key] == kw[key], key
    assert DatasetSpec.from_dict(md["dataset"]) == DatasetSpec(L=5, M=8, n_train=10, n_test=5)
    assert (md["M"], md["encoding"], md["notes"]) == (CFG.M, CFG.encoding, "a note")
    assert md["package_version"] == isingviz.__version__ and md["created"].endswith("Z")
    assert loaded.name == "tiny" and loaded.T == 0.4 and loaded.tau == CFG.tau
    s = loaded.summary()
    assert "tiny" in s and "L=5" in s and "0.7500" in s and "\n" not in s


def test_trained_result_saves_and_loads(tmp_path: pathlib.Path, X: np.ndarray) -> None:
    y = np.random.default_rng(1).integers(0, 2, size=(6, CFG.K))
    res = train(X, y, X, y, config=CFG, train_config=TrainConfig(epochs=2, batch_size=4, threads=1, device="cpu"))
    path = save_model(
        tmp_path / "t.safetensors", res.model, res.config, T=1.0, tau=CFG.tau,
        train_config=res.train_config, history=res.history,
    )  # fmt: skip
    loaded = load_model(path)
    assert loaded.metadata["train_config"] == res.train_config.to_dict()
    assert loaded.metadata["history"] == res.history and loaded.name == "t"
    expected = LoadedModel(metadata={}, config=CFG, model=res.model).predict_proba(X)
    np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=0, atol=1e-6)


def test_load_from_bytes(good_bytes: bytes, model: torch.nn.Module, X: np.ndarray) -> None:
    loaded = load_model(good_bytes)
    assert loaded.path is None and loaded.name == "tiny"
    np.testing.assert_allclose(loaded.predict_proba(X), LoadedModel({}, CFG, model).predict_proba(X), atol=1e-6)
    assert load_model(bytearray(good_bytes)).config == CFG


def test_no_silent_overwrite_and_no_temp_file(tmp_path: pathlib.Path, model: torch.nn.Module) -> None:
    path = tmp_path / "m.safetensors"
    save_model(path, model, CFG, T=0.4, tau=CFG.tau, name="first")
    with pytest.raises(ValueError, match="already exists"):
        save_model(path, model, CFG, T=0.4, tau=CFG.tau, name="second")
    assert load_model(path).name == "first"
    save_model(path, model, CFG, T=0.4, tau=CFG.tau, name="second", overwrite=True)
    assert load_model(path).name == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temporary file left behind


def test_save_refusals(tmp_path: pathlib.Path, model: torch.nn.Module) -> None:
    with pytest.raises(ValueError, match="tau"):
        model_to_bytes(model, CFG, T=0.4, tau=0.05)
    with pytest.raises(ValueError, match="T must be"):
        model_to_bytes(model, CFG, T=float("nan"), tau=CFG.tau)
    with pytest.raises(ValueError, match="do not match"):
        model_to_bytes(model, ModelConfig(L=5, M=8, channels=(4,), hidden=9), T=0.4, tau=CFG.tau)
    with pytest.raises(ValueError, match=r"\.safetensors"):
        save_model(tmp_path / "m.pt", model, CFG, T=0.4, tau=CFG.tau)
    with torch.no_grad():
        model.head[4].bias[0] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite"):
        save_model(tmp_path / "m.safetensors", model, CFG, T=0.4, tau=CFG.tau)
    assert list(tmp_path.iterdir()) == []


def test_predict_checks_shape(good_bytes: bytes) -> None:
    loaded = load_model(good_bytes)
    with pytest.raises(ValueError, match=r"\(B, 5, 8\)"):
        loaded.predict_proba(np.zeros((2, 5, 9)))
    with pytest.raises(ValueError, match="shape"):
        loaded.predict_proba(np.zeros(40))


def test_list_models(tmp_path: pathlib.Path, model: torch.nn.Module) -> None:
    for name in ("b", "a"):
        save_model(tmp_path / f"{name}.safetensors", model, CFG, T=0.4, tau=CFG.tau)
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in list_models(tmp_path)] == ["a.safetensors", "b.safetensors"]
    assert list_models(tmp_path / "missing") == []


# ---- refusals ---------------------------------------------------------------------------------------------


class _Touch:
    """Unpickling this creates a file: proof that a loader executed the pickle."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_refuses_malicious_pickle_without_running_it(tmp_path: pathlib.Path) -> None:
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Touch(control)))
    assert control.exists()  # the payload is live
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Touch(marker))
    for name in ("evil.pkl", "evil.safetensors"):
        (tmp_path / name).write_bytes(payload)
        with pytest.raises(ValueError, match="pickle / torch.save"):
            load_model(tmp_path / name)
    with pytest.raises(ValueError, match="pickle / torch.save"):
        load_model(payload)
    assert not marker.exists()


@pytest.mark.parametrize("zipfile", [True, False])
def test_refuses_torch_save_file(tmp_path: pathlib.Path, model: torch.nn.Module, zipfile: bool) -> None:
    for name in ("w.pt", "w.safetensors"):
        torch.save(model.state_dict(), tmp_path / name, _use_new_zipfile_serialization=zipfile)
        with pytest.raises(ValueError, match="only .safetensors model files are accepted"):
            load_model(tmp_path / name)


def _parts(data: bytes) -> tuple[dict, dict[str, torch.Tensor]]:
    (n,) = struct.unpack("<Q", data[:8])
    doc = json.loads(json.loads(data[8 : 8 + n])["__metadata__"]["isingviz"])
    return doc, safetensors.torch.load(data)


def _with_doc(data: bytes, **changes) -> bytes:
    doc, tensors = _parts(data)
    doc.update(changes)
    return safetensors.torch.save(tensors, metadata={"isingviz": json.dumps(doc)})


def _with_tensors(data: bytes, change) -> bytes:
    doc, tensors = _parts(data)
    change(tensors)
    return safetensors.torch.save(tensors, metadata={"isingviz": json.dumps(doc)})


def _with_header(data: bytes, extra: dict, raw: bytes = b"") -> bytes:
    """The same file with entries added to its JSON header (``raw`` is appended inside the object verbatim)."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header.update(extra)
    text = json.dumps(header).encode()[:-1] + raw + b"}"
    return struct.pack("<Q", len(text)) + text + data[8 + n :]


def _nan(t: dict) -> None:
    t["head.4.bias"][0] = float("nan")


BAD = {
    "empty": (lambda d: b"", "shorter than the 8-byte"),
    "garbage": (lambda d: b"this is certainly not a model file", "header length"),
    "random bytes": (lambda d: np.random.default_rng(0).bytes(4000), "header length"),
    "truncated data": (lambda d: d[:-7], "truncated"),
    "truncated header": (lambda d: d[:200], "header length"),
    "truncated, length 128 mod 256": (lambda d: struct.pack("<Q", 384) + d[8:200], "header length"),  # not a pickle
    "header not JSON": (lambda d: struct.pack("<Q", 12) + b"{not json!!}" + b"\0" * 8, "not valid JSON"),
    "malformed tensor entry": (lambda d: _with_header(d, {"x": 5}), "malformed header entry"),
    "duplicate keys": (lambda d: _with_header(d, {}, b',"__metadata__":{}'), "appears twice"),
    "no metadata": (lambda d: safetensors.torch.save(_parts(d)[1]), "__metadata__"),
    "no isingviz key": (lambda d: safetensors.torch.save(_parts(d)[1], metadata={"x": "{}"}), "no 'isingviz'"),
    "malformed JSON": (
        lambda d: safetensors.torch.save(_parts(d)[1], metadata={"isingviz": "{oops"}),
        "not valid JSON",
    ),
    "NaN in JSON": (lambda d: safetensors.torch.save(_parts(d)[1], metadata={"isingviz": '{"T": NaN}'}), "NaN"),
    "wrong format": (lambda d: _with_doc(d, format="something-else"), "format"),
    "wrong version": (lambda d: _with_doc(d, version=2), "version 2"),
    "bad arch": (lambda d: _with_doc(d, model_config={**CFG.to_dict(), "arch": "transformer"}), "arch"),
    "string L": (lambda d: _with_doc(d, model_config={**CFG.to_dict(), "L": "5"}), "'L'"),
    "unknown field": (lambda d: _with_doc(d, model_config={**CFG.to_dict(), "depth": 3}), "unknown"),
    "no config": (lambda d: _with_doc(d, model_config=None), "model_config"),
    "tau contradicts": (lambda d: _with_doc(d, tau=0.5), "tau"),
    "bad T": (lambda d: _with_doc(d, T=-1), "'T'"),
    "bad history": (lambda d: _with_doc(d, history=[1, 2]), "history"),
    "wrong shape": (lambda d: _with_tensors(d, lambda t: t.update({"head.4.bias": torch.zeros(21)})), "head.4.bias"),
    "missing tensor": (lambda d: _with_tensors(d, lambda t: t.pop("head.1.weight")), "missing"),
    "extra tensor": (lambda d: _with_tensors(d, lambda t: t.update({"extra": torch.zeros(2)})), "unexpected"),
    "float64": (lambda d: _with_tensors(d, lambda t: t.update({k: v.double() for k, v in t.items()})), "F64"),
    "float16": (lambda d: _with_tensors(d, lambda t: t.update({"head.4.bias": t["head.4.bias"].half()})), "F16"),
    "NaN weights": (lambda d: _with_tensors(d, _nan), "NaN or infinite"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_refuses_bad_files(tmp_path: pathlib.Path, good_bytes: bytes, case: str) -> None:
    make, message = BAD[case]
    data = make(good_bytes)
    with pytest.raises(ValueError, match=message):
        load_model(data)
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message):
        load_model(path)


def test_refuses_files_over_the_size_limit(tmp_path: pathlib.Path, good_bytes: bytes) -> None:
    path = tmp_path / "m.safetensors"
    path.write_bytes(good_bytes)
    with pytest.raises(ValueError, match="over the limit"):
        load_model(path, max_bytes=len(good_bytes) - 1)
    with pytest.raises(ValueError, match="over the limit"):
        load_model(good_bytes, max_bytes=100)
    assert load_model(path, max_bytes=len(good_bytes)).config == CFG
    with pytest.raises(ValueError, match="no model file"):
        load_model(tmp_path / "missing.safetensors")


def test_valid_file_whose_header_length_starts_with_pickle_byte(model: torch.nn.Module) -> None:
    """A real model file can begin with 0x80 (header length = 128 mod 256): it must not be mistaken for a pickle."""
    for k in range(0, 256, 4):
        data = model_to_bytes(model, CFG, T=0.4, tau=CFG.tau, notes="x" * k)
        if data[:1] == b"\x80":
            assert load_model(data).metadata["notes"] == "x" * k
            return
    pytest.fail("no notes length gave a header length of 128 mod 256")
