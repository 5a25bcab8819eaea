"""Who may do what: permission declarations, the policy that decides (ALLOW, DENY or
CONDITIONAL), conditions applied as SQL filters on lists and as checks on single resources, and
explanations of every decision."""
