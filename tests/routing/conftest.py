import pytest


@pytest.fixture(autouse=True)
def _languages_on_duty(languages_on_duty):
    """Every language counts as staffed (see tests/conftest.py), unless a test says otherwise."""
    return languages_on_duty
