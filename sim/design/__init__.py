"""Layer 5, what to run: experiment and sweep files, and the design types of sweeps (pure data)."""
