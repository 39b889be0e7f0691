"""Tests of recexp.embeddings: one file per module (layers, strategies, report)."""
