"""Export for other training engines: verl on Ray (:mod:`cobalt_rl.export.verl`)."""
