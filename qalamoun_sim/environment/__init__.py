"""Layer 3, the environment: weather, snowpack, closures, interdiction and the vectorized exogenous state.

None of it knows of convoys: it is computed for many replications at once (docs/background.md s.6).
"""

from __future__ import annotations

from .closures import factors_from_depth, limits_of_routes, recent_snowfall, snow_factors
from .interdiction import asset_active_days, grounded_days, simulate_strikes, target_weights
from .snowpack import Snowpack, band_elevations, simulate_snowpack, snow_fraction
from .state import (
    ROUTE_STATES,
    STREAM_ENGINE,
    STREAM_STRIKES,
    STREAM_WEATHER,
    ExogenousState,
    compute_state,
    replication_rng,
)
from .weather import Weather, replay_weather, seasonal_cycle, simulate_weather, temperature_at

__all__ = ["ExogenousState", "compute_state", "replication_rng", "STREAM_WEATHER", "STREAM_STRIKES", "STREAM_ENGINE",
           "ROUTE_STATES", "Weather", "seasonal_cycle", "simulate_weather", "replay_weather", "temperature_at",
           "Snowpack", "band_elevations", "snow_fraction", "simulate_snowpack", "limits_of_routes",
           "factors_from_depth", "snow_factors", "recent_snowfall", "simulate_strikes", "target_weights",
           "asset_active_days", "grounded_days"]
