"""Layer 10, the command line (the only layer that writes to the terminal)."""
