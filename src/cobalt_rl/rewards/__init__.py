"""Rewards: pure functions of (execution result, reply, context) to a float.

- :mod:`~cobalt_rl.rewards.scores`: the reward functions (TRL's contract), their registry and
  the batch scorer that runs replies in the sandbox.
- :mod:`~cobalt_rl.rewards.reply_format`: the format term's reading of a reply (thinking
  marker, length in tokens).
"""
