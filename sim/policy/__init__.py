"""Layer 3, the actors that respond: Washington, Baghdad, the militias, intelligence warnings and dated history."""
