"""Building and running candle's container images (import name ``candle_containers``)."""
