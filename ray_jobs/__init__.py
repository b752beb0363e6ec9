"""Batch jobs, one module each, runnable as `python -m ray_jobs.<job>` (what `ray job submit` runs)."""
