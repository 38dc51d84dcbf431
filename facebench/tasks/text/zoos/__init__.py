"""Text zoos: the embedded offline zoo and the paper's (registered by ``..plugin``)."""
