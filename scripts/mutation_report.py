"""Summarise the last `make mutate`: the score, then every surviving mutant with its change.

A mutant is the code with one small change (a `<` made `<=`, a value made None, a call
dropped...). "killed": some test failed, as it should; "timeout" (or "segfault"): the
change made the tests hang or crash, which counts as noticed; "survived": every test
covering the function still passed, so the suite would not notice that bug; "no tests": no
selected test runs that code.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

MUTMUT = str(Path(sys.executable).with_name("mutmut"))
# mutmut calls "segfault" a test process killed by a signal: the change crashed or hung it.
NOTICED = ("killed", "timeout", "segfault", "caught by type check")


def statuses() -> dict[str, str]:
    listing = subprocess.run(  # noqa: S603 - the virtualenv's own mutmut
        [MUTMUT, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    found: dict[str, str] = {}
    for line in listing.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and status != "not checked":
            found[name] = status
    return found


def change_of(name: str) -> str:
    """The mutant's diff, its changed lines only."""
    diff = subprocess.run(  # noqa: S603 - the virtualenv's own mutmut
        [MUTMUT, "show", name], capture_output=True, text=True
    ).stdout
    return "\n".join(
        f"      {line}"
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


def main() -> int:
    found = statuses()
    if not found:
        print("no mutant was checked: run `make mutate` first")
        return 1
    counts = Counter(found.values())
    tested = sum(n for status, n in counts.items() if status != "no tests")
    noticed = sum(counts[status] for status in NOTICED)
    print("\n== mutation testing ==")
    print(", ".join(f"{status}: {n}" for status, n in sorted(counts.items())))
    print(f"score: {noticed}/{tested} mutants noticed by the tests ({noticed / tested:.0%})")
    survivors = sorted(name for name, status in found.items() if status == "survived")
    if survivors:
        print(f"\n{len(survivors)} surviving mutants (no test failed with this change):")
        for name in survivors:
            print(f"  {name}\n{change_of(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
