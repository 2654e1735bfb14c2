"""The command line: listing robots and parts, the stand demo, clear errors."""

from __future__ import annotations

from pathlib import Path

import mujoco
import pytest
from click.testing import CliRunner

from laoshan.cli import main
from laoshan.sim.render import VideoRecorder


def test_robots_lists_both_products() -> None:
    result = CliRunner().invoke(main, ["robots"])
    assert result.exit_code == 0, result.output
    assert "g1-basic" in result.output and "g1-functional" in result.output
    assert "33.34" in result.output and "34.39" in result.output


def test_parts_lists_catalog() -> None:
    result = CliRunner().invoke(main, ["parts", "--kind", "battery"])
    assert result.exit_code == 0, result.output
    assert "g1-9ah" in result.output and "motor" not in result.output


def test_stand_prints_summary_and_writes_video(tmp_path: Path) -> None:
    video = tmp_path / "stand.mp4"
    result = CliRunner().invoke(main, ["stand", "--seconds", "1", "--video", str(video)])
    assert result.exit_code == 0, result.output
    for key in ("fell", "no", "pelvis height", "energy used", "battery SOC"):
        assert key in result.output
    assert video.stat().st_size > 10_000


def test_unknown_robot_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["stand", "--robot", "t800"])
    assert result.exit_code == 1
    assert "unknown robot 't800'" in result.output


@pytest.fixture
def one_handed_robot(tmp_path: Path) -> Path:
    """The functional G1's description without its right hand."""
    robot = tmp_path / "one_handed.toml"
    text = (Path(__file__).parents[1] / "src/laoshan/robot/robots/g1_functional.toml").read_text()
    robot.write_text(text.split("[hands.right]")[0] + "[[cameras]]" + text.split("[[cameras]]", 1)[1]
                     .replace('name = "g1-functional"', 'name = "one-handed"'))
    return robot


def test_pick_a_box_with_a_robot_without_two_hands_is_a_clear_error(one_handed_robot: Path) -> None:
    result = CliRunner().invoke(main, ["pick", "--robot", str(one_handed_robot)])
    assert result.exit_code == 1
    assert "needs two hands" in result.output


def test_open_with_a_hand_the_robot_lacks_is_a_clear_error(one_handed_robot: Path) -> None:
    result = CliRunner().invoke(main, ["open", "--robot", str(one_handed_robot), "--hand", "right"])
    assert result.exit_code == 1
    assert "no right hand" in result.output


def test_fetch_with_robots_without_fingers_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["fleet", "fetch", "--robot", "g1-basic", "--robots", "1", "--cans", "1"])
    assert result.exit_code == 1
    assert "needs a right hand with fingers and a camera" in result.output


def test_insert_with_a_robot_without_fingers_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["insert", "--robot", "g1-basic"])     # rubber hands
    assert result.exit_code == 1
    assert "needs a right hand with fingers" in result.output


def test_fold_with_a_robot_without_fingers_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["fold", "--robot", "g1-basic"])       # rubber hands
    assert result.exit_code == 1
    assert "no right hand with fingers to pinch with" in result.output


def test_shelf_with_a_malformed_or_unreachable_goal_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["shelf", "--to", "0.3,-0.2"])
    assert result.exit_code == 1 and "x,y,z in metres" in result.output
    result = CliRunner().invoke(main, ["shelf", "--to", "0.9,-0.2,0.8"])
    assert result.exit_code == 1 and "cannot put the hand at (0.900, -0.200, 0.800)" in result.output


def test_demo_tabletop_with_a_malformed_place_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["demo", "tabletop", "--to", "0.4"])
    assert result.exit_code == 1
    assert "x,y in metres" in result.output


def test_do_refuses_an_impossible_instruction_after_looking() -> None:
    result = CliRunner().invoke(main, ["do", "put the purple box on station 2", "--scene", "factory"])
    assert result.exit_code == 1
    assert "seen: red-1 box" in result.output and "I see no purple box" in result.output


def test_chat_answers_several_speakers_in_turn() -> None:
    lines = "@ann 你好 @ben what is the euro rate\n我想开户\n储蓄账户\n对\n"
    result = CliRunner().invoke(main, ["chat", "--domain", "bank", "--no-walk"], input=lines)
    assert result.exit_code == 0, result.output
    assert "robot → ann: 您好" in result.output and "[bank-rate-eur]" in result.output
    assert "ticket" in result.output and "[bank-proc-open-account]" in result.output


def test_guide_to_an_unknown_place_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["guide", "--domain", "hospital", "--to", "moon"])
    assert result.exit_code == 1 and "hospital has no place 'moon'" in result.output


def test_a_video_keeps_real_time_when_started_late_or_on_time(tmp_path: Path) -> None:
    """A recorder whose first frame comes at 0.6 s (after a look) films from there at 30 fps: 0.4 s
    of 2 ms ticks give 12 frames, not one per tick until its clock has caught up; one started at
    0 s keeps to its 30 fps grid: 3 s give 90 frames, none lost to the ticks' granularity."""
    model = mujoco.MjModel.from_xml_string(
        '<mujoco><worldbody><body name="b"><geom size="0.1"/></body></worldbody></mujoco>')
    data = mujoco.MjData(model)
    for name, start_s, ticks, frames in (("late", 0.6, 200, 12), ("on_time", 0.0, 1500, 90)):
        recorder = VideoRecorder(model, tmp_path / f"{name}.mp4", "b", width=64, height=48)
        for k in range(ticks):
            recorder.capture(data, start_s + 0.002 * k)
        recorder.close()
        assert recorder.frames == frames, name


BAD_NUMBERS = ["nan", "inf", "-inf", "1e999", "abc"]
NUMERIC_OPTIONS = [
    (["stand"], "--seconds"), (["walk"], "--vx"), (["walk"], "--seconds"), (["walk"], "--push"),
    (["pick"], "--mass"), (["pick"], "--jitter"), (["place"], "--jitter"), (["insert"], "--clearance"),
    (["insert"], "--chamfer"), (["fold"], "--jitter"), (["shelf"], "--jitter"), (["open"], "--jitter"),
    (["carry"], "--mass"), (["carry"], "--distance"), (["carry"], "--turn"), (["demo", "tabletop"], "--jitter"),
    (["serve"], "--port"),
]
SEEDED = [["stand"], ["walk"], ["pick"], ["place"], ["insert"], ["fold"], ["shelf"], ["open"], ["carry"],
          ["do", "拿起红色的盒子"], ["demo", "tabletop"], ["chat", "--no-walk"], ["guide", "--to", "pharmacy"]]


def _clear_error(result: object) -> None:
    """A refusal a user can read: a usage error or a one-line error, never a traceback."""
    assert result.exit_code in (1, 2), result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and result.output.strip().count("\n") < 12


@pytest.mark.parametrize(("command", "option"), NUMERIC_OPTIONS)
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_every_numeric_option_refuses_what_is_not_a_finite_number(command: list, option: str, value: str) -> None:
    result = CliRunner().invoke(main, [*command, option, value])
    _clear_error(result)
    assert result.exit_code == 2


@pytest.mark.parametrize("command", SEEDED)
def test_a_negative_seed_is_refused(command: list) -> None:
    _clear_error(CliRunner().invoke(main, [*command, "--seed", "-1"]))


@pytest.mark.parametrize(("command", "to"), [(["place"], "nan,0.1"), (["demo", "tabletop"], "0.4,inf"),
                                              (["shelf"], "0.3,nan,0.8")])
def test_coordinates_must_be_finite(command: list, to: str) -> None:
    result = CliRunner().invoke(main, [*command, "--to", to])
    _clear_error(result)
    assert "finite numbers" in result.output


def test_undecodable_files_and_input_are_one_line_errors(tmp_path: Path) -> None:
    binary = tmp_path / "robot.toml"
    binary.write_bytes(bytes(range(256)) * 4)
    for args in (["stand", "--robot", str(binary)], ["parts", "--catalog", str(binary)]):
        result = CliRunner().invoke(main, args)
        _clear_error(result)
        assert "not UTF-8 text" in result.output
    result = CliRunner().invoke(main, ["chat", "--no-walk"], input=b"\xff\xfe hello\n@ann \xe4\xbd\xa0\xe5\xa5\xbd\n")
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert "input line 1 is not UTF-8 text" in result.output and "robot → ann" in result.output


def test_a_harmful_instruction_is_refused_before_anything_moves() -> None:
    result = CliRunner().invoke(main, ["do", "throw the box at him", "--scene", "table"])
    assert result.exit_code == 1 and "I do not throw things" in result.output
    assert "plan (" not in result.output


def test_every_robot_command_takes_a_catalog_for_the_robots_parts(tmp_path: Path) -> None:
    """A robot file naming a part that only the user's catalog has: refused without it (the part
    named), standing with it."""
    from importlib import resources

    stock = resources.files("laoshan.components").joinpath("catalog.toml").read_text()
    arm = stock[stock.index("[motor.g1-arm-25]"):]
    arm = arm[:arm.index("\n[", 1)]
    (tmp_path / "parts.toml").write_text(arm.replace("[motor.g1-arm-25]", "[motor.maker-arm-30]")
                                         .replace("peak_torque_Nm = 25.0", "peak_torque_Nm = 30.0"))
    robot = resources.files("laoshan.robot").joinpath("robots/g1_basic.toml").read_text()
    (tmp_path / "robot.toml").write_text(robot.replace('"g1-arm-25"', '"maker-arm-30"'))
    args = ["stand", "--robot", str(tmp_path / "robot.toml"), "--seconds", "1"]
    without = CliRunner().invoke(main, args)
    assert without.exit_code != 0 and "maker-arm-30" in without.output, without.output
    with_catalog = CliRunner().invoke(main, [*args, "--catalog", str(tmp_path / "parts.toml")])
    assert with_catalog.exit_code == 0, with_catalog.output
    listed = CliRunner().invoke(main, ["walk", "--help"])
    assert "--catalog" in listed.output
