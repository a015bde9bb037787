"""Model files in the app: names, saving to the user models folder, downloads and uploads.

Saving never replaces a file and names are strictly checked; an upload is read once per file through
``isingviz.learn.store.load_model`` (never unpickled) and a refused file gets one sentence, not a traceback.
Folders are shown relative to the repository, never as server paths.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from isingviz.learn.store import SUFFIX, LoadedModel, load_model, model_to_bytes, save_model
from isingviz.limits import show
from ui.state import my_models_dir, session_models
from ui.widgets import attempt, upload_once

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_model_name(name: str) -> str:
    """``name`` if it is a valid model name (letters, digits, '-', '_'; 1-64 characters), else ``ValueError``."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"a model name may use only letters, digits, '-' and '_' (1 to 64 characters), got {name!r}")
    return name


def file_kwargs(model: LoadedModel, name: str | None = None) -> dict[str, Any]:
    """The metadata arguments of ``store.save_model`` / ``model_to_bytes`` that reproduce ``model``'s file."""
    md = model.metadata
    out = {k: md.get(k) for k in ("dataset", "train_config", "notes")}
    out.update(history=md.get("history") or [], metrics=md.get("metrics") or {}, name=name or md.get("name"))
    return {"T": model.T, "tau": model.tau, **out}


def model_bytes(model: LoadedModel, name: str | None = None) -> bytes:
    """The ``.safetensors`` file content of ``model`` (for a download)."""
    return model_to_bytes(model.model, model.config, **file_kwargs(model, name))


def save_named(model: LoadedModel, folder: str | Path, name: str) -> Path:
    """Save ``model`` as ``folder/NAME.safetensors`` (folder created on demand); never replaces a file."""
    path = Path(folder) / f"{check_model_name(name)}{SUFFIX}"
    taken = f"a model named {name!r} is already in your models folder; choose another name"
    if path.exists():
        raise ValueError(taken)
    try:
        return save_model(path, model.model, model.config, **file_kwargs(model, name))
    except ValueError as e:
        raise ValueError(taken if "already exists" in str(e) else str(e)) from None


def unique_name(name: str, taken: Mapping[str, Any]) -> str:
    out, i = name, 2
    while out in taken:
        out, i = f"{name}-{i}", i + 1
    return out


def model_files(model: LoadedModel, name: str) -> None:
    """Save into the user models folder (validated name, never overwriting) and download as .safetensors."""
    left, right = st.columns(2)
    with left:
        fname = st.text_input("save as (letters, digits, - and _)", value=name, key=f"save_name_{name}")
        if st.button("Save to my models folder", key=f"save_{name}"):
            path = attempt(save_named, model, my_models_dir(), fname, stop=False)
            if path is not None:
                st.success(f"Saved as {path.name} in your models folder.")
    with right:
        st.caption("Saved models go to your own folder on the server (the shipped models are read-only).")
        st.download_button(
            "Download .safetensors",
            data=lambda: model_bytes(model, name),
            file_name=f"{name}.safetensors",
            mime="application/octet-stream",
            key=f"download_{name}",
        )


def upload_panel() -> None:
    """Upload a .safetensors model into this session's models; anything else is refused with the reason."""
    up = st.file_uploader("Upload a model (.safetensors only)", type=["safetensors"], key="tr_upload")
    if up is not None and not up.name.endswith(".safetensors"):
        st.error(f"{show(up.name)} is not a .safetensors file; only .safetensors model files are accepted")
        return
    model, problem = upload_once(up, "uploaded_models", load_model)
    if problem:
        st.error(problem)
    elif model is not None:
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", Path(up.name).stem)[:64] or "uploaded"
        name = unique_name(stem, session_models())
        session_models()[name] = model
        st.session_state.setdefault("uploaded_model_names", {})[up.file_id] = name
    if up is not None and not problem:
        name = st.session_state.get("uploaded_model_names", {}).get(up.file_id)
        if name in session_models():
            st.success(f"Loaded '{name}': {session_models()[name].summary()}")
