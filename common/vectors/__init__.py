"""The vector index's backends: Qdrant Edge in-process (`edge`), a Qdrant server (`server`), the owner actor
that serialises access to an Edge shard (`owner`), and the factory that picks one (`factory`). The
interface they implement and its types are the kernel's (`kernel.vectors`)."""
