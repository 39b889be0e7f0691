"""summary.txt and ``recexp summary``: Keras' table whole, never cut at 80 columns
(issue 24, item 8)."""

from __future__ import annotations

from recexp.models.keras_model import SUMMARY_WIDTH, keras_summary
from recexp.models.neumf import NeuMFOptions

from .test_families import build, context


def test_the_summary_table_keeps_its_last_column(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("COLUMNS", raising=False)  # off a terminal, as a run writes it
    model = build(NeuMFOptions(gmf_dim=4, mlp_dim=4, mlp_layers=[8]), context())
    text = keras_summary(model).text
    assert "Connected to" in text and "Conne\n" not in text
    table = [line for line in text.splitlines() if line[:1] in "┏┃┡│├└"]
    assert table and {len(line) for line in table} == {SUMMARY_WIDTH}
    assert "user_input" in text.split("Connected to")[1]  # the inputs a layer reads
    import os

    assert "COLUMNS" not in os.environ  # put back
