"""The model file's metadata document: what ``check_document`` accepts and the first thing it refuses."""

from __future__ import annotations

import copy

import pytest

from isingviz.data import DatasetSpec
from isingviz.learn.general.train import GeneralTrainConfig
from isingviz.learn.metadata import check_document, jsonable
from isingviz.learn.model_config import ModelConfig

CNN = ModelConfig(L=5, M=8, channels=(2,), squeeze=2, hidden=4)
DOC = {
    "format": "isingviz-model",
    "version": 1,
    "model_config": CNN.to_dict(),
    "train_config": None,
    "T": 0.4,
    "tau": 0.1,
    "M": 8,
    "encoding": "saturation",
    "dataset": DatasetSpec(L=5, M=8, n_lattices=2, n_train=8, n_test=2, family_params={"n_edges": 3}).to_dict(),
    "history": [{"epoch": 1, "test_accuracy": 0.9, "lr": None}],
    "metrics": {"test_accuracy": 0.9, "stopped": "completed", "general": {"accuracy": 0.5}},
    "name": "tiny",
}


def changed(**changes) -> dict:
    doc = copy.deepcopy(DOC)
    doc.update(changes)
    return doc


def test_a_good_document_gives_its_config() -> None:
    assert check_document(DOC) == CNN
    general = ModelConfig(arch="general", encoding="raw", hidden=4)
    doc = changed(model_config=general.to_dict(), M=50, encoding="raw", dataset=GeneralTrainConfig().to_dict())
    assert check_document(doc) == general


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"version": True}, "metadata version True is not supported"),
        ({"T": 0}, "metadata 'T' must be a finite number > 0"),
        ({"M": 9}, "metadata 'M'=9 contradicts model_config's 8"),
        ({"dataset": {"L": 5, "replicas": 10**9}}, "not a CNN's dataset: dataset replicas must be"),
        ({"dataset": GeneralTrainConfig().to_dict()}, "not a CNN's dataset: unknown dataset fields"),
        ({"train_config": {"threads": -3}}, "not a CNN's train config: threads must be an integer from 1 to 64"),
        ({"history": {"epoch": 1}}, "'history' must be a list of records"),
        ({"history": [{"epoch": float("nan")}]}, "numbers only"),
        ({"metrics": {"general": {"accuracy": "x"}}}, "metric 'accuracy' must be a finite number"),
        ({"name": "x" * 10_001}, "metadata 'name' must be text of at most 10,000 characters"),
    ],
    ids=["bool-version", "T", "M", "cnn-replicas", "cnn-general-dataset", "threads", "history-object", "history-nan",
         "metric", "name"],
)  # fmt: skip
def test_the_first_bad_field_is_named(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_document(changed(**changes))


def test_jsonable_keeps_json_and_drops_non_finite_numbers() -> None:
    assert jsonable({"a": (1, 2.5, float("inf"))}, "x") == {"a": [1, 2.5, None]}
    with pytest.raises(ValueError, match="only JSON values"):
        jsonable({"a": object()}, "metrics")
