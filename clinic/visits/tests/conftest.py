from clinic.scheduling.tests.conftest import frozen, open_clinic  # noqa: F401  (shared fixtures)
