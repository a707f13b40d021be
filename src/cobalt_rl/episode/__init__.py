"""The multi-turn episode: prompt, attempt, execution, feedback, stop rule, token accounting.

- :mod:`~cobalt_rl.episode.config`: :class:`EpisodeConfig`, the one model of how an episode runs.
- :mod:`~cobalt_rl.episode.prompts`: the system prompt, first turn and feedback turn.
- :mod:`~cobalt_rl.episode.engine`: the turn loop, written once; drivers feed it replies and
  execution results (batched and synchronous, or one episode at a time under asyncio).
- :mod:`~cobalt_rl.episode.tokens`: the token view of an episode (chat template, masks).
- :mod:`~cobalt_rl.episode.rollout`: the rollout stage (trajectories.jsonl) on the engine.
"""
