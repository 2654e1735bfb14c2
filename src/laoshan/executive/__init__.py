"""The executive: carries plans and commands out on any robot port (the simulator in-process, or
a robot on DDS), with the control loop, the skills and the work that runs beside the loop."""
