"""Where the process is in its life: serving, or draining before it stops.

The server (app/core/serving.py) marks the app as draining when it is told to stop; readiness
then answers 503 so load balancers stop sending new requests, every answer asks the client to
close its connection, and the server keeps serving until the drain period is over.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Lifecycle:
    draining: bool = False
