"""pytest rewrites the asserts of `mission_file_support` as it does a test module's."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("mission_file_support")
