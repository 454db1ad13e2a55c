"""Reading a mission file's YAML the way a coordinator means it."""

from __future__ import annotations

import re
from typing import Any

import yaml


class _MissionLoader(yaml.SafeLoader):
    """YAML read the way a coordinator means it.

    `2017-03-22T24:00` stays text so it is read in its own zone; `NO` (Norway), `on` and `yes`
    stay text and `12:30` is not a base-60 number: only `true`/`false` are booleans (YAML 1.2).
    A float has a digit (`.` or `-.` alone is text, as YAML 1.2's core schema reads it).
    """


_YAML_1_2 = {
    "tag:yaml.org,2002:bool": re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    "tag:yaml.org,2002:int": re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"),
    "tag:yaml.org,2002:float": re.compile(
        r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?$"
        r"|^[-+]?\.(?:inf|Inf|INF)$"
    ),
}
_MissionLoader.yaml_implicit_resolvers = {
    first: [
        (tag, _YAML_1_2.get(tag, regexp))
        for tag, regexp in resolvers
        if tag != "tag:yaml.org,2002:timestamp"
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str | bytes) -> Any:
    """Parse a YAML mission file; raises `yaml.YAMLError` with the line and column."""
    return yaml.load(text, Loader=_MissionLoader)
