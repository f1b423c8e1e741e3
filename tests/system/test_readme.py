"""The README's command blocks marked `<!-- runnable -->` run as written: each is pasted into
`bash` (with `-euo pipefail`), in the checkout, against a live server standing in for
`make serve` (its address replacing http://127.0.0.1:8000)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.support.live_server import ROOT, LiveServer

pytestmark = pytest.mark.engine_independent
RUNNABLE = re.compile(r"<!-- runnable -->\n```sh\n(.*?)```", re.DOTALL)
MAKE_SERVE = "http://127.0.0.1:8000"


def runnable_blocks() -> list[str]:
    return RUNNABLE.findall((ROOT / "README.md").read_text())


def test_the_readme_has_runnable_blocks() -> None:
    blocks = runnable_blocks()
    assert blocks, "no block of the README is marked <!-- runnable -->"
    for block in blocks:
        assert MAKE_SERVE in block  # they talk to `make serve`, which the test replaces


def test_every_runnable_block_runs_as_written(live_server: LiveServer) -> None:
    for block in runnable_blocks():
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.replace(MAKE_SERVE, live_server.url)],
            cwd=ROOT,
            env=live_server.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{block}\n---\n{result.stdout}\n{result.stderr}"
        if "/api/v1/meetings" in block:
            created = json.loads(result.stdout)
            assert created["status"] == "draft" and created["id"] > 0
