import pytest


@pytest.fixture(autouse=True)
def _languages_on_duty(languages_on_duty):
    """Every language counts as staffed (see tests/conftest.py), unless a test says otherwise."""
    return languages_on_duty


@pytest.fixture(autouse=True)
def _callbacks_not_offered(app):
    """These tests are of the queue and the menus on their own, as with [callbacks] enabled =
    false: no callback is offered as a way out (tests/callbacks covers it being offered)."""
    from ivr import way_out

    way_out.unregister(app, "callback")
