"""Security built in: advisories, SBOMs, scanners and the policy gate."""
