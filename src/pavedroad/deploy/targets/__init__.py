"""The built-in deployment targets: ``process`` (local processes behind a blue/green proxy),
``gitops`` (a commit in a GitOps repository) and ``kubernetes`` (a Deployment and Service
applied with the official client)."""
