# The call flow's tests take the same background as the routing tests: every language on duty,
# no callback offered (see tests/routing/conftest.py).
from tests.routing.conftest import _callbacks_not_offered, _languages_on_duty  # noqa: F401
