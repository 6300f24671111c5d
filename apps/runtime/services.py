"""The runtime's public names, for callers that knew them here (tests, management commands): a facade.

The code lives by job: apps.runtime.scheduling (claim, leases, heartbeats, recovery) and
apps.runtime.runner (the agent loop). Session and turn transitions are apps.sessions.turns.
"""

from .runner import TurnRunner, generation_message, turn_run_pending
from .scheduling import turn_claim, turns_recover_stale

__all__ = ["TurnRunner", "generation_message", "turn_claim", "turn_run_pending", "turns_recover_stale"]
