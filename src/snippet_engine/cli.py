"""Contributor commands.

snippets interpreters            what was found, what is missing, what was ignored
snippets run memory/x.pycon      run one snippet everywhere and print each output
snippets update [PATH ...]       rewrite recorded outputs from real runs (all when no PATH)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from .check import problems
from .header import SnippetError
from .interpreters import describe_key
from .project import Project, open_project
from .record import unwritable, updated
from .settings import Settings
from .snippet import dump


def _relatives(project: Project, given: str) -> list[str]:
    """A file or a folder, given from the root or from snippets/, as snippets/-relative paths."""
    path = Path(given)
    absolute = path.resolve() if path.exists() else (project.snippets_dir / given).resolve()
    base = project.snippets_dir.resolve()
    try:
        relative = absolute.relative_to(base).as_posix()
    except ValueError:
        raise SystemExit(f"{given}: not under {project.snippets_dir}") from None
    if absolute.is_dir():
        prefix = "" if relative == "." else relative + "/"
        return [s for s in project.all_snippets() if s.startswith(prefix)]
    if not absolute.is_file():
        raise SystemExit(f"{given}: no such snippet file")
    return [relative]


def cmd_interpreters(project: Project) -> int:
    discovery = project.discovery
    for interp in discovery.found:
        print(f"{interp.key:10} {interp.exact_label:26} {interp.base}  (runs as {interp.path})")
    for key in discovery.missing():
        print(f"{key:10} {describe_key(key):26} missing")
    for reason in discovery.ignored:
        print(f"ignored    {reason}")
    return 0


def cmd_run(project: Project, paths: list[str]) -> int:
    status = 0
    for relative in [r for given in paths for r in _relatives(project, given)]:
        snippet = project.load(relative)
        for result in project.results(snippet):
            print(f"===== {snippet.display_path} on {result.interpreter.exact_label}, {result.seconds:.2f} s")
            for step, step_result in zip(snippet.steps, result.steps, strict=False):
                print(f"--- line {step.lineno}: {step.source.splitlines()[0] if step.source else ''}")
                print(step_result.output, end="")
            for problem in problems(snippet, result):
                print(f"!!! {problem}")
                status = 1
        for key, why in project.select(snippet).skipped:
            print(f"===== skipped {describe_key(key)}: {why}")
    return status


def cmd_update(project: Project, paths: list[str]) -> int:
    relatives = [r for given in paths for r in _relatives(project, given)] or project.all_snippets()
    project.prefetch(relatives)
    changed = failed = 0
    for relative in relatives:
        try:
            snippet = project.load(relative)
        except SnippetError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        results = project.results(snippet)
        for result in results:
            if result.error:
                print(f"warning: {snippet.display_path} on {result.interpreter.exact_label}: {result.error}")
        new = updated(snippet, results)
        new_text = dump(new)
        if new_text == snippet.text:
            continue
        refused = unwritable(new)
        if refused:
            print(f"error: not writing {snippet.display_path}: {refused}", file=sys.stderr)
            failed += 1
            continue
        # load() already refused a file that leads outside snippets/ through a link.
        target = os.path.realpath(project.root / snippet.path)
        with open(target, "w", encoding="utf-8") as stream:
            stream.write(new_text)
        print(f"updated {snippet.display_path}")
        changed += 1
    print(f"{changed} updated, {len(relatives) - changed - failed} unchanged, {failed} not written")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="snippets", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--no-cache", action="store_true", help="run everything afresh")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("interpreters", help="list interpreters")
    run_parser = sub.add_parser("run", help="run snippets and print every interpreter's output")
    run_parser.add_argument("paths", nargs="+")
    update_parser = sub.add_parser("update", help="record real outputs into snippet files")
    update_parser.add_argument("paths", nargs="*")
    args = parser.parse_args(argv)
    settings = Settings.from_environ()
    if args.no_cache:
        settings = dataclasses.replace(settings, use_cache=False)
    project = open_project(settings)
    try:
        if args.command == "interpreters":
            return cmd_interpreters(project)
        if args.command == "run":
            return cmd_run(project, args.paths)
        return cmd_update(project, args.paths)
    finally:
        project.close()


if __name__ == "__main__":
    raise SystemExit(main())
