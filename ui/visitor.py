"""Who is visiting, and what they have running: a token in the URL (``?v=...``), the server-wide visitor store and
job manager (one each per server, ``st.cache_resource``), and the visitor's jobs by kind.

The token is written to the URL on every run of every page (page navigation clears query parameters), so a reload
or a reopened link finds the same visitor: their lattice, their models and their running or queued job. A link
without the token (``share_link``) starts a new visitor, so a teacher who shares the page does not share their
identity.
"""

from __future__ import annotations

import streamlit as st

from isingviz.jobs.background import BackgroundJob
from isingviz.jobs.manager import Cost, JobManager, JobRefused, Ticket
from isingviz.jobs.visitors import Visitor, VisitorStore, new_token, valid_token

PARAM = "v"


@st.cache_resource(show_spinner=False)
def store() -> VisitorStore:
    return VisitorStore()


@st.cache_resource(show_spinner=False)
def manager() -> JobManager:
    return JobManager()


def token() -> str:
    """This browser session's visitor token: the one in the URL when it is well formed, else a new one; written back
    to the URL on every run."""
    tok = st.session_state.get("visitor_token")
    if tok is None:
        given = st.query_params.get(PARAM)
        tok = given if valid_token(given) else new_token()
        st.session_state["visitor_token"] = tok
    if st.query_params.get(PARAM) != tok:
        st.query_params[PARAM] = tok
    return tok


def visitor() -> Visitor:
    """The current visitor's state (marks them as here, for the store and the job manager)."""
    tok = token()
    manager().touch(tok)
    return store().get(tok)


def share_link() -> str | None:
    """This page's address without the visitor token (None when the server cannot tell its own address)."""
    url = getattr(st.context, "url", None)
    return url.split("?", 1)[0] if url else None


def ticket(kind: str) -> Ticket | None:
    """The visitor's latest job of ``kind`` ("train", "plateau", "sweep"): running, waiting, or the last finished."""
    return manager().latest(token(), kind)


def submit(kind: str, job: BackgroundJob, cost: Cost, label: str) -> Ticket | None:
    """Hand ``job`` to the server's job manager for this visitor; a refusal is shown as one ``st.error`` sentence."""
    try:
        return manager().submit(token(), job, cost, label, meta={"kind": kind})
    except JobRefused as e:
        st.error(str(e))
        return None


def queue_line(t: Ticket) -> str | None:
    """ "queued: 2nd in line, about 40 s" while ``t`` waits; None once it runs or ended."""
    pos = manager().position(t)
    if not pos:
        return None
    wait = manager().estimated_wait(t)
    about = f"about {wait:.0f} s" if wait < 90 else f"about {wait / 60:.0f} min"
    runs = manager().max_running
    return f"queued: {_ordinal(pos)} in line, {about} before it starts (the server runs {runs} at a time)"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def cost_caption(cost: Cost) -> str:
    m = manager()
    return f"Estimated cost on this server: {cost.text()} (one run may take up to {m.max_job_seconds / 60:.0f} min)."


def heartbeat() -> None:
    """Keep this visitor's jobs alive while their tab is open (a closed tab stops calling it)."""
    manager().touch(token())
