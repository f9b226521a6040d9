"""Settings of the API throughput benchmark's gunicorn: the test settings plus a bare JSON view."""

from zongzhi.settings.test import *  # noqa: F403

ROOT_URLCONF = "benchmarks.api_urls"
DEBUG = False
