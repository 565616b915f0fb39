"""FastAPI's OpenTelemetry support, asked once whether anything collects it.

FastAPI 0.165 traces and measures each request through OpenTelemetry's global providers when
one is configured, and asks whether one is on every request: about 10 us (environment lookups
in OpenTelemetry's API) of a request that costs 150-250 us in all, for nothing when no provider
exists. Providers are configured before the app is built (`opentelemetry-instrument` sets them
as the interpreter starts) or by FastAPI itself when `FASTAPI_OTEL_AUTO_CONFIGURE=true`; when
neither is the case the app is built with its telemetry off, and asks no more.
"""

from __future__ import annotations

import os

from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace

OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def telemetry_config() -> TelemetryConfig | None:
    """FastAPI's defaults (None) when OpenTelemetry is set up, `OFF` otherwise. A tracer
    provider that is still OpenTelemetry's placeholder means nobody configured one
    (`opentelemetry-instrument` sets the tracer, meter and logger providers together)."""
    if os.getenv("FASTAPI_OTEL_AUTO_CONFIGURE", "").lower() == "true":
        return None
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return None
    return OFF
