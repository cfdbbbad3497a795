"""Layer 4, one replication: the world and its actors run to the horizon, and its outcome row."""
