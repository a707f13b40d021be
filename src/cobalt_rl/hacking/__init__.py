"""In-context reward hacking: perturbed tests, detection, classification, judge and report.

- :mod:`~cobalt_rl.hacking.perturb`: swap two public tests' expected outputs, so that no
  correct program passes both (the probe, and the paper's training defence);
- :mod:`~cobalt_rl.hacking.detect`: find the turns where a model, shown a wrong expected
  output, changed its program to match it;
- :mod:`~cobalt_rl.hacking.rules`: classify a flagged turn by documented rules;
- :mod:`~cobalt_rl.hacking.judge`: the optional LLM judge's prompt;
- :mod:`~cobalt_rl.hacking.report`: markdown, HTML and plots.
"""
