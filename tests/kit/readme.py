"""The README's commands and examples, in the order it shows them: its ``sh`` blocks split into
commands, its ``python`` blocks whole, each with the section it is in."""

from __future__ import annotations

import argparse
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from backup.cli.main import build_parser


@dataclass(frozen=True)
class Step:
    """One command of an ``sh`` block (``argv``), or a ``python`` block (``code``)."""

    section: str
    text: str
    argv: tuple[str, ...] = ()
    code: str = ""

    @property
    def key(self) -> str:
        """What the step is: ```` ```python ```` for an example, the ``backup`` command's name
        (``inventory scan``), or the program for any other command."""
        if self.code:
            return "```python"
        if Path(self.argv[0]).name == "backup":
            return command_name(self.argv[1:])
        return self.argv[0]


def readme_steps(text: str) -> list[Step]:
    """The README's commands and Python examples in order: continuation lines joined, comments
    dropped, ``a && b`` as two commands."""
    steps: list[Step] = []
    section = ""
    fences = r"^(#{1,6} [^\n]*)$|^```sh\n(.*?)^```|^```python\n(.*?)^```|^```[^\n]*\n.*?^```"
    for m in re.finditer(fences, text, re.M | re.S):
        heading, sh, python = m.groups()
        if heading:
            section = heading.lstrip("#").strip()
        elif python:
            steps.append(Step(section, python.strip(), code=python))
        elif sh:
            for line in sh.replace("\\\n", " ").splitlines():
                words = [*shlex.split(line, comments=True), "&&"]
                while words:
                    cut = words.index("&&")
                    if cut:
                        steps.append(Step(section, shlex.join(words[:cut]), argv=tuple(words[:cut])))
                    words = words[cut + 1 :]
    return steps


def command_name(args: tuple[str, ...] | list[str]) -> str:
    """The (sub)command words at the start of ``backup ARGS``: ``inventory show``; an option
    given to ``backup`` itself (``--version``) names itself."""
    parser = build_parser()
    words: list[str] = []
    for word in args:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or word not in subs[0].choices:
            break
        words.append(word)
        parser = subs[0].choices[word]
    return " ".join(words) or (args[0] if args else "")
