"""Recommenders behind one protocol: popularity, ease, bert4rec, two_tower, hybrid."""
