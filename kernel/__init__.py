"""The pure kernel every layer may import: shared record types (`schemas`), the vector index's interface
and query types (`vectors`), the chat engine protocol (`chat`), one text folding (`text`) and personal-data
redaction (`pii`). It imports nothing else of this project, and no I/O library (import contracts in
pyproject.toml)."""
