"""The query-time ONNX encoder agrees with the torch model, caches queries, and batches consistently."""

from __future__ import annotations

import json
import os

import numpy as np

from movie_genie.search.encoder import OnnxEncoder, embed_texts, model_dir


def test_model_ships_in_the_wheel_and_loads_offline(sentence_model) -> None:
    assert (model_dir() / "model.safetensors").exists()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert sentence_model.max_seq_length == 256


def test_onnx_agrees_with_torch_on_real_titles(small_index, latest_small, sentence_model) -> None:
    titles = [f"{t} ({y})" for t, y in latest_small.movies[["title", "year"]].sample(100, random_state=0).values]
    titles += ["action movies with robots", "a heist that goes wrong", "Терминатор", "ターミネーター"]
    onnx = OnnxEncoder.load(small_index.path, small_index.config.encoder, small_index.config.onnx)
    ours = onnx.encode(titles)  # one padded batch
    reference = embed_texts(sentence_model, titles, batch_size=32)
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() >= 0.99, titles[int(cosine.argmin())]
    single = np.stack([onnx.embed_query(t) for t in titles[:20]])  # unpadded, one at a time
    np.testing.assert_allclose(single, ours[:20], atol=1e-4)
    manifest = json.loads((small_index.path / "manifest.json").read_text())
    assert manifest["onnx_min_cosine_vs_torch"] >= 0.99


def test_query_embeddings_are_cached(small_index) -> None:
    encoder = OnnxEncoder.load(small_index.path, small_index.config.encoder, small_index.config.onnx)
    first = encoder.embed_query("feel-good family animation")
    second = encoder.embed_query("feel-good family animation")
    assert first is second and not first.flags.writeable
    info = encoder.cache_info()
    assert (info.hits, info.misses) == (1, 1)
    encoder.cache_clear()
    assert encoder.cache_info().currsize == 0
    assert encoder.encode([]).shape == (0, 384)
