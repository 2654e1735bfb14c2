"""Robot descriptions and the MuJoCo / Pinocchio models built from them."""

from laoshan.robot.description import RobotConfigError, RobotDescription, load_description, robot_files

__all__ = ["RobotConfigError", "RobotDescription", "load_description", "robot_files"]
