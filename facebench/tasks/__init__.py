"""Task plugins: the task contract (``base``) and built-in tasks, one folder each (``classification/``)."""
