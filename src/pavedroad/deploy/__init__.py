"""Deployments: environments, targets (process, gitops, kubernetes), health analysis after each
deploy, automatic rollback, and DORA metrics from the platform's own records."""
