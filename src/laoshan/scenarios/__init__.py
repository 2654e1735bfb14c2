"""Scenarios: a robot, a world, a controller and a success check, run on the sensor loop."""
