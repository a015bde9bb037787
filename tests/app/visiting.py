"""Tests reach a page's visitor the way a browser does, by the token in the URL, and the server-side state (the
visitor store and the job manager, one per process) by that token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest

from isingviz.jobs.manager import Ticket
from isingviz.jobs.visitors import Visitor, model_folder, new_token
from ui import visitor


def arrive(at: AppTest, lattice: np.ndarray | None = None, models: dict[str, Any] | None = None) -> str:
    """Give ``at`` a fresh visitor token in its URL, with this lattice and these models already theirs."""
    token = new_token()
    at.query_params[visitor.PARAM] = token
    v = visitor.store().get(token)
    if lattice is not None:
        v.lattice = np.asarray(lattice, dtype=np.int8)
    v.models.update(models or {})
    return token


def state_of(at: AppTest) -> Visitor:
    """The visitor of an AppTest that has run once."""
    return visitor.store().get(at.session_state["visitor_token"])


def ticket_of(at: AppTest, kind: str) -> Ticket | None:
    return visitor.manager().latest(at.session_state["visitor_token"], kind)


def job_of(at: AppTest, kind: str) -> Any:
    t = ticket_of(at, kind)
    return t.job if t is not None else None


def saved_folder(at: AppTest, root: Path) -> Path:
    """Where the visitor of ``at`` saves models under the user models folder ``root``."""
    return model_folder(root, at.session_state["visitor_token"])
