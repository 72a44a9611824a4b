"""Data layer: sources (registry, download, checksums), MovieLens readers, enrichment, canonical tables, split."""
