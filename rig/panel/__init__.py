"""`rig panel`: a run seen, steered and answered from a browser (FastAPI + server-sent
events from the run's own append-only store; one static page, plain JavaScript)."""
