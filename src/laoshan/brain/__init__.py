"""The brain: perception, world model, skills, task planning and dialogue."""
