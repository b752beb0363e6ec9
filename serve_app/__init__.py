"""Ray Serve application of the Hélio catalog search: deployments, FastAPI ingress, builders."""
