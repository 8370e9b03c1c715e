"""Dataset contract, synthetic generator and table I/O."""
