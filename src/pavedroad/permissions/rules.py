"""Rules: the named, parameterised predicates a policy's conditions are made of.

A rule is either about the user (``resource_type = None``: decided at once from the principal)
or about one resource type, checked on a resource dict with :meth:`Rule.apply` and, for resource
types kept in the database, turned into a SQL condition with :meth:`Rule.to_sql` so that lists
filter in the database. Domains and plugins contribute rules through the
``pavedroad_permission_rules`` hook; every rule passes the contract test that ``apply`` and
``to_sql`` select the same rows.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from sqlalchemy import ColumnElement

from pavedroad.core.errors import ConflictError, InputError, NotFoundError
from pavedroad.identity.schemas import Principal
from pavedroad.permissions.registry import did_you_mean

Resource = Mapping[str, Any]


def _lower_strings(value: object) -> object:
    """One string or a list of them, as a tuple of lower-cased strings (refs, kinds, names)."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        return tuple(item.lower() if isinstance(item, str) else item for item in value)
    return value


LowerStrings = Annotated[tuple[str, ...], BeforeValidator(_lower_strings), Field(min_length=1)]


class RuleParams(BaseModel):
    """A rule's parameters: validated once when the policy is loaded, frozen afterwards."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(RuleParams):
    """For rules that take no parameters (``is_entity_owner: {}``)."""


P = TypeVar("P", bound=RuleParams)


class RuleParamsError(InputError):
    """Parameters a rule does not accept; the message says which and what it takes."""


class RuleWithoutSqlError(InputError):
    """A condition on a resource type that has no table to filter."""


class UnknownRuleError(NotFoundError):
    """A rule name no domain or plugin registered."""


class Rule(ABC, Generic[P]):
    """Base of every rule. Subclasses set the class attributes and implement :meth:`apply`.

    ``shorthand`` names the parameter a bare value fills: ``is_entity_kind: [api]`` means
    ``is_entity_kind: {kinds: [api]}``. ``examples`` are parameter sets the contract test
    checks ``apply`` against ``to_sql`` with.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    resource_type: ClassVar[str | None] = None
    params_model: type[P]
    shorthand: ClassVar[str | None] = None
    examples: ClassVar[tuple[object, ...]] = ()

    def parse_params(self, raw: object) -> P:
        """The parameters as written in a policy, validated; raises :class:`RuleParamsError`."""
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            if self.shorthand is None:
                raise RuleParamsError(
                    f"{self.name} takes its parameters as a mapping ({self._takes()}), "
                    f"found {raw!r}"
                )
            raw = {self.shorthand: raw}
        try:
            return self.params_model.model_validate(raw)
        except ValidationError as error:
            raise RuleParamsError(self._params_message(error)) from None

    @abstractmethod
    def apply(self, resource: Resource, params: P, principal: Principal) -> bool:
        """Whether the rule holds for ``principal`` (and ``resource``, for resource rules)."""

    def to_sql(self, params: P, principal: Principal) -> ColumnElement[bool]:
        """The same predicate as a condition on the resource type's table."""
        raise RuleWithoutSqlError(
            f"rule {self.name} cannot be checked in the database: "
            f"{self.resource_type or 'user'} resources have no table",
            hint="decide on each resource with Decision.allows(resource)",
        )

    def __repr__(self) -> str:
        # Stable across processes: conditions' reprs serve as cache keys for filtered lists.
        return f"<rule {self.name}>"

    @property
    def has_sql(self) -> bool:
        return type(self).to_sql is not Rule.to_sql

    def reason(self, resource: Resource, params: P, principal: Principal, matched: bool) -> str:
        """Why it held (``"you own it through group:default/a"``) or did not (a phrase after
        ``"rule 'x' "``: ``"applies only to its owners (group:default/b)"``)."""
        return f"{self.summary(params)} holds" if matched else f"needs {self.summary(params)}"

    def summary(self, params: P) -> str:
        """The rule and its parameters in a few words, for conditions shown to people."""
        given = {k: v for k, v in params.model_dump().items() if v}
        if self.shorthand is not None and list(given) == [self.shorthand]:
            return f"{self.name}({_text(given[self.shorthand])})"
        values = ", ".join(f"{k}={_text(v)}" for k, v in given.items())
        return f"{self.name}({values})" if values else self.name

    def _takes(self) -> str:
        fields = list(self.params_model.model_fields)
        return "takes " + ", ".join(fields) if fields else "takes no parameters"

    def _params_message(self, error: ValidationError) -> str:
        fields = list(self.params_model.model_fields)
        unknown, missing, other = [], [], []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"])
            if item["type"] == "extra_forbidden":
                unknown.append(where)
            elif item["type"] == "missing":
                missing.append(where)
            else:
                other.append(f"{where}: {item['msg']}" if where else str(item["msg"]))
        # A misspelt parameter is also a missing one; saying so twice would only confuse.
        meant = {close for name in unknown for close in difflib.get_close_matches(name, fields, 1)}
        problems = [
            *(f"unknown parameter {name!r}{did_you_mean(name, fields)}" for name in unknown),
            *(f"parameter {name!r} is required" for name in missing if name not in meant),
            *other,
        ]
        return f"wrong parameters for {self.name}: {'; '.join(problems)} ({self._takes()})"


def _text(value: object) -> str:
    if isinstance(value, tuple | list):
        return "|".join(str(item) for item in value)
    return str(value)


class RuleRegistry:
    """The rules one policy engine knows, by name."""

    def __init__(self, rules: Iterable[Rule[Any]] = ()) -> None:
        self._rules: dict[str, Rule[Any]] = {}
        for rule in rules:
            self.register_rule(rule)

    def register_rule(self, rule: Rule[Any]) -> None:
        existing = self._rules.get(rule.name)
        if existing is not None and type(existing) is not type(rule):
            raise ConflictError(
                f"two rules are named {rule.name}: {type(existing).__qualname__} and "
                f"{type(rule).__qualname__}",
                hint="rename one of them (plugins usually prefix their rules)",
            )
        self._rules[rule.name] = rule

    def get_rule(self, name: str) -> Rule[Any]:
        rule = self._rules.get(name)
        if rule is None:
            raise UnknownRuleError(f"unknown rule {name!r}{did_you_mean(name, self._rules)}")
        return rule

    def names(self) -> list[str]:
        return sorted(self._rules)

    def __contains__(self, name: object) -> bool:
        return name in self._rules

    def __iter__(self) -> Iterator[Rule[Any]]:
        return iter(self._rules[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._rules)
