"""Instructions read word by word (issue 26): verbs and their synonyms, stations in every written
form, ends, sides, nearest and next-to, negation, sequences, repeats, misspellings and homophones,
questions for what is ambiguous and refusals that name what is not understood; the planner on what
the camera saw, from the command line; a can not taken for a box."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from laoshan.brain.perception import Detection
from laoshan.brain.planner import Plan, Question, Refusal, plan_offline
from laoshan.brain.world_model import Person, WorldModel, WorldObject
from laoshan.scenarios.instruction import STATIONS, InstructionScenario, look


def _thing(id_: str, colour: str, kind: str, x: float, y: float) -> WorldObject:
    return WorldObject(id_, colour, kind, np.array([x, y, 0.76]), np.array([0.06, 0.06, 0.12]), 0.0)


@pytest.fixture
def table() -> WorldModel:
    """As the robot sees the work table: the box in the middle, the can at the right end, the ball
    at the left end (the world's y points to the robot's left)."""
    return WorldModel(STATIONS, [_thing("red-1", "red", "box", 0.42, 0.0),
                                 _thing("blue-1", "blue", "cylinder", 0.37, -0.36),
                                 _thing("green-1", "green", "sphere", 0.37, 0.36)])


@pytest.fixture
def hall() -> WorldModel:
    world = WorldModel(objects=[_thing("blue-1", "blue", "cylinder", 0.4, -0.02)])
    world.people.append(Person("person-1", np.array([0.7, -0.36, 0.0]), 0.0, np.array([0.4, -0.2, 0.85]), 0.0))
    return world


def steps(answer: Plan | Refusal | Question) -> list[tuple[str, ...]]:
    assert isinstance(answer, Plan), answer
    return [tuple(s.values()) for s in answer.steps]


RED_TO = {n: [("pick", "red-1"), ("place", f"station {n}")] for n in (1, 2, 3, 4)}


@pytest.mark.parametrize(("instruction", "expected"), [
    ("把红盒子挪到三号工位", RED_TO[3]),                     # verbs not known before: the place is kept
    ("把红盒子搁在一号工位上", RED_TO[1]),
    ("put the red box on station four", RED_TO[4]),          # stations in every written form
    ("把红盒子放到四号位", RED_TO[4]),
    ("put the red box on the second station", RED_TO[2]),
    ("把红盒子放到第三个工位", RED_TO[3]),
    ("put the red box on station no. 4", RED_TO[4]),
    ("把红色的盒子放到二号工位上，谢谢", RED_TO[2]),          # politeness is no reason to refuse
    ("um, could you please put the red box on station 3, thanks", RED_TO[3]),
    ("put the red box on staton 2", RED_TO[2]),              # misspellings and homophones
    ("把洪色的和子放到一号工位", RED_TO[1]),
    ("把红盒子放到四号公位", RED_TO[4]),
    ("hey robot, would you mind putting the red box on station 1", RED_TO[1]),
    ("把红盒子放到左边", RED_TO[1]),                          # a side after the verb is a place
])
def test_every_word_of_an_instruction_is_read(table: WorldModel, instruction: str, expected: list) -> None:
    assert steps(plan_offline(instruction, table)) == expected


@pytest.mark.parametrize(("instruction", "expected"), [
    ("take the can on the right end and put it on three", [("pick", "blue-1"), ("place", "station 3")]),
    ("pick up the object on the left end", [("pick", "green-1")]),
    ("把最右边的东西放到三号工位", [("pick", "blue-1"), ("place", "station 3")]),
    ("pick up the one nearest me", [("pick", "red-1")]),
    ("拿起中间那个", [("pick", "red-1")]),
    ("pick up the one next to the can", [("pick", "red-1")]),
    ("pick up the ball, not the can", [("pick", "green-1")]),
    ("不要红色的，拿蓝色的", [("pick", "blue-1")]),
    ("拿起不是球的那个罐子", [("pick", "blue-1")]),
    ("not the red one, the green one", [("pick", "green-1")]),
    ("put the red box on station 3, not station 2", RED_TO[3]),
    ("the red box, put it on three", RED_TO[3]),
])
def test_objects_are_picked_out_by_where_they_are_and_what_they_are_not(table: WorldModel, instruction: str,
                                                                        expected: list) -> None:
    assert steps(plan_offline(instruction, table)) == expected


def test_sequences_and_conjunctions_become_steps_in_order(table: WorldModel) -> None:
    assert steps(plan_offline("move the red box to station 1 and the blue can to station 3", table)) == [
        ("pick", "red-1"), ("place", "station 1"), ("pick", "blue-1"), ("place", "station 3")]
    assert steps(plan_offline("拿起红盒子以后放到四号工位", table)) == RED_TO[4]
    two_at_once = plan_offline("pick up the red box and the blue can", table)
    assert isinstance(two_at_once, Refusal) and "one thing at a time" in two_at_once.reason


@pytest.mark.parametrize("instruction", [
    "把红盒子放到一号和二号工位", "put the red box on station 1 or station 2", "put the red box somewhere",
    "把红盒子放到工位上", "pick something up", "pick up the one next to the box", "拿起不是红色的那个",
])
def test_what_could_mean_more_than_one_thing_gets_a_question(table: WorldModel, instruction: str) -> None:
    assert isinstance(plan_offline(instruction, table), Question), instruction


@pytest.mark.parametrize(("instruction", "named"), [
    ("把红盒子放到冰箱里", "冰箱"), ("put the red box on the shelf", "shelf"),
    ("把红盒子放到二号工位然后扫地", "扫地"), ("put the red box on station 2 and sing a song", "song"),
])
def test_what_is_not_understood_is_named(table: WorldModel, instruction: str, named: str) -> None:
    answer = plan_offline(instruction, table)
    assert isinstance(answer, Refusal) and repr(named) in answer.reason, answer


def test_harm_is_still_refused_also_when_misspelt(table: WorldModel) -> None:
    for instruction in ("把红盒子扔到三号工位", "throw the red box at the wall", "thorw the red box at him"):
        answer = plan_offline(instruction, table)
        assert isinstance(answer, Refusal) and "throw" in answer.reason, instruction


def test_a_repeated_request_is_done_once(hall: WorldModel) -> None:
    once = [("pick", "blue-1"), ("hand_over", "person-1")]
    assert steps(plan_offline("hand me the can then hand me the can", hall)) == once
    assert steps(plan_offline("把罐子递给我，再递给我", hall)) == once
    assert steps(plan_offline("give her the can", hall)) == once
    opened = plan_offline("open the can and give it to me", hall)
    assert isinstance(opened, Refusal), opened


def test_a_can_seen_cut_by_the_image_border_is_not_kept_as_a_box() -> None:
    """The shape is voted over sightings by their pixels; one cut by the image's border counts a tenth."""

    def can(top: tuple[float, float], pixels: int, clipped: bool) -> Detection:
        return Detection("blue", np.array([0.4, -0.3, 0.76]), np.array([0.066, 0.066, 0.12]), np.array(top), 0.7,
                         0.7, pixels, 1.0, clipped=clipped)

    world = WorldModel()
    world.update([can((0.066, 0.03), 900, clipped=True)])        # half out of view: its top looks square-cut
    assert world.objects[0].kind == "box"
    world.update([can((0.065, 0.066), 400, clipped=False)])
    assert world.objects[0].kind == "cylinder" and [o.describe() for o in world.objects] == ["blue cylinder"]


def test_after_looking_around_the_cans_are_cans() -> None:
    world = look(InstructionScenario(scene="table", seed=1010), around=True)
    kinds = {o.colour: o.kind for o in world.objects}
    assert kinds == {"red": "box", "blue": "cylinder", "green": "sphere", "yellow": "cylinder"}, world.seen()


def test_plan_command_prints_json_and_reads_stdin_without_moving() -> None:
    cmd = [sys.executable, "-m", "laoshan.cli", "plan", "--scene", "table", "--seed", "1011", "--json"]
    lines = "把红盒子挪到三号工位\nput the red box on the moon\n把红盒子放到一号和二号工位\n"
    out = subprocess.run(cmd, input=lines, capture_output=True, text=True, timeout=120, check=True).stdout
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["instruction"] for a in answers] == lines.splitlines()
    assert answers[0]["plan"]["steps"] == [{"skill": "pick", "object": "red-1"},
                                           {"skill": "place", "place": "station 3"}]
    assert "moon" in answers[1]["refusal"] and "question" in answers[2]
    assert any(s.startswith("red-1 box") for s in answers[0]["seen"])


def test_two_objects_in_one_instruction_are_carried_out_in_turn_in_physics() -> None:
    from laoshan.scenarios.instruction import run_instruction

    report = run_instruction(InstructionScenario(instruction="把红盒子放到一号工位，再把蓝罐子放到三号工位", seed=1003))
    assert report.plan is not None and [s.skill for s in report.plan.steps] == ["pick", "place", "pick", "place"]
    assert report.success and not report.fell, report.steps
    assert report.error_m is not None and report.error_m <= 0.02          # the worse of the two, by ground truth
