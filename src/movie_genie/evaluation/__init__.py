"""Metrics and the evaluation report (JSON + Markdown + plots)."""
