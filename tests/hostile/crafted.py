"""Crafted hostile files, built by the tests (no committed blobs): model files, lattice files, .npz archives.

Each builder returns bytes. Model files start from a tiny valid model and change one thing in the metadata
(``with_doc``, ``with_config``, ``with_dataset``), the header, or the container; .npz files are written member by
member with ``zipfile`` so their headers can lie.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch

from isingviz.data import DatasetSpec
from isingviz.learn.general.train import GeneralTrainConfig
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.networks import build_model
from isingviz.learn.store import model_to_bytes

TINY_CNN = ModelConfig(L=5, M=8, channels=(2,), squeeze=2, hidden=4)
TINY_GENERAL = ModelConfig(L=12, M=50, arch="general", encoding="raw", hidden=4)
TINY_DATASET = DatasetSpec(L=5, M=8, n_lattices=2, n_train=8, n_test=2, family_params={"n_edges": 3})


def cnn_bytes() -> bytes:
    """A tiny valid CNN file with its dataset recipe and training settings."""
    torch.manual_seed(0)
    net = build_model(TINY_CNN)
    return model_to_bytes(net, TINY_CNN, T=0.4, tau=0.1, dataset=TINY_DATASET, history=[{"epoch": 1, "lr": 0.1}])


def general_bytes() -> bytes:
    """A tiny valid general model file (its dataset is its training distribution)."""
    torch.manual_seed(0)
    net = build_model(TINY_GENERAL)
    return model_to_bytes(net, TINY_GENERAL, T=1.0, tau=0.1, dataset=GeneralTrainConfig().to_dict(), name="g")


def parts(data: bytes) -> tuple[dict, dict[str, torch.Tensor]]:
    (n,) = struct.unpack("<Q", data[:8])
    doc = json.loads(json.loads(data[8 : 8 + n])["__metadata__"]["isingviz"])
    return doc, safetensors.torch.load(data)


def with_metadata_text(data: bytes, text: str) -> bytes:
    """The same weights with the 'isingviz' metadata replaced by ``text`` verbatim (any JSON, valid or not)."""
    return safetensors.torch.save(parts(data)[1], metadata={"isingviz": text})


def with_doc(data: bytes, **changes: Any) -> bytes:
    doc, _ = parts(data)
    doc.update(changes)
    return with_metadata_text(data, json.dumps(doc))


def with_config(data: bytes, **changes: Any) -> bytes:
    doc, _ = parts(data)
    doc["model_config"].update(changes)
    for key in ("M", "tau", "encoding"):  # keep the copies consistent: only the config itself is hostile
        if key in changes:
            doc[key] = changes[key]
    return with_metadata_text(data, json.dumps(doc))


def with_dataset(data: bytes, **changes: Any) -> bytes:
    doc, _ = parts(data)
    doc["dataset"].update(changes)
    return with_metadata_text(data, json.dumps(doc))


def header_of(data: bytes) -> dict:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n])


def with_raw_header(data: bytes, header: bytes) -> bytes:
    """A file whose safetensors header is ``header`` verbatim, followed by the original tensor bytes."""
    (n,) = struct.unpack("<Q", data[:8])
    return struct.pack("<Q", len(header)) + header + data[8 + n :]


class Payload:
    """Unpickling this runs a command that creates ``marker``: proof that a file was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        import os

        return (os.system, (f"touch {self.marker}",))


def pickle_bytes(marker: Path) -> bytes:
    return pickle.dumps({"state_dict": Payload(marker)})


def torch_save_bytes(marker: Path) -> bytes:
    buf = io.BytesIO()
    torch.save({"weights": torch.zeros(3), "payload": Payload(marker)}, buf)
    return buf.getvalue()


# ---------------------------------------------------------------- lattice files
def lattice_doc(edges: str = "[[0, 1]]", L: str = "3", extra: str = "") -> bytes:
    return f'{{"format": "isingviz-lattice", "version": 1, "L": {L}, "edges": {edges}{extra}}}'.encode()


# ---------------------------------------------------------------- .npz archives
def npy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()  # magic string, header length, header dict


def npz_of(**arrays: Any) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def npz_members(members: dict[str, bytes], compress: bool = False) -> bytes:
    """An archive whose members are the given bytes verbatim (name -> content)."""
    buf = io.BytesIO()
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", mode) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buf.getvalue()


def npz_bomb() -> bytes:
    """~4.4 MB that expands to 4.5 GB: X.npy claims (and holds) 560 million float64 zeros, deflated 1000:1.

    Built without compressing 4.5 GB: after a full flush deflate restarts from scratch, so every 16 MB block of
    zeros compresses to the same bytes, which are repeated; the zip (zip64 sizes) is written by hand."""
    header = npy_header("<f8", (268 * (1 << 24) // 8,))
    chunk = b"\0" * (1 << 24)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    data = head + block * 268 + c.flush()
    crc = zlib.crc32(header)
    for _ in range(268):
        crc = zlib.crc32(chunk, crc)
    size = len(header) + 268 * len(chunk)
    name = b"X.npy"
    zip64 = struct.pack("<HHQQ", 1, 16, size, len(data))
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), 20)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), 20, 0, 0,
        0, 0, 0,
    )  # fmt: skip
    body = local + name + zip64 + data
    directory = central + name + zip64
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(directory), len(body), 0)
    return body + directory + end


def npz_pickled_member() -> bytes:
    """X.npy holds a pickled object array (np.save with allow_pickle)."""
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    return npz_members({"X.npy": buf.getvalue()})
