"""Keeping the garbage collector's full passes off what lives as long as the process.

CPython's collector finds reference cycles by walking the objects it tracks. Once the app has
started, about 300,000 of them (modules, classes, FastAPI's routes and dependency trees,
pydantic's and SQLAlchemy's schemas, the compiled statements) live until the process stops,
and a collection of the oldest generation walks them all: 150-190 ms on the 2-core machine of
bench/README.md, during which the worker answers nothing. Under load the requests in flight
keep their objects alive across young collections, so those survive into the oldest generation
and trigger such a pass every few thousand requests: a stall for every request in flight, the
p99 of the measurements.

`frozen_after_startup()` collects once when the app has started and moves everything that
survived into the collector's permanent generation (`gc.freeze()`): it is never walked again,
so a full pass walks only what was made since. Objects are still freed by reference counting;
only cycles among the frozen ones would stay (there are none worth the walk: they are the
app). Stopping the app unfreezes them (a test process starts many apps in turn).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def freeze() -> None:
    """Collect once, then keep every survivor out of later full passes."""
    gc.collect()
    gc.freeze()


@contextmanager
def frozen_after_startup() -> Iterator[None]:
    freeze()
    try:
        yield
    finally:
        gc.unfreeze()
