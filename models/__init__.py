"""Model runtimes behind small interfaces: embedders (local sentence-transformers, OpenAI)."""
