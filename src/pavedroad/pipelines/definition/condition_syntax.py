"""Parsing ``if:`` conditions by hand into nodes that evaluate against facts or render in an
export's dialect. No ``eval``: the tokens are words, quoted strings and a few operators."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from pavedroad.pipelines.definition.condition_types import (
    FUNCTIONS,
    IDENTIFIERS,
    STATUS_FUNCTIONS,
    ConditionError,
    ConditionFacts,
    Dialect,
    Value,
    needs_passed,
)


@dataclass(frozen=True, slots=True)
class _Node:
    evaluate: Callable[[ConditionFacts], Value]
    render: Callable[[Dialect], str]
    boolean: bool  # a condition on its own, not a value that must be compared
    functions: frozenset[str] = frozenset()  # the functions it calls
    testable: bool = False  # a value that may stand alone too: `tag` (is this a tag push?)

    @property
    def uses_status(self) -> bool:
        return bool(self.functions & STATUS_FUNCTIONS)


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<op>==|!=|=~|\(|\)|,)
    | (?P<word>[^\s()'",=!]+)
    | (?P<bad>\S)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # string | op | word | end
    text: str
    column: int


def _tokens(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None or match.end() == position:
            break
        kind = match.lastgroup or "bad"
        text = match.group(kind)
        column = match.start(kind) + 1
        if kind == "bad":
            if text in "'\"":
                raise ConditionError(
                    f"unterminated string starting at column {column}", column=column
                )
            raise ConditionError(f"unexpected {text!r} at column {column}", column=column)
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append(_Token(kind, text, column))
        position = match.end()
    tokens.append(_Token("end", "", len(expression) + 1))
    return tokens


class _Parser:
    def __init__(self, expression: str) -> None:
        self.tokens = _tokens(expression)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_word(self, word: str) -> bool:
        return self.current.kind == "word" and self.current.text == word

    def expect(self, text: str) -> None:
        if self.current.kind != "op" or self.current.text != text:
            raise self.error(f"expected {text!r}")
        self.advance()

    def error(self, message: str) -> ConditionError:
        token = self.current
        found = "the end" if token.kind == "end" else repr(token.text)
        return ConditionError(
            f"{message} at column {token.column}, found {found}", column=token.column
        )

    def parse(self) -> _Node:
        if self.current.kind == "end":
            raise ConditionError("the condition is empty", column=1)
        node = self.condition(self.or_())
        if self.current.kind != "end":
            raise self.error("expected 'and', 'or' or the end")
        return node

    def condition(self, node: _Node, token: _Token | None = None) -> _Node:
        if not (node.boolean or node.testable):
            column = token.column if token else 1
            raise ConditionError(
                f"a value on its own is not a condition (column {column})",
                column=column,
                hint="compare it, as in branch == main, or call changed('src/**')",
            )
        return node

    def or_(self) -> _Node:
        left = self.and_()
        while self.at_word("or"):
            token = self.advance()
            right = self.and_()
            left = _either(self.condition(left), self.condition(right, token))
        return left

    def and_(self) -> _Node:
        left = self.not_()
        while self.at_word("and"):
            token = self.advance()
            right = self.not_()
            left = _both(self.condition(left), self.condition(right, token))
        return left

    def not_(self) -> _Node:
        if self.at_word("not"):
            token = self.advance()
            operand = self.condition(self.not_(), token)
            return _Node(
                lambda f: not operand.evaluate(f),
                lambda d: d.negate(operand.render(d)),
                True,
                operand.functions,
            )
        return self.comparison()

    def comparison(self) -> _Node:
        start = self.current
        left = self.operand()
        if self.current.kind == "op" and self.current.text in ("==", "!=", "=~"):
            operator = self.advance().text
            right_token = self.current
            right = self.operand()
            if left.boolean or right.boolean:
                raise ConditionError(
                    f"'{operator}' compares values, not conditions (column {start.column})",
                    column=start.column,
                    hint="write branch == main; combine conditions with and / or",
                )
            return _compare(left, operator, right, right_token)
        return left

    def operand(self) -> _Node:
        token = self.current
        if token.kind == "op" and token.text == "(":
            self.advance()
            inner = self.or_()
            self.expect(")")
            return inner
        if token.kind == "string":
            self.advance()
            text = token.text
            return _Node(lambda f: text, lambda d: d.text(text), False)
        if token.kind != "word" or token.text in ("and", "or", "not"):
            raise self.error("expected a value or a condition")
        self.advance()
        if self.current.kind == "op" and self.current.text == "(":
            return self.call(token)
        return _word(token)

    def call(self, name: _Token) -> _Node:
        if name.text not in FUNCTIONS:
            raise ConditionError(
                f"unknown function {name.text}() at column {name.column}",
                column=name.column,
                hint=f"the functions are {', '.join(f + '()' for f in FUNCTIONS)}",
            )
        self.expect("(")
        arguments: list[_Token] = []
        while not (self.current.kind == "op" and self.current.text == ")"):
            if arguments:
                self.expect(",")
            if self.current.kind not in ("string", "word"):
                raise self.error(f"expected a quoted argument of {name.text}()")
            arguments.append(self.advance())
        self.expect(")")
        return _function(name, [a.text for a in arguments])


def _both(left: _Node, right: _Node) -> _Node:
    return _Node(
        lambda f: bool(left.evaluate(f)) and bool(right.evaluate(f)),
        lambda d: d.both(alone(left, d), alone(right, d)),
        True,
        left.functions | right.functions,
    )


def _either(left: _Node, right: _Node) -> _Node:
    return _Node(
        lambda f: bool(left.evaluate(f)) or bool(right.evaluate(f)),
        lambda d: d.either(alone(left, d), alone(right, d)),
        True,
        left.functions | right.functions,
    )


def _word(token: _Token) -> _Node:
    name = token.text
    if name == "branch":
        return _Node(lambda f: f.branch, lambda d: d.identifier("branch"), False)
    if name in ("default", "default_branch"):
        return _Node(lambda f: f.default_branch, lambda d: d.identifier("default"), False)
    if name == "event":
        return _Node(lambda f: f.event, lambda d: d.identifier("event"), False)
    if name == "tag":
        return _Node(lambda f: f.tag, lambda d: d.identifier("tag"), False, testable=True)
    return _Node(lambda f: name, lambda d: d.text(name), False)


def _compare(left: _Node, operator: str, right: _Node, right_token: _Token) -> _Node:
    functions = left.functions | right.functions
    if operator == "=~":
        if right_token.kind != "string" and right_token.text in IDENTIFIERS:
            raise ConditionError(
                f"the right side of =~ is a regular expression, not {right_token.text}",
                column=right_token.column,
                hint="write tag =~ ^v[0-9]+",
            )
        pattern_text = right.evaluate(ConditionFacts(branch="", default_branch=""))
        try:
            pattern = re.compile(str(pattern_text))
        except re.error as error:
            raise ConditionError(
                f"invalid regular expression {pattern_text!r}: {error}",
                column=right_token.column,
                hint="=~ takes a Python regular expression (re.search)",
            ) from None

        def matches(facts: ConditionFacts) -> bool:
            value = left.evaluate(facts)
            return isinstance(value, str) and pattern.search(value) is not None

        pattern_source = str(pattern_text)
        return _Node(matches, lambda d: d.matches(left.render(d), pattern_source), True, functions)

    def equal(facts: ConditionFacts) -> bool:
        same = left.evaluate(facts) == right.evaluate(facts)
        return same if operator == "==" else not same

    return _Node(
        equal, lambda d: d.compare(left.render(d), operator, right.render(d)), True, functions
    )


def _function(name: _Token, arguments: list[str]) -> _Node:
    function = name.text
    if function == "changed":
        if not arguments:
            raise ConditionError(
                f"changed() needs at least one glob (column {name.column})",
                column=name.column,
                hint="write changed('src/**', 'pyproject.toml')",
            )
        patterns = [_glob(pattern) for pattern in arguments]

        def changed(facts: ConditionFacts) -> bool:
            if facts.changed_paths is None:
                return True
            return any(p.match(path) for p in patterns for path in facts.changed_paths)

        return _Node(changed, lambda d: d.call("changed", arguments), True, frozenset({function}))
    if function == "result":
        if len(arguments) != 1:
            raise ConditionError(
                f"result() takes one step id (column {name.column})",
                column=name.column,
                hint="write result('test.unit') == failed",
            )
        step = arguments[0]
        return _Node(
            lambda f: f.results.get(step, "pending"),
            lambda d: d.call("result", [step]),
            False,
            frozenset({function}),
        )
    if arguments:
        raise ConditionError(
            f"{function}() takes no arguments (column {name.column})", column=name.column
        )
    called = frozenset({function})
    if function == "success":
        return _Node(needs_passed, lambda d: d.call("success", []), True, called)
    if function == "failure":
        return _Node(
            lambda f: any(s == "failed" for s in f.results.values()),
            lambda d: d.call("failure", []),
            True,
            called,
        )
    return _Node(lambda f: True, lambda d: d.call("always", []), True, called)


@lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    """``fnmatch`` with ``**``: ``*`` and ``?`` stay within a directory, ``**`` crosses them."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            out.append(
                "[^" + re.escape(body[1:]) + "]" if body[:1] == "!" else "[" + re.escape(body) + "]"
            )
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out) + r"\Z")


def alone(node: _Node, dialect: Dialect) -> str:
    """A node as a condition: ``tag`` on its own means "this is a tag push"."""
    rendered = node.render(dialect)
    return rendered if node.boolean else dialect.present(rendered)


@lru_cache(maxsize=1024)
def parse_condition(expression: str) -> _Node:
    """The parsed expression; raises :class:`ConditionError` with the column."""
    return _Parser(expression).parse()
