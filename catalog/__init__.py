"""The catalog domain: feed parsing and normalisation, product identity, search and ranking (pure, no I/O)."""
