"""Layer 1, what a world is: the scenario schema (units and rules), loading TOML files into frozen, validated data, and errors that reach the user as one line."""
