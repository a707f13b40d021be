"""In-context reward hacking: perturbed tests, detection, classification and judge.

The probe and the defence of the paper (DESIGN.md "Perturbation"), one module per step:

- :mod:`~cobalt_rl.hacking.perturb`: swap two public tests' expected outputs, so that no
  correct program passes both (``cobalt perturb``; rolled out on, it is the probe; mixed into
  training contexts, the defence);
- :mod:`~cobalt_rl.hacking.detect`: find the turns where a model, shown a wrong expected
  output, changed its program to match it (:func:`detect_hacking`), then classify and sum them
  up (:func:`analyze_hacking`);
- :mod:`~cobalt_rl.hacking.verdicts`: the records: a :class:`TurnVerdict` per attempt, a
  :class:`HackingReport` per model (``hacking.json``);
- :mod:`~cobalt_rl.hacking.rules`: classify a flagged turn by documented rules;
- :mod:`~cobalt_rl.hacking.judge`: the optional LLM judge (prompt, reply parser, the call).

Its markdown, HTML, plots and the run report's section are :mod:`cobalt_rl.report.hacking`.

Imports go one way: ``verdicts`` and ``rules`` depend on nothing here; ``judge`` on them;
``detect`` on all three; nothing here on :mod:`cobalt_rl.report`.
"""

from cobalt_rl.hacking.detect import (
    analyze_hacking,
    detect_hacking,
    perturbed_indices,
    shown_perturbed_test,
    unified_diff,
)
from cobalt_rl.hacking.judge import (
    HACKING_JUDGE_PROMPT,
    FlaggedTurn,
    hacking_judge_messages,
    judge_flagged_turns,
    parse_judge_reply,
)
from cobalt_rl.hacking.perturb import PerturbReport, perturb_problem, perturb_problems
from cobalt_rl.hacking.rules import (
    CATEGORIES,
    LOCAL_EDIT_SIMILARITY,
    Category,
    classify_rules,
    similarity,
)
from cobalt_rl.hacking.verdicts import HackingReport, TurnRate, TurnVerdict

__all__ = [
    "CATEGORIES",
    "HACKING_JUDGE_PROMPT",
    "LOCAL_EDIT_SIMILARITY",
    "Category",
    "FlaggedTurn",
    "HackingReport",
    "PerturbReport",
    "TurnRate",
    "TurnVerdict",
    "analyze_hacking",
    "classify_rules",
    "detect_hacking",
    "hacking_judge_messages",
    "judge_flagged_turns",
    "parse_judge_reply",
    "perturb_problem",
    "perturb_problems",
    "perturbed_indices",
    "shown_perturbed_test",
    "similarity",
    "unified_diff",
]
