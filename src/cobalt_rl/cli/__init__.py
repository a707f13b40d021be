"""The ``cobalt`` command: one module per subcommand, each thin (parse, call the library, print).

A subcommand module defines ``register(subparsers)``; heavy imports happen inside the function
that runs the command, so ``cobalt --help`` stays fast.
"""
