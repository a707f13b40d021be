"""Cobalt's contexts: partial trajectories the policy learns to complete in one step.

- :mod:`~cobalt_rl.contexts.build`: from trajectories to contexts (dynamic sampling, prefixes,
  the previous best pass rate, perturbation).
- :mod:`~cobalt_rl.contexts.downsample`: max-variance down-sampling of a problem's samples.
- :mod:`~cobalt_rl.contexts.replay_reference`: a scripted reference (known-wrong programs, their
  real feedback, a pass) and mixing its contexts with the policy's own.
"""
