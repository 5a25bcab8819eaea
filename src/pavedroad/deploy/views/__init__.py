"""The deployments' portal pages: the Deployments tab of components and teams, promotion and
rollback forms, compare-versions, the evidence chart and the home card."""
