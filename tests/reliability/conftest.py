from tests.cases.conftest import cw, make_case  # noqa: F401 - the case engine's fixtures
