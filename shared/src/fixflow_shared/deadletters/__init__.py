"""Dead letters: list, show, replay and discard them, audited (box), over HTTP (api) and from a
command line (cli, `python -m fixflow_shared.deadletters`)."""

from fixflow_shared.deadletters.box import DeadLetter, DeadLetterBox, add_dead_letter_table, create_dead_letter_table_v1

__all__ = ["DeadLetter", "DeadLetterBox", "add_dead_letter_table", "create_dead_letter_table_v1"]
