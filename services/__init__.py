"""Application services: the use cases the API serves (catalog search, Hélio's answers and its tool, kit
recommendation and quotes, the homologação check, health), written against the kernel's interfaces and
the loaders and clients the entry point hands them. No HTTP, no Ray: `serve_app` wires and routes them."""
