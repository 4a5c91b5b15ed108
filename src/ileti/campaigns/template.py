"""A message template: ``Sayın {Ad}, {Tutar} TL borcunuz…`` filled from a row's cells.

A placeholder names a column as its header is written, in any case and with Turkish dotted or
dotless i (``{ad}`` is the column ``Ad``, ``{İSİM}`` the column ``isim``); ``{Ad|Değerli
müşterimiz}`` gives the text for a row whose cell is empty; ``{{`` and ``}}`` are braces. A
template is parsed once into a format string, so that a million rows are rendered by one call
each; a campaign keeps its texts as the values that fill them (``Filled``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ileti.campaigns.cells import Cell
from ileti.compliance.contact_files import fold
from ileti.sending.orders import TextColumn, Texts


class TemplateError(ValueError):
    """A template that cannot be filled from the file; the message says why, in English."""

    def __init__(self, message: str, placeholder: str | None = None) -> None:
        super().__init__(message)
        self.placeholder = placeholder


class EmptyField(ValueError):
    """A row's cell for a placeholder without a default is empty; ``placeholder``: its column
    as the file names it."""

    def __init__(self, placeholder: str) -> None:
        super().__init__(f"The column “{placeholder}” is empty in this row")
        self.placeholder = placeholder


@dataclass(frozen=True)
class _Field:
    column: int
    name: str
    default: str | None
    after: str  # the literal text up to the next placeholder


@dataclass(frozen=True)
class Template:
    text: str
    columns: list[str] = field(repr=False)
    head: str = field(repr=False)
    fields: tuple[_Field, ...] = field(repr=False)
    # The literal text with ``{0}``, ``{1}``… for the placeholders, for ``str.format``.
    pattern: str = field(repr=False)

    @classmethod
    def parse(cls, text: str, columns: list[str]) -> Template:
        """The template of a text for a file with these columns; ``TemplateError`` for an
        unknown placeholder (named, with the columns listed), an empty one, an unclosed ``{``
        or a lone ``}``."""
        literals: list[str] = []
        fields: list[tuple[int, str, str | None]] = []
        folded = {fold(column): index for index, column in reversed(list(enumerate(columns)))}
        current: list[str] = []
        at = 0
        while at < len(text):
            char = text[at]
            if text.startswith("{{", at) or text.startswith("}}", at):
                current.append(char)
                at += 2
            elif char == "}":
                raise TemplateError(
                    f"The template has a “}}” without its “{{” at character {at + 1}; write "
                    "“}}” for a brace in the message."
                )
            elif char == "{":
                end = text.find("}", at)
                inner = text[at + 1 : end] if end != -1 else ""
                if end == -1 or "{" in inner:
                    raise TemplateError(
                        f"The template has a “{{” that is not closed at character {at + 1}; "
                        "write “{{” for a brace in the message."
                    )
                literals.append("".join(current))
                current = []
                fields.append(_placeholder(inner, folded, columns))
                at = end + 1
            else:
                current.append(char)
                at += 1
        literals.append("".join(current))
        parts = tuple(
            _Field(column, name, default, after)
            for (column, name, default), after in zip(fields, literals[1:], strict=True)
        )
        pattern = _literal(literals[0]) + "".join(
            f"{{{at}}}{_literal(part.after)}" for at, part in enumerate(parts)
        )
        return cls(text, list(columns), literals[0], parts, pattern)

    @property
    def placeholders(self) -> list[str]:
        """The columns the template uses, as the file names them, in order of first use."""
        return list(dict.fromkeys(part.name for part in self.fields))

    def render(self, cells: list[Cell]) -> str:
        """The message for a row (a cell for every column); ``EmptyField`` for an empty cell
        whose placeholder has no default."""
        return self.fill(self.values(cells))

    def values(self, cells: list[Cell]) -> list[str]:
        """What a row's cells put in the placeholders, defaults included; ``EmptyField`` as
        ``render``."""
        out = []
        for part in self.fields:
            value = cells[part.column].text
            if not value:
                if part.default is None:
                    raise EmptyField(part.name)
                value = part.default
            out.append(value)
        return out

    def fill(self, values: Sequence[str]) -> str:
        """The message with ``values`` in its placeholders, in order."""
        return self.pattern.format(*values)


class Filled(TextColumn):
    """A template's texts, kept as the values that fill each (one buffer of them, a NUL between
    a text's values): a million texts hold what their rows put in, not the template's words a
    million times over."""

    __slots__ = ("_template", "_values")

    def __init__(self, template: Template) -> None:
        self._template = template
        self._values = Texts()

    def append(self, values: Sequence[str]) -> None:
        # No value of a text that is kept holds a NUL: a control character refuses its row.
        self._values.append("\0".join(values))

    def __len__(self) -> int:
        return len(self._values)

    def pick(self, indices: Iterable[int]) -> list[str]:
        fill = self._template.pattern.format
        return [fill(*values.split("\0")) for values in self._values.pick(indices)]


def _literal(text: str) -> str:
    """Text as ``str.format`` writes it back."""
    return text.replace("{", "{{").replace("}", "}}")


def _placeholder(
    inner: str, folded: dict[str, int], columns: list[str]
) -> tuple[int, str, str | None]:
    name, bar, default = inner.partition("|")
    name = name.strip()
    if not name:
        raise TemplateError(
            "The template has an empty placeholder “{}”; write a column's name in it."
        )
    column = folded.get(fold(name))
    if column is None:
        listed = ", ".join(f"“{column}”" for column in columns)
        raise TemplateError(
            f"The template's placeholder {{{name}}} is not a column of the file; the columns are "
            f"{listed}.",
            placeholder=name,
        )
    return column, columns[column], default.strip() if bar else None
