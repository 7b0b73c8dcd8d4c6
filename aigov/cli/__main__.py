"""`python -m aigov.cli`: how krew's `kubectl-aigov` shim runs the pip-installed package."""

from aigov.cli.app import app

app(prog_name="kubectl aigov")
