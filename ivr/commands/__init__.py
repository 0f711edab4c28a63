"""The bodies of the ``ivr`` command, one module per command group; ``ivr.cli`` parses
the arguments and dispatches here. Commands open Redis and build the stores with
``common.open_services``; they may import every room but ``cli``."""
