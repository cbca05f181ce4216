"""eval/tasks package."""
