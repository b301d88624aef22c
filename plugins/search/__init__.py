"""Search algorithms, one module each, behind the ask/tell interface of candle_core.search.trial."""
