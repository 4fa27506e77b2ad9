"""YAML from users' files, read safely: plain data, no aliases, bounded size.

`yaml.safe_load` already refuses Python tags, but it expands aliases: a few hundred bytes
of nested `&a [*b, *b, ...]` become hundreds of millions of values. Recipes, search spaces
and run configs never need an alias, so none is accepted.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_YAML_BYTES = 1 << 20  # a recipe is a few hundred bytes; a megabyte is not a recipe


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not accepted; write the value out", event.start_mark)
        return super().compose_node(parent, index)


def load_yaml(text: str) -> Any:
    """The data of a YAML document; raises yaml.YAMLError (aliases, tags, syntax) or ValueError (size)."""
    if len(text) > MAX_YAML_BYTES:
        raise ValueError(f"it is {len(text):,} characters long, more than the {MAX_YAML_BYTES:,} a settings file may be")
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
