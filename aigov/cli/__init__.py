"""The `aigov` command line (also `kubectl aigov`)."""
