"""Runtime code shared by every component image: errors, URIs, stores, tables."""
