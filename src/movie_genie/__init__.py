"""Movie Genie: an open movie recommender trained on MovieLens that runs on your own machine."""

__version__ = "0.1.0"
