"""Settings, shared schemas and adapters (Postgres, vector store, object storage, embedded services)."""
