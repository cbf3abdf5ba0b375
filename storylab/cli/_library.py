"""``--library`` and ``--templates``: your own action library and templates for a command."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_library_options", "library_options"]


def add_library_options(p: argparse.ArgumentParser) -> None:
    """Add ``--library FILE`` and ``--templates FILE``."""
    p.add_argument(
        "--library",
        metavar="FILE",
        help="your own story-actions.yaml instead of the packaged one (check it with"
        " `storylab validate`)",
    )
    p.add_argument(
        "--templates",
        metavar="FILE",
        help="your own story-templates.yaml, checked against the action library in use",
    )


def library_options(args: argparse.Namespace) -> dict[str, Any]:
    """``library`` and ``templates`` for :class:`~storylab.storyteller.StorylineComposer`
    (``None``: the packaged ones), loaded and validated."""
    from storylab.storyteller import load_actions, load_templates

    library = load_actions(args.library) if args.library else None
    templates = load_templates(args.templates, actions=library) if args.templates else None
    return {"library": library, "templates": templates}
