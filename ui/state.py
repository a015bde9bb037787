"""Per-visitor state shared by the pages: the current lattice and the models a visitor has.

The state lives on the server under the visitor's token (``ui.visitor``), so a reload or a reopened link finds it.
Shipped models live read-only in ``models/`` and are offered to everyone, as are the models an operator puts in
the user models folder (``ISINGVIZ_USER_MODELS``, default ``user_models/``); models trained or uploaded in the app
belong to the visitor, and those they save go to their own folder in it (``user_models/visitors/TOKEN/``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import streamlit as st

from isingviz.config import models_dir
from isingviz.jobs.visitors import model_folder
from isingviz.lattice import from_edges, random_lattice
from isingviz.learn.store import LoadedModel, list_models, load_model
from ui import visitor

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_DIR = models_dir()
PAPER_MODEL = SHIPPED_DIR / "paper_T0.4.safetensors"


def user_models_dir() -> Path:
    return Path(os.environ.get("ISINGVIZ_USER_MODELS", ROOT / "user_models"))


def display_path(path: Path) -> str:
    """A folder or file as a visitor may see it: relative to the repository, else its name only (no server path)."""
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return Path(path).name


@st.cache_resource(show_spinner=False)
def load_shipped(path: str, mtime: float) -> LoadedModel:
    """A shipped or saved model file, loaded once per server (keyed by path and modification time)."""
    return load_model(path)


def load_path(path: Path) -> LoadedModel:
    return load_shipped(str(path), path.stat().st_mtime)


def shipped_models() -> dict[str, Path]:
    return {p.stem: p for p in list_models(SHIPPED_DIR)}


def my_models_dir() -> Path:
    """Where this visitor's saved models go (their own folder under the user models folder)."""
    return model_folder(user_models_dir(), visitor.token())


def saved_user_models() -> dict[str, Path]:
    """The shared models an operator put in the user models folder, then this visitor's saved ones (which win)."""
    shared = {p.stem: p for p in list_models(user_models_dir())}
    mine = my_models_dir()
    return shared | ({p.stem: p for p in list_models(mine)} if mine.is_dir() else {})


def session_models() -> dict[str, LoadedModel]:
    """Models this visitor trained or uploaded, by name (kept on the server under their token, oldest first)."""
    return visitor.visitor().models


def available_models() -> dict[str, LoadedModel]:
    """Every model this session can use: shipped, saved in the user folder, and made in the session."""
    out: dict[str, LoadedModel] = {}
    for label, paths in (("shipped", shipped_models()), ("saved", saved_user_models())):
        for name, p in paths.items():
            try:
                out[f"{name} ({label})"] = load_path(p)
            except (ValueError, OSError):
                continue  # a broken or unreadable file in the user folder must not take the app down
    out.update({f"{k} (session)": v for k, v in session_models().items()})
    return out


def default_lattice() -> np.ndarray:
    """The paper model's first training lattice when it ships, else a paper-like random lattice."""
    if PAPER_MODEL.exists():
        try:
            ds = load_path(PAPER_MODEL).metadata.get("dataset") or {}
            if ds.get("lattices"):
                return from_edges(int(ds["L"]), ds["lattices"][0])
        except (ValueError, OSError):
            pass
    return random_lattice(12, 25, seed=0)


def get_lattice() -> np.ndarray:
    """The visitor's current lattice (L, L)."""
    v = visitor.visitor()
    if v.lattice is None:
        v.lattice = default_lattice()
    return v.lattice


def set_lattice(A: np.ndarray) -> None:
    visitor.visitor().lattice = np.asarray(A, dtype=np.int8)
