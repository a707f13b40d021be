"""The line a long job prints before it starts says how long it takes, and warns on a CPU
that has to run in fp32."""

from __future__ import annotations

from pathlib import Path

from cobalt_rl.cli.run import announcement


def test_announcement_warns_only_without_native_bf16() -> None:
    fast = announcement(Path("configs/demo.yaml"), 15, native_bf16=True)
    assert fast == "configs/demo.yaml takes about 15 minutes on a 2-core CPU machine"
    slow = announcement(Path("configs/demo.yaml"), 15, native_bf16=False)
    assert slow.startswith(fast) and "no native bf16" in slow and "fp32" in slow
