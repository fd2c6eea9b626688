"""Month-scale simulator and Erlang staffing around the routing engine (no Django).

Modules: scenario (TOML), traffic (generation), runner (event loop driving allo.routing.Engine),
erlang (Erlang B/C/A), report (charts, HTML), cli (`allo simulate|erlang|staffing`).
"""
