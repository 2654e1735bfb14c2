"""Cerebellum: balance and motion control on the sensor loop (LowState in, LowCmd out)."""
