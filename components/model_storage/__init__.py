"""Model storage: write a model to the store at an immutable, versioned, KServe-ready key."""
