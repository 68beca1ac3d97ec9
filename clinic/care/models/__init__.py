"""The treatment course's models: protocols (``protocols``), plans with their prescribing record
and sessions (``plans``)."""

from clinic.care.models.plans import *  # noqa: F403
from clinic.care.models.plans import __all__ as _plans
from clinic.care.models.protocols import (
    ALWAYS_ASKED,
    ALWAYS_ASKED_AT_HOME,
    AT_HOME_ROUTES,
    DoseUnit,
    PreSessionItem,
    Protocol,
    ProtocolVersion,
    Route,
    RouteSetting,
    is_at_home,
)

__all__ = [
    *_plans,
    "ALWAYS_ASKED",
    "ALWAYS_ASKED_AT_HOME",
    "AT_HOME_ROUTES",
    "DoseUnit",
    "PreSessionItem",
    "Protocol",
    "ProtocolVersion",
    "Route",
    "RouteSetting",
    "is_at_home",
]
from clinic.care.models.sessions import *  # noqa: E402, F403
