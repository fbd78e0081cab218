"""The config store tests start from the rows of tests/support/store.py."""

from tests.support.store import basics as basics
