"""The `metazoo` command."""
