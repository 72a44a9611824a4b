"""Item content for the neural models: genres, release year and text embedding per item, and their projection.

Both BERT4Rec and Two-Tower add projected content to each item's learned id embedding, so a rarely rated film
borrows signal from its genres and description. The content arrays are registered as buffers of the network, so a
checkpoint rebuilds exactly the same item table on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from movie_genie.errors import MovieGenieError
from movie_genie.models.base import TrainingData


@dataclass
class ItemContent:
    """Per-item content features in item-index order: genres multi-hot (row-normalised), year, text embedding."""

    genres: np.ndarray  # (n_items, n_genres) float32, each row sums to 1 (or 0 without genres)
    genre_names: list[str]
    year: np.ndarray  # (n_items, 1) float32, standardised; 0 where unknown
    text: np.ndarray | None  # (n_items, d_text) float32 or None

    @classmethod
    def from_data(cls, data: TrainingData, use_text: bool = True) -> ItemContent:
        """Read genres and year from the movies table and the optional text embeddings."""
        movies = data.movies
        n_items = data.id_map.n_items
        if len(movies) != n_items:
            raise MovieGenieError(
                f"movies table has {len(movies)} rows but the id map has {n_items} items; rebuild the split"
            )
        genre_lists = [list(g) if g is not None else [] for g in movies["genres"]]
        names = sorted({g for gs in genre_lists for g in gs})
        column = {g: j for j, g in enumerate(names)}
        genres = np.zeros((n_items, max(len(names), 1)), dtype=np.float32)
        for i, gs in enumerate(genre_lists):
            for g in gs:
                genres[i, column[g]] = 1.0
        genres /= np.maximum(genres.sum(axis=1, keepdims=True), 1.0)
        years = pd.to_numeric(movies["year"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        known = np.isfinite(years)
        year = np.zeros((n_items, 1), dtype=np.float32)
        if known.any():
            mean, std = years[known].mean(), max(years[known].std(), 1.0)
            year[known, 0] = ((years[known] - mean) / std).astype(np.float32)
        text = None
        if use_text and data.item_text_embeddings is not None:
            text = np.asarray(data.item_text_embeddings, dtype=np.float32)
            if text.shape[0] != n_items:
                raise MovieGenieError(
                    f"item text embeddings have {text.shape[0]} rows, expected {n_items}; re-run `movie-genie embed`"
                )
        return cls(genres=genres, genre_names=names, year=year, text=text)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(genres, year, text) as tensors for ContentProjection."""
        text = torch.from_numpy(self.text) if self.text is not None else None
        return torch.from_numpy(self.genres), torch.from_numpy(self.year), text


class ContentProjection(nn.Module):
    """Linear projections of genres (n_items, n_genres), year (n_items, 1) and text (n_items, d_text) to `dim`.

    Any of the three may be None (that feature is then left out); with all three None it adds nothing.
    """

    genres: torch.Tensor
    year: torch.Tensor
    text: torch.Tensor

    def __init__(
        self,
        dim: int,
        genres: torch.Tensor | None = None,
        year: torch.Tensor | None = None,
        text: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.genre_proj: nn.Linear | None = None
        self.year_proj: nn.Linear | None = None
        self.text_proj: nn.Linear | None = None
        if genres is not None:
            self.register_buffer("genres", genres)
            self.genre_proj = nn.Linear(genres.shape[1], dim, bias=False)
        if year is not None:
            self.register_buffer("year", year)
            self.year_proj = nn.Linear(1, dim, bias=False)
        if text is not None:
            self.register_buffer("text", text)
            self.text_proj = nn.Linear(text.shape[1], dim, bias=False)

    def add_to(self, x: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        """`x` (n_items, d), or (len(items), d) for the given item indices, plus each projected feature in turn."""
        if self.genre_proj is not None:
            x = x + self.genre_proj(self.genres if items is None else self.genres[items])
        if self.year_proj is not None:
            x = x + self.year_proj(self.year if items is None else self.year[items])
        if self.text_proj is not None:
            x = x + self.text_proj(self.text if items is None else self.text[items])
        return x


def content_buffers(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor | None]:
    """The content arrays stored in a network's state dict (under `<prefix>genres` ...), for rebuilding it."""
    return {name: state.get(f"{prefix}{name}") for name in ("genres", "year", "text")}
