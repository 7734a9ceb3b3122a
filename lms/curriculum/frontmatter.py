"""Reading a content file: YAML front matter (with the line of every key) and the body."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


class FrontMatterError(ValueError):
    """The file has no front matter, or its YAML does not parse."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Document:
    data: dict[str, Any]
    body: str
    #: 1-based line in the file of each key or item, by its path: ("knowledge_check", "questions", 2, "id").
    lines: dict[Path_, int] = field(default_factory=dict)
    body_line: int = 1

    def line(self, *path: str | int) -> int:
        """The line of ``path`` or of its nearest enclosing entry, else of the front matter."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1


def _index_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int], offset: int) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            child = (*path, key)
            lines[child] = key_node.start_mark.line + 1 + offset
            _index_lines(value_node, child, lines, offset)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1 + offset
            _index_lines(item, child, lines, offset)


def parse_yaml(text: str, offset: int = 0) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML safely, returning the data and the line of every key and list item."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = (mark.line + 1 + offset) if mark is not None else 1 + offset
        problem = getattr(error, "problem", None) or str(error)
        raise FrontMatterError(f"the YAML does not parse: {problem}", line) from error
    lines: dict[Path_, int] = {}
    if node is not None:
        _index_lines(node, (), lines, offset)
    return data, lines


def parse_document(text: str) -> Document:
    """Split a module file into its front matter and Markdown body."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError("the file must start with a line '---' and the front matter", 1)
    try:
        end = next(index for index in range(1, len(lines)) if lines[index].strip() == "---")
    except StopIteration:
        raise FrontMatterError("the front matter has no closing line '---'", 1) from None
    data, key_lines = parse_yaml("\n".join(lines[1:end]), offset=1)
    if not isinstance(data, dict):
        raise FrontMatterError("the front matter must be a set of 'key: value' lines", 2)
    return Document(data=data, body="\n".join(lines[end + 1 :]), lines=key_lines, body_line=end + 2)
