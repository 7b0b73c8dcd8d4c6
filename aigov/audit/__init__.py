"""The continuous audit deployable: every existing workload judged as admission would, written as policy reports."""
