"""`make run`: the demo county on embedded defaults, DEBUG on, plain http on localhost."""

from .base import *  # noqa: F403

DEBUG = env.bool("DJANGO_DEBUG", default=True)  # noqa: F405
