"""Training backends: each realizes candle's neutral model description in one framework."""
