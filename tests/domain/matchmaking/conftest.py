"""pytest rewrites the asserts of the scheduling and agenda helpers as it does a test module's."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("scheduling_support", "agenda_support")
