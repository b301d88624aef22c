"""CANDLE-compatible parameters: keyword definitions, model files, flags, resolution with sources."""
