"""Run as a process: deliver the outbox, but die (like kill -9) right after the first send.

Usage: python -m tests.agent.alerts.killed_sender CONFIG
"""

from __future__ import annotations

import os
import sys

from agent.alerts.delivery import make_sender
from agent.services import open_services
from agent.settings import load_settings
from storage.outbox import Outbox


def main(config: str) -> None:
    services = open_services(load_settings(config))

    def die_before_commit(*args: object, **kwargs: object) -> None:
        os._exit(9)  # the message is out, the database does not know yet

    Outbox.mark_sent = die_before_commit  # type: ignore[method-assign]
    make_sender(services).deliver_due()
    sys.exit("the sender was expected to die during its first delivery")


if __name__ == "__main__":
    main(sys.argv[1])
