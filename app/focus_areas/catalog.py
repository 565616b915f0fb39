"""The focus areas the program suggests. Migration 0002 seeds the same list with the same ids
(a migration keeps its own frozen copy); tests use this one to restore the seeded catalog."""

import uuid

SUGGESTED_FOCUS_AREAS = (
    "Guided reading",
    "Implementation of new units/curriculum",
    "Implementation of best instructional strategies",
    "Collaborative pairs, distributed summarizing, graphic organizers, assessment prompts",
    "Effective classroom management",
    "Reading Apprenticeship strategy implementation",
)
FOCUS_NAMESPACE = uuid.UUID("6f1d3c52-6a52-4d8e-9a55-5b9f0c1e7a10")


def suggested_focus_area_id(name: str) -> uuid.UUID:
    return uuid.uuid5(FOCUS_NAMESPACE, name)
