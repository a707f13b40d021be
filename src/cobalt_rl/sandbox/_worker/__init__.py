"""The warm worker that runs INSIDE the sandbox (standard library only; it cannot import
cobalt_rl). This directory is bound into the sandbox as it is and run as ``python DIR``.

One worker lives in each sandbox. It pre-imports the modules solutions commonly use, then
serves requests from the host over a pair of pipes (:mod:`.worker`). A request is one program
and the inputs of one or more of its tests. The worker forks a child from the warm interpreter
(~1 ms instead of the 20–45 ms of a fresh interpreter in a fresh sandbox); the child drops into
rlimits, compiles the program once and runs it on the tests one at a time, when the worker
says so, each in a fresh module namespace with fresh stdin/stdout/stderr (:mod:`.harness`),
and reports each test through a private pipe (:mod:`.child`). A test the child does not finish
cleanly ends it; the next test gets a new child. The worker enforces the wall-clock limits
(per test, and the program's budget across the tests of a request) and caps output; when a
child ends it kills every process the program left behind, wipes its private writable
directories (``/tmp``, and ``/dev/shm`` in bubblewrap) and removes System V IPC objects
(:mod:`.cleanup`).

The worker never sees expected outputs: the host compares outputs outside the sandbox, so a
program that inspects its own memory (a fork of the worker's) finds no answers to copy.

A test's status is a code (see :mod:`.harness`), reported by the child after the test ran, or
the child's exit status when it died (a program can lie only about its own outcomes, and gains
nothing by it: outputs are still compared on the host).

Modules: :mod:`.harness` runs a program on one test (the single source the SandboxFusion
driver is generated from); :mod:`.child` forks and drives the children; :mod:`.cleanup` ends
what a program left; :mod:`.worker` is the main loop; ``__main__.py`` starts it.

This file must stay free of code: the host imports :mod:`.harness` through it.
"""
