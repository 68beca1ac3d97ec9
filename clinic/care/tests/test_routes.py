"""The routes: the same closed vocabulary as the outcomes registry, and esketamine never at home."""

from clinic.care import outcomes
from clinic.care.models import AT_HOME_ROUTES, Route, is_at_home


def test_route_values_are_the_registry_vocabulary() -> None:
    assert tuple(Route.values) == outcomes.ROUTES


def test_esketamine_is_never_an_at_home_route() -> None:
    assert not is_at_home(Route.INTRANASAL_ESKETAMINE)
    assert Route.INTRANASAL_ESKETAMINE not in AT_HOME_ROUTES
    assert AT_HOME_ROUTES == {Route.ORAL_KETAMINE}
    assert "home" in Route.ORAL_KETAMINE.label and "video" in Route.ORAL_KETAMINE.label
    for route in Route:
        if route != Route.ORAL_KETAMINE:
            assert "in clinic" in route.label or "certified clinic" in route.label
