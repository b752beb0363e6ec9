"""Hélio's retrieval-augmented answering, as pure code: documents, chunking, routing, prompts, redaction."""
