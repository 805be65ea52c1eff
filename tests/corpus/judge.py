"""What makes a refusal clean: the one rule the corpus test applies to every case."""

from __future__ import annotations

ERROR_PREFIX = "lfvsim: error: "


def problems(result: dict) -> list[str]:
    """Every way a case's result falls short of a clean refusal (empty: clean).

    Clean: exit status 2, exactly one line on stderr starting with the error prefix and
    saying something after it, no traceback, nothing on stdout, every file that was in
    the folder byte-identical and no new file.
    """
    found = []
    if result["crash"]:
        found.append(f"{result['code']}: {result['crash'].strip().splitlines()[-1]}")
    elif result["code"] != 2:
        found.append(f"exit status {result['code']}, not 2")
    lines = result["stderr"].splitlines()
    if "Traceback" in result["stderr"]:
        found.append("traceback on stderr")
    if len(lines) != 1:
        found.append(f"{len(lines)} lines on stderr, not 1")
    elif not lines[0].startswith(ERROR_PREFIX) or not lines[0][len(ERROR_PREFIX) :].strip():
        found.append(f"stderr does not start with {ERROR_PREFIX!r}")
    if result["stdout"]:
        found.append(f"{len(result['stdout'])} characters on stdout")
    if result["changed"]:
        found.append(f"files changed or removed: {', '.join(result['changed'])}")
    if result["new"]:
        found.append(f"new files left: {', '.join(result['new'])}")
    return found
