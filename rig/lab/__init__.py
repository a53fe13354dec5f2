"""The laboratory: many benches, one record, shared stations.

`db`, `schema`, `migrations`: the results database (SQLAlchemy 2, alembic; SQLite by
default, PostgreSQL by URL). `upload`: a run folder into it, idempotent by run ID.
`queries`, `trend_plot`: questions across runs. `places`: benches and shared instruments
as labgrid places. `run`: what `rig run` does with all of these; `cli`: `rig db ...` and
`rig place ...`. `local`: PostgreSQL and labgrid's coordinator started on this machine,
for tests, benchmarks and trying it out. See docs/laboratory.md.
"""
