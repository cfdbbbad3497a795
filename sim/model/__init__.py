"""Layer 2, the simulated world: SimPy processes of attacks, C-RAM, sites and damage, and the event log they write."""
