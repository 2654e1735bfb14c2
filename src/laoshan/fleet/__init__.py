"""Several robots on one floor: the bus they talk on, traffic reserved in space and time, the fleet
manager that gives out tasks, and each robot's agent."""
