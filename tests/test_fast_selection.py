"""`make test-fast` selects unit tests only: a test using a service fixture (here SmolLM2's) is marked slow
at collection, whatever its module says, and the ones that need nothing stay in."""

from __future__ import annotations

import subprocess
import sys

from common.settings import PROJECT_ROOT


def test_tests_using_a_service_fixture_are_left_out_of_test_fast() -> None:
    selection = ["-m", "not slow and not e2e and not gpu", "tests/models/test_chat_llama.py"]
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *selection],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "test_a_missing_gguf_fails_loudly" in collected  # no model needed
    assert "test_generates_text_and_counts_tokens" not in collected  # the smollm2 fixture loads one
