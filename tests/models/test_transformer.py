"""What SASRec and BERT4Rec share (models/transformer.py), tested on both: checkpoints, the sampled softmax with text
features, refit, and configs read from params.yaml."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 (the PyTorch convention)

from movie_genie.models.base import ModelConfigError, TrainingData
from movie_genie.models.bert4rec import Bert4Rec
from movie_genie.models.common import with_validation_in_train
from movie_genie.models.sasrec import SasRec
from movie_genie.models.sequences import SOFTMAX_CHUNK_ROWS, full_softmax_loss
from movie_genie.models.transformer import SequenceConfig, SequenceRecommender
from tests.models.conftest import BERT4REC_SMALL, SASREC_SMALL

SMALL = [pytest.param(SasRec, SASREC_SMALL, id="sasrec"), pytest.param(Bert4Rec, BERT4REC_SMALL, id="bert4rec")]


@pytest.fixture(params=["sasrec", "bert4rec"])
def trained(request: pytest.FixtureRequest) -> SequenceRecommender:
    """Each model as its own tests trained it (conftest's session fixtures: trained once for both files)."""
    model: SequenceRecommender = request.getfixturevalue(f"trained_{request.param}")[0]
    return model


def test_checkpoint_round_trip_gives_identical_scores(trained: SequenceRecommender, tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    trained.save(path)
    loaded = type(trained).load(path)
    histories = [[], [0], list(range(10, 80))]
    np.testing.assert_array_equal(trained.score_batch(histories), loaded.score_batch(histories))
    assert loaded.config == trained.config


def test_refit_fine_tunes_on_validation_rows(
    trained: SequenceRecommender, ml100k_slice: TrainingData, tmp_path: Path
) -> None:
    trained.save(tmp_path / "model.pt")
    copy = type(trained).load(tmp_path / "model.pt")
    copy.config = copy.config.changed(refit_epochs=1)
    log = copy.refit(with_validation_in_train(ml100k_slice))
    assert len(log.epochs) == 1 and np.isfinite(log.epochs[0]["loss"])
    assert not np.allclose(copy.score_batch([[0, 5, 9]]), trained.score_batch([[0, 5, 9]]))


@pytest.mark.parametrize(("model_class", "small"), SMALL)
def test_sampled_softmax_and_text_features_train(
    model_class: type[SequenceRecommender], small: SequenceConfig, ml100k_slice: TrainingData, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    text = rng.normal(size=(ml100k_slice.id_map.n_items, 16)).astype(np.float32)
    data = replace(ml100k_slice, item_text_embeddings=text / np.linalg.norm(text, axis=1, keepdims=True))
    model = model_class(small.changed(max_epochs=1, full_softmax_max_items=100, sampled_negatives=256))
    log = model.fit(data)
    assert np.isfinite(log.epochs[0]["loss"])
    assert model.net is not None and model.net.content.text_proj is not None
    model.save(tmp_path / "model.pt")
    loaded = model_class.load(tmp_path / "model.pt")
    np.testing.assert_array_equal(loaded.score_batch([[1, 2]]), model.score_batch([[1, 2]]))


# A params.yaml key the model does not have: the other model's, or neither's.
@pytest.mark.parametrize(("model_class", "unknown_key"), [(SasRec, "mask_prob"), (Bert4Rec, "hidden_size")])
def test_config_from_params_applies_dataset_overrides(model_class: type[SequenceRecommender], unknown_key: str) -> None:
    config_class = model_class.config_class
    section = {"dim": 48, "heads": 4, "per_dataset": {"ml-latest-small": {"max_len": 150}}}
    assert config_class.from_params(section, "ml-latest-small").max_len == 150
    assert config_class.from_params(section, "ml-100k").max_len == model_class().config.max_len
    assert model_class.from_params(section).config.dim == 48
    with pytest.raises(ModelConfigError, match=unknown_key):
        config_class.from_params({unknown_key: 64})
    with pytest.raises(ModelConfigError, match="divisible"):
        config_class.from_params({"dim": 30, "heads": 4})


@pytest.mark.parametrize("avoid_weight", [0.0, 50.0])
def test_full_softmax_loss_matches_autograd(avoid_weight: float) -> None:
    """The chunked loss with its hand-written gradient gives autograd's value and gradients for the plain formula:
    cross-entropy over the whole catalogue plus the weighted "not to recommend" term on the rows that have one."""
    generator = torch.Generator().manual_seed(0)
    n_rows, n_items, dim = SOFTMAX_CHUNK_ROWS * 2 + 7, 300, 16  # a last block shorter than the others
    hidden = torch.randn(n_rows, dim, generator=generator)
    items = torch.randn(n_items, dim, generator=generator) * 0.5
    bias = torch.randn(n_items, generator=generator) * 0.1
    targets = torch.randint(0, n_items, (n_rows,), generator=generator)
    avoid = torch.where(torch.rand(n_rows, generator=generator) < 0.3, torch.randint(0, n_items, (n_rows,)), -1)
    avoid[0] = int(torch.argmax(hidden[0] @ items.T + bias))  # the state's favourite: a large p

    def leaves() -> list[torch.Tensor]:
        return [t.clone().requires_grad_() for t in (hidden, items, bias)]

    h, w, b = leaves()
    fused = full_softmax_loss(h, w, b, targets, avoid, avoid_weight)
    fused.backward()
    h2, w2, b2 = leaves()
    logits = F.linear(h2, w2, b2)
    expected = F.cross_entropy(logits, targets)
    rows = avoid.ge(0)
    log_p = F.log_softmax(logits[rows], dim=-1).gather(1, avoid[rows][:, None]).squeeze(1)
    expected = expected + avoid_weight * -torch.log((-torch.expm1(log_p)).clamp(min=1e-6)).mean()
    expected.backward()
    torch.testing.assert_close(fused, expected)
    for got, want in ((h, h2), (w, w2), (b, b2)):
        torch.testing.assert_close(got.grad, want.grad, rtol=1e-4, atol=1e-6)
    # Under no_grad (validation-style calls) the value is the same and no gradient is computed.
    with torch.no_grad():
        torch.testing.assert_close(full_softmax_loss(hidden, items, bias, targets, avoid, avoid_weight), expected)
