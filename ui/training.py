"""UI pieces of the Train and Barren-plateau pages: input forms, the live job panel, saving and uploading models.

Training itself runs in ``isingviz.jobs`` (a background thread that never touches Streamlit), submitted to the
server's job manager with its estimated cost (``ui.visitor``), so it survives the visitor navigating away or
reloading, waits its turn when the server is busy, and ``poll`` redraws it every second with a fragment while it
waits or runs, without rerunning the whole page. The page trains either the paper's CNN (dataset,
network and optimisation inputs; ``start_job``) or a general model (``general_inputs``; ``start_general_job``);
both share the live panel, the finished panel and the model files (``ui.model_files``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import streamlit as st

from isingviz.figures.curves import compare_histories, last_value, reference_levels, training_curves
from isingviz.jobs.costs import general_training_cost, training_cost
from isingviz.jobs.general import GeneralTrainingJob
from isingviz.jobs.manager import Cost
from isingviz.jobs.training import JobQueue, TrainingJob, dataset_spec, model_config_for
from isingviz.lattice import n_pairs
from isingviz.learn.general.recipe import recipe_config
from isingviz.learn.general.train import GeneralTrainConfig
from isingviz.learn.model_config import ENCODINGS, ModelConfig
from isingviz.learn.store import LoadedModel
from isingviz.learn.train import TrainConfig, default_threads
from isingviz.limits import check_memory, show
from ui import visitor
from ui.model_files import check_model_name, model_files, unique_name
from ui.state import session_models
from ui.widgets import T_VALUES

JOB_KIND = "train"
KINDS = {"cnn": "CNN for this lattice's size (the paper's)", "general": "general model (any lattice, any L)"}
GENERAL_STEPS = 200  # the page's default: ~1 minute on 2 cores, held-out 0.85 vs trivial 0.59 (shipped model: 0.86)
QUEUE_KIND = "plateau"
SCRATCH = "— from scratch —"
ENCODING_TEXT = {
    "raw": "raw momenta (the paper)",
    "decay": "minus the free decay",
    "saturation": "momenta + saturation gap",
}
ENCODING_HELP = (
    "raw: the momenta as they are (the paper). Minus the free decay: s - s0 (1 - tau)^m, rescaled; it escapes the"
    " high-T plateau. Saturation gap (default): adds -log10(1 - |s|), the low-T signal float32 would round away."
)
AnyJob = TrainingJob | GeneralTrainingJob  # what the Train page runs: a CNN's job or a general model's
PLATEAU_KINDS = {"scratch": "scratch-raw", "finetune": "fine-tuned", "decay": "decay"}
_PLATEAU_NAME = re.compile(r"(scratch|finetune|decay|pretrain)_T([0-9.]+(?:e[+-]?[0-9]+)?)")


# ---------------------------------------------------------------- inputs
def dataset_inputs(A: np.ndarray, base: LoadedModel | None) -> dict[str, Any]:
    """Dataset widgets; returns the keyword arguments of ``jobs.dataset_spec``."""
    st.subheader("Dataset")
    has_lattices = base is not None and bool((base.metadata.get("dataset") or {}).get("lattices"))
    out: dict[str, Any] = {}
    reuse = has_lattices and st.checkbox(
        "reuse the base model's training lattices (as the paper)", True, key="tr_reuse"
    )
    if reuse:
        out["base"] = base
        L = base.config.L
        st.caption(f"{len(base.metadata['dataset']['lattices'])} lattices of L = {L} spins from {base.name}.")
    else:
        L = int(A.shape[0])
        out["L"] = L
        out["n_lattices"] = int(st.number_input("training lattices N_L", 1, 100, 10, key="tr_NL"))
        edges = min(n_pairs(L), int(A.sum()) // 2 or 1)
        out["family_params"] = {"n_edges": int(st.number_input("edges per lattice", 0, n_pairs(L), edges, key="tr_E"))}
        if st.checkbox(f"include the current lattice (L = {L}, Lattice page)", True, key="tr_include"):
            out["include"] = A
    states = 2**L
    out["per_lattice"] = int(
        st.number_input("training instances per lattice", 1, 100_000, min(200, states * 3 // 4), key="tr_n")
    )
    out["test_per_lattice"] = int(
        st.number_input("test instances per lattice", 0, 10_000, min(50, states // 4), key="tr_nt")
    )
    out["T"] = float(st.select_slider("temperature T", T_VALUES, value=0.4, format_func=lambda v: f"{v:g}", key="tr_T"))
    out["tau"] = float(st.number_input("time step τ", 0.01, 1.0, 0.1, 0.01, key="tr_tau"))
    out["M"] = int(st.number_input("time points M", 2, 500, base.config.M if base else 50, key="tr_M"))
    out["noise"] = float(st.number_input("observation noise σ", 0.0, 1.0, 0.0, 0.01, key="tr_noise"))
    out["seed"] = int(st.number_input("dataset seed (lattices, states)", 0, 2**31 - 1, 0, key="tr_seed"))
    with st.expander("unseen lattices (generalization)"):
        out["general_lattices"] = int(st.number_input("unseen lattices", 0, 50, 5, key="tr_NG"))
        out["general_per_lattice"] = int(st.number_input("instances per unseen lattice", 1, 1000, 40, key="tr_nG"))
    return out


def network_inputs(base: LoadedModel | None) -> dict[str, Any]:
    """Encoding (and, from scratch, network size) widgets; returns the arguments of ``network_config``."""
    st.subheader("Network")
    default = base.config.encoding if base is not None else ModelConfig.encoding
    enc = st.selectbox(
        "input encoding",
        ENCODINGS,
        ENCODINGS.index(default),
        format_func=ENCODING_TEXT.get,
        key="tr_enc",
        help=ENCODING_HELP,
    )
    if base is not None:
        c = base.config
        st.caption(f"Architecture of {base.name}: channels {list(c.channels)}, hidden {c.hidden}, squeeze {c.squeeze}.")
        return {"encoding": enc}
    with st.expander("network size"):
        channels = st.text_input("convolution channels", ",".join(map(str, ModelConfig.channels)), key="tr_channels")
        hidden = int(st.number_input("dense width", 1, 2048, ModelConfig.hidden, key="tr_hidden"))
        squeeze = int(st.number_input("squeeze channels (0: none)", 0, 256, ModelConfig.squeeze, key="tr_squeeze"))
    return {"encoding": enc, "channels": channels, "hidden": hidden, "squeeze": squeeze}


def train_inputs() -> TrainConfig:
    st.subheader("Optimisation")
    epochs = int(st.number_input("epochs", 1, 500, 8, key="tr_epochs"))
    batch = int(st.select_slider("batch size", [16, 32, 64, 128, 256, 512], 32, key="tr_batch"))
    lr = float(st.number_input("peak learning rate", 1e-5, 1.0, 2e-3, format="%.4f", key="tr_lr"))
    seed = int(st.number_input("training seed (initialisation, batch order)", 0, 2**31 - 1, 0, key="tr_tseed"))
    return TrainConfig(epochs=epochs, batch_size=batch, lr=lr, seed=seed)


def base_choice(models: Mapping[str, LoadedModel], general: bool) -> tuple[LoadedModel | None, str]:
    """What to start from (CNNs for a CNN, general models for a general one) and the new model's name."""
    left, right = st.columns([2, 1])
    if general:
        names = [k for k, m in models.items() if m.is_general]
        help_ = "continue from a general model's weights (a fresh learning-rate schedule), or start from scratch"
        label = left.selectbox("continue from", [SCRATCH, *names], key="tr_gbase", help=help_)
        name = right.text_input("name of the new model", "my_general", key="tr_gname", help="letters, digits, - and _")
    else:
        names = [k for k, m in models.items() if not m.is_general]
        help_ = "fine-tuning starts from a trained network (the paper pre-trains at T = 0.1, then fine-tunes at high T)"
        label = left.selectbox("start from", [SCRATCH, *names], key="tr_base", help=help_)
        name = right.text_input("name of the new model", "my_model", key="tr_name", help="letters, digits, - and _")
    base = models.get(label)
    if base is not None:
        st.caption(f"Base: {base.summary()}")
    return base, name


def general_inputs() -> dict[str, Any]:
    """General-model widgets; returns the arguments of ``start_general_job`` (steps, seed, lr, threads, overrides)."""
    st.subheader("General model")
    d = GeneralTrainConfig()
    steps = int(
        st.number_input(
            "Adam steps",
            1,
            100_000,
            GENERAL_STEPS,
            key="tr_gsteps",
            help=f"each step trains on freshly simulated lattices. {GENERAL_STEPS} steps take about a minute on 2"
            " cores and reach a held-out accuracy near 0.85 (trivial level 0.59; the shipped model 0.86 on the same"
            " instances). The shipped model: 1,800 scheduled steps stopped after 682, then 450 more at peak lr 5e-4"
            " (about 11 minutes on 2 cores).",
        )
    )
    L_min, L_max = st.slider("lattice sizes L", 3, 64, (d.L_min, d.L_max), key="tr_gL", help="one L per batch")
    lo, hi = st.columns(2)
    T_min = float(lo.number_input("lowest T", 0.01, 1000.0, d.T_min, key="tr_gTmin", help="T log-uniform"))
    T_max = float(hi.number_input("highest T", 0.01, 1000.0, d.T_max, key="tr_gTmax"))
    noise = float(
        st.slider(
            "noisy fraction",
            0.0,
            1.0,
            d.noise_fraction,
            0.05,
            key="tr_gnoise",
            help=f"share of instances with observation noise, σ log-uniform in [{d.noise_min:g}, {d.noise_max:g}]",
        )
    )
    seed = int(st.number_input("seed (lattices, instances, initialisation)", 0, 2**31 - 1, d.seed, key="tr_gseed"))
    lr = float(st.number_input("peak learning rate", 1e-5, 1.0, d.lr, format="%.4f", key="tr_glr"))
    threads = int(
        st.number_input("CPU threads", 1, 64, default_threads(), key="tr_gthreads", help="the weights depend on it")
    )
    overrides = {"L_min": L_min, "L_max": L_max, "T_min": T_min, "T_max": T_max, "noise_fraction": noise}
    return {"steps": steps, "seed": seed, "lr": lr, "threads": threads, "overrides": overrides}


def network_config(net: Mapping[str, Any]) -> ModelConfig | None:
    """A from-scratch ``ModelConfig`` from ``network_inputs`` (None when fine-tuning); ``ValueError`` if bad."""
    if "channels" not in net:
        return None
    text = str(net["channels"])
    bad = f"channels must be comma-separated integers, e.g. 32,64; got {show(text)}"
    if len(text) > 200:
        raise ValueError(bad)
    try:
        channels = tuple(int(c) for c in text.replace(" ", "").split(","))
    except ValueError:
        raise ValueError(bad) from None
    return ModelConfig(channels=channels, hidden=net["hidden"], squeeze=net["squeeze"], encoding=net["encoding"])


def make_job(
    ds: dict[str, Any], net: Mapping[str, Any], tc: TrainConfig, base: LoadedModel | None, name: str
) -> tuple[TrainingJob, Cost]:
    """Check every setting (``ValueError`` saying what to change); the job (not started) and its estimated cost.
    A run without test instances is refused: its curves and summary would have nothing to show."""
    check_model_name(name)
    tc.validate()
    spec = dataset_spec(**ds)
    if spec.n_test < 1:
        raise ValueError("set at least 1 test instance per lattice: the test accuracy is what the run reports")
    n = spec.n_train + spec.n_test + spec.n_general
    check_memory(spec.estimated_bytes(), f"a dataset of {n:,} instances of L = {spec.L}, M = {spec.M}")
    config = model_config_for(spec, base, network_config(net), encoding=net["encoding"])
    job = TrainingJob(spec, config, tc, init=base, name=name)
    return job, training_cost(spec, config, tc)


def make_general_job(
    settings: Mapping[str, Any], base: LoadedModel | None, name: str
) -> tuple[GeneralTrainingJob, Cost]:
    """Check ``general_inputs``' settings (``ValueError`` saying what to change); the job (not started) and its
    estimated cost."""
    check_model_name(name)
    if base is not None and not base.is_general:
        raise ValueError(f"a general model continues only from a general model; {base.name} is a CNN")
    s = dict(settings)
    tc = recipe_config(s.pop("steps"), s.pop("seed"), s.pop("lr"), s.pop("overrides"))
    return GeneralTrainingJob(tc, init=base, name=name, **s), general_training_cost(tc, s.get("threads"))


TRIVIAL_HELP = "accuracy of guessing 'no edge' for every pair"
MAJORITY_HELP = (
    "majority-label accuracy: predicting, for every pair, the label most training lattices give it, without reading"
    " the instance; a network that learns nothing from the instances sits there"
)


# ---------------------------------------------------------------- the live panel
def poll(kind: str, draw: Callable[[Any], None]) -> None:
    """Draw the visitor's latest job of ``kind`` (its place in the queue while it waits); while it waits or runs,
    redraw it every second (a fragment). When it finishes, the whole page reruns once so that what depends on the
    result appears."""
    first = visitor.ticket(kind)
    if first is None:
        return
    active = first.active

    @st.fragment(run_every=1.0 if active else None)
    def panel() -> None:
        visitor.heartbeat()  # a visitor watching their job is here
        t = visitor.ticket(kind)
        if t is None:
            return
        # Both slots exist whether or not they hold anything, so the job's progress bar keeps its place in the
        # fragment when the queue line goes away: otherwise, for one redraw, the stale bar shows beside the new one.
        queue_slot, stopped_slot = st.container(), st.container()
        line = visitor.queue_line(t)
        if line is not None:
            queue_slot.info(line)
            if queue_slot.button("Cancel (leave the queue)", key=f"cancel_{kind}"):
                visitor.manager().stop(t)
                st.rerun()
        if t.why and t.state != "queued":
            stopped_slot.warning(f"Stopped by the server: {t.why}.")
        draw(t.job)
        if active and not t.active:
            st.rerun()

    panel()


def _levels(job: AnyJob) -> dict[str, float | None]:
    if isinstance(job, GeneralTrainingJob):
        return {"trivial": job.trivial, "majority": None}  # every held-out instance has its own lattice
    spec = job.dataset_spec
    return reference_levels({"dataset": spec.to_dict()}) if spec is not None else {"trivial": None, "majority": None}


def draw_job(job: AnyJob) -> None:
    """Progress bar, Stop button and training curves of one job (a general model's: per record of steps, the
    held-out accuracy on unseen L = 12 lattices beside its trivial level)."""
    s = job.snapshot()
    loss = f" · batch loss {s.loss:.4f}" if s.loss is not None and not s.done else ""
    epoch = max(s.epoch, 1) if s.phase == "training" else s.epoch
    where = f"step {s.step}/{s.steps}" if s.steps is not None else f"epoch {epoch}/{s.epochs}"
    st.progress(s.fraction, text=f"{job.name}: {s.phase} · {where} · {s.seconds:.0f} s{loss}")
    if not s.done:
        label = "Stopping after this batch…" if job.stop_requested else "Stop (keep the best model so far)"
        if st.button(label, key=f"stop_{job.id}", disabled=job.stop_requested):
            job.stop()
            if job.join(1.0):  # it usually ends within a second: show its result now, not at the next poll
                st.rerun(scope="app")
    lv = _levels(job)
    title = None
    if isinstance(job, GeneralTrainingJob):
        every = job.train_config.steps_per_epoch
        title = f"one epoch = {every} steps on fresh lattices · test = held-out unseen L = 12 lattices"
    fig = training_curves(s.history, trivial=lv["trivial"], majority=lv["majority"], title=title)
    st.plotly_chart(fig, key="tr_curves")


def register(job: AnyJob) -> str | None:
    """Put a finished job's model into the visitor's models (once); returns its name there."""
    done = visitor.visitor().data.setdefault("registered_jobs", {})
    if job.id not in done and job.model is not None:
        models = session_models()
        done[job.id] = unique_name(job.name, models)
        models[done[job.id]] = job.model
    return done.get(job.id)


def finished_panel(job: AnyJob) -> None:
    """Summary of a finished job, then save and download its model."""
    if job.error:
        st.error(f"Training failed: {job.error}")
        return
    name = register(job)
    if job.model is None or name is None:
        st.warning("Stopped before the first training step finished: no model was made.")
        return
    if isinstance(job, GeneralTrainingJob):
        _general_summary(job, job.model, name)
        model_files(job.model, name)
        return
    m = job.model.metadata.get("metrics") or {}
    general = (m.get("general") or {}).get("accuracy")
    c = st.columns(5)
    c[0].metric("test accuracy", _fmt(m.get("accuracy")), help="same lattices, initial states not seen in training")
    c[1].metric("trivial guess", _fmt(m.get("trivial_accuracy")), help=TRIVIAL_HELP)
    c[2].metric("majority label", _fmt(m.get("majority_accuracy")), help=MAJORITY_HELP)
    c[3].metric("unseen lattices", _fmt(general), help="accuracy on lattices never seen in training")
    c[4].metric("best epoch", f"{m.get('best_epoch')} / {len(job.model.metadata.get('history', []))}")
    how = "stopped by you; the best epoch so far is kept" if m.get("stopped") == "stop flag" else m.get("stopped")
    st.success(f"Model '{name}' ({how}, {m.get('seconds', 0):.0f} s of training) is in this session's models.")
    model_files(job.model, name)


def _general_summary(job: GeneralTrainingJob, model: LoadedModel, name: str) -> None:
    m = model.metadata.get("metrics") or {}
    c = st.columns(4)
    c[0].metric("held-out accuracy", _fmt(m.get("held_out_accuracy")), help="best record; unseen L = 12 lattices")
    c[1].metric("trivial guess", _fmt(job.trivial), help=f"{TRIVIAL_HELP}, on the same held-out instances")
    c[2].metric("steps", f"{m.get('steps_done')} / {job.train_config.steps}")
    c[3].metric("best epoch", f"{m.get('best_epoch')} / {len(model.metadata.get('history', []))}")
    how = "stopped by you; the best record so far is kept" if m.get("stopped") == "stop flag" else m.get("stopped")
    st.success(
        f"General model '{name}' ({how}, {m.get('seconds', 0):.0f} s of training) is in this session's models;"
        " Predict offers it for a lattice of any size."
    )


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, (int, float)) and math.isfinite(v) else "—"


# ---------------------------------------------------------------- barren plateau
def plateau_runs(models: Mapping[str, LoadedModel]) -> dict[float, dict[str, LoadedModel]]:
    """Shipped models named ``{scratch,finetune,decay,pretrain}_T{T}`` grouped by T, e.g. {50.0: {"scratch": m}}."""
    out: dict[float, dict[str, LoadedModel]] = {}
    for name, model in models.items():
        match = _PLATEAU_NAME.fullmatch(name)
        if match:
            out.setdefault(float(match.group(2)), {})[match.group(1)] = model
    return out


def plateau_caption(histories: Mapping[str, list], levels: Mapping[str, float | None], T: float) -> str:
    """What the curves show, in numbers read from the histories."""
    majority, trivial = levels.get("majority"), levels.get("trivial")
    parts = []
    for label, h in histories.items():
        acc = last_value(h, "test_accuracy")
        if acc is None:
            continue
        where = ""
        if majority is not None:
            gap = acc - majority
            where = " — on the plateau" if abs(gap) < 0.01 else f" — {gap:+.3f} vs the plateau"
        parts.append(f"**{label}** ends at test accuracy {acc:.3f} after {len(h)} epochs{where}")
    text = f"At T = {T:g}: " + "; ".join(parts) + "." if parts else f"At T = {T:g}: no test accuracy recorded."
    if majority is not None:
        text += (
            f" The plateau level {majority:.3f} is the majority-label accuracy: predicting, for every pair, the label"
            f" most training lattices give it, without reading the instance (trivial 'no edge' guess: {_fmt(trivial)})."
        )
    return text + (
        " The paper's from-scratch plateau at T = 100 lasts ~10^4 epochs before it escapes; that is far beyond a CPU"
        " budget, so these runs show how each start behaves in its first epochs, not the late escape."
    )


def draw_queue(queue: JobQueue) -> None:
    """Progress of a queue of runs, a Stop button, and their accuracy / gradient-norm curves side by side."""
    snaps = queue.snapshot()
    current = queue.current
    ended = "stopped" if any(j.stop_requested for j in queue.jobs.values()) else "done"
    now = f"running {current}: {snaps[current].phase}, epoch {snaps[current].epoch}" if current else ended
    st.progress(queue.fraction, text=f"{len(snaps)} runs · {now}")
    if not queue.done and st.button("Stop all (keep what was trained)", key="pl_stop"):
        queue.stop()
    for label, s in snaps.items():
        if s.error:
            st.error(f"{label}: {s.error}")
    runs = {k: s.history for k, s in snaps.items() if not k.startswith("pre-train")}
    first = next(iter(queue.jobs.values()))
    lv = _levels(first)
    st.plotly_chart(compare_histories(runs, trivial=lv["trivial"], majority=lv["majority"]), key="pl_live_fig")
    if queue.done:
        T = next((j.spec.T for k, j in queue.jobs.items() if not k.startswith("pre-train")), float("nan"))
        st.markdown(plateau_caption(runs, lv, T))
