"""Who may do what: permission declarations, the policy that decides (ALLOW, DENY or
CONDITIONAL), conditions applied as SQL filters on lists and as checks on single resources, and
explanations of every decision.

The public surface is re-exported here; the modules behind it are private to the package.
"""

from pavedroad.permissions.conditions import AllOf, AnyOf, Condition, Not, RuleCondition
from pavedroad.permissions.decision import Decision, Result
from pavedroad.permissions.hooks import PermissionPolicy
from pavedroad.permissions.policy import Effect, Policy, PolicyRule
from pavedroad.permissions.policy_file import PolicyFileError, load_policy_file, read_policy
from pavedroad.permissions.policy_yaml import PolicyProblem
from pavedroad.permissions.registry import (
    Permission,
    ResourceType,
    UnknownPermissionError,
    all_permissions,
    all_resource_types,
    declare,
    get_permission,
    get_resource_type,
)
from pavedroad.permissions.rules import (
    LowerStrings,
    NoParams,
    Rule,
    RuleParams,
    RuleParamsError,
    RuleRegistry,
    RuleWithoutSqlError,
    UnknownRuleError,
)

__all__ = [
    "AllOf",
    "AnyOf",
    "Condition",
    "Decision",
    "Effect",
    "LowerStrings",
    "NoParams",
    "Not",
    "Permission",
    "PermissionPolicy",
    "Policy",
    "PolicyFileError",
    "PolicyProblem",
    "PolicyRule",
    "ResourceType",
    "Result",
    "Rule",
    "RuleCondition",
    "RuleParams",
    "RuleParamsError",
    "RuleRegistry",
    "RuleWithoutSqlError",
    "UnknownPermissionError",
    "UnknownRuleError",
    "all_permissions",
    "all_resource_types",
    "declare",
    "get_permission",
    "get_resource_type",
    "load_policy_file",
    "read_policy",
]
