"""Course- and org-scoped rollout flags that give the same answer in a request, a worker and a command."""
