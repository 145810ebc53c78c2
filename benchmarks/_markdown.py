"""Shared by the benchmark scripts: rewrite one section of BENCHMARKS.md in place."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

__all__ = ["BENCHMARKS_MD", "command_line", "write_section"]

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def command_line(script: str, argv: list[str] | None) -> str:
    """The command that ran ``script`` (a benchmark's ``__file__``) with ``argv`` (None: the
    process's own arguments), as BENCHMARKS.md quotes it: ``python benchmarks/NAME.py ARGS``.

    A ``--note TEXT`` is left out: the note is printed under the table, not inside the command.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if "--note" in args:
        i = args.index("--note")
        del args[i : i + 2]
    args = [a for a in args if not a.startswith("--note=")]
    return " ".join(["python", f"benchmarks/{Path(script).name}", *args])


def write_section(path: Path, title: str, body: str) -> None:
    """Replace (or append) the section ``## title`` of a markdown file, atomically.

    The section runs from its heading to the next level-2 heading (or the end of the file);
    everything else in the file is kept as it is.
    """
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"## {title}\n\n{body.strip()}\n"
    heading = re.search(rf"^## {re.escape(title)}[ \t]*$", text, flags=re.MULTILINE)
    if heading is None:
        text = text.rstrip() + "\n\n" + section
    else:
        following = re.search(r"^## ", text[heading.end() :], flags=re.MULTILINE)
        end = len(text) if following is None else heading.end() + following.start()
        rest = text[end:]
        text = text[: heading.start()] + section + ("\n" + rest if rest else "")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
