"""Online: impressions, experiments (A/B, interleaving), the serving state that refreshes models, the simulator."""
