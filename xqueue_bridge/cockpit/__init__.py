"""
The operators' cockpit: the migration dashboard, the operators' API, health and metrics.

It sits above every other room (it reads the queue, the rollout and shadow's comparisons); nothing in the
core imports it.
"""
