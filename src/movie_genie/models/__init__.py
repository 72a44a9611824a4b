"""Recommenders behind one protocol: popularity, ease, bert4rec, sasrec, two_tower, hybrid."""
