"""The brain: world model, bilingual planning, plan validation, an LLM backend that is not trusted,
and an instruction carried out end to end in physics."""

from __future__ import annotations

import numpy as np
import pytest

from laoshan.brain.perception import Detection
from laoshan.brain.planner import LlmPlanner, Plan, PlanError, Question, Refusal, plan_offline, validate_plan
from laoshan.brain.world_model import Place, WorldModel, WorldObject
from laoshan.scenarios.instruction import STATIONS


@pytest.fixture
def world() -> WorldModel:
    def thing(id_: str, colour: str, kind: str) -> WorldObject:
        return WorldObject(id_, colour, kind, np.zeros(3), np.zeros(3), 0.0)

    return WorldModel(STATIONS, [thing("red-1", "red", "box"), thing("blue-1", "blue", "cylinder"),
                                 thing("green-1", "green", "sphere"), thing("green-2", "green", "box")])


PICK_RED_TO_2 = (("pick", "red-1"), ("place", "station 2"))


@pytest.mark.parametrize(("instruction", "expected"), [
    ("把红色的盒子放到二号工位上", PICK_RED_TO_2),
    ("put the red box on station 2", PICK_RED_TO_2),
    ("先拿起红色的盒子，再放到二号工位", PICK_RED_TO_2),
    ("pick up the red box, then put it on the right", PICK_RED_TO_2),
    ("拿起蓝色的罐子", (("pick", "blue-1"),)),
    ("grab the green ball", (("pick", "green-1"),)),
])
def test_bilingual_instructions_become_plans(world: WorldModel, instruction: str, expected: tuple) -> None:
    plan = plan_offline(instruction, world)
    assert isinstance(plan, Plan)
    assert tuple((s["skill"], s.get("object") or s.get("place")) for s in plan.steps) == expected


def test_an_impossible_instruction_is_refused(world: WorldModel) -> None:
    world.looked_around_s = 0.0                    # it has looked all around: what it has not seen is not here
    for instruction in ("put the purple box on station 2", "把红色的盒子放到七号工位", "dance"):
        answer = plan_offline(instruction, world)
        assert isinstance(answer, Refusal), instruction
    assert "purple box" in plan_offline("put the purple box on station 2", world).reason


def test_what_has_not_been_seen_is_looked_around_for_before_it_is_refused(world: WorldModel) -> None:
    first = plan_offline("拿起黄色的罐子", world)
    assert isinstance(first, Plan) and first.replan and [s["skill"] for s in first.steps] == ["look_around"]
    assert '"then": "replan"' in first.to_json()
    world.looked_around_s = 5.0
    answer = plan_offline("拿起黄色的罐子", world)
    assert isinstance(answer, Refusal) and "yellow cylinder" in answer.reason and "looked around" in answer.reason
    for instruction in ("look around", "看看周围有什么"):
        plan = plan_offline(instruction, world)
        assert isinstance(plan, Plan) and [s["skill"] for s in plan.steps] == ["look_around"] and not plan.replan
    plan = plan_offline("look around, then pick up the red box", world)
    assert isinstance(plan, Plan) and [s["skill"] for s in plan.steps] == ["look_around", "pick"]
    assert isinstance(plan_offline("pick up the red box, then look around", world), Refusal)
    with pytest.raises(PlanError, match="look_around comes first"):
        validate_plan({"steps": [{"skill": "pick", "object": "red-1"}, {"skill": "look_around"}]}, world)


def test_an_ambiguous_instruction_gets_a_question(world: WorldModel) -> None:
    answer = plan_offline("pick up the green one", world)
    assert isinstance(answer, Question) and answer.options == ("green-1", "green-2")


@pytest.mark.parametrize("bad", [
    {},
    {"steps": []},
    {"steps": [{"skill": "fly"}]},
    {"steps": [{"skill": "pick", "object": "purple-9"}]},
    {"steps": [{"skill": "place", "place": "station 1"}]},                      # nothing in hand
    {"steps": [{"skill": "pick", "object": "red-1"}, {"skill": "place", "place": "the moon"}]},
    {"steps": [{"skill": "pick", "object": "red-1", "force": 1e6}]},
])
def test_invalid_plans_are_rejected(world: WorldModel, bad: dict) -> None:
    with pytest.raises(PlanError):
        validate_plan(bad, world)


def test_llm_plans_are_validated_and_bad_ones_rejected(world: WorldModel, llm_server) -> None:
    url, replies = llm_server
    planner = LlmPlanner(url)
    replies += ["Sure! I will pick up the box.",                                            # not JSON
                '{"steps": [{"skill": "teleport", "to": "station 2"}]}',                     # unknown skill
                '{"steps": [{"skill": "pick", "object": "gold-1"}]}',                        # unseen object
                '```json\n{"steps": [{"skill": "pick", "object": "red-1"}, '
                '{"skill": "place", "place": "station 2"}]}\n```']                           # valid
    for _ in range(3):
        with pytest.raises(PlanError):
            planner.plan("put the red box on station 2", world)
    plan = planner.plan("put the red box on station 2", world)
    assert [s["skill"] for s in plan.steps] == ["pick", "place"]


def test_an_llm_plan_that_only_speaks_is_carried_out_without_moving_a_hand(llm_server) -> None:
    from laoshan.scenarios.instruction import InstructionScenario, run_instruction

    url, replies = llm_server
    replies.append('{"steps": [{"skill": "say", "text": "你好，请稍等"}]}')
    report = run_instruction(InstructionScenario(instruction="greet the customer", scene="hall", llm_url=url))
    assert report.success and not report.fell and report.steps == (("say '你好，请稍等'", "said"),)


def test_a_two_step_chinese_instruction_is_carried_out_in_physics() -> None:
    from laoshan.scenarios.instruction import InstructionScenario, run_instruction

    report = run_instruction(InstructionScenario(instruction="先拿起红色的盒子，再放到一号工位", seed=0))
    assert report.plan is not None and len(report.plan.steps) == 2
    assert any(s.startswith("red-1 box") for s in report.seen)                 # found by the camera
    assert [outcome.split(":")[0] for _, outcome in report.steps] == ["done"]   # checked with the camera
    assert report.success and not report.fell and report.error_m is not None and report.error_m <= 0.02


def test_a_forced_grasp_failure_is_seen_and_the_pick_is_replanned() -> None:
    """The first grasp closes 8 cm short of the box: the camera sees the box still in its place, and
    the robot picks it again from where it sees it."""
    from laoshan.limbs.grasp import BoxPickConfig
    from laoshan.scenarios.instruction import InstructionScenario, run_instruction

    miss = BoxPickConfig(grip_force_N=1.0, press_m=-0.08)
    report = run_instruction(InstructionScenario(instruction="put the red box on station 2", seed=0, first_grip=miss))
    assert [outcome.split(":")[0] for _, outcome in report.steps] == ["failed", "done"]
    assert "from station 2" in report.steps[0][1]
    assert report.success and not report.fell and report.error_m is not None and report.error_m <= 0.02


def test_an_object_out_of_reach_is_walked_to_then_picked() -> None:
    from laoshan.scenarios.instruction import InstructionScenario, run_instruction

    report = run_instruction(InstructionScenario(instruction="拿起蓝色的罐子"))
    assert report.success and not report.fell
    walk, outcome = report.steps[0]
    assert walk.startswith("walk to") and outcome.startswith("arrived")
    assert report.steps[-1][1].startswith("done")          # the camera saw it held up


def test_a_can_out_of_view_is_found_by_looking_around_then_walked_to_and_picked() -> None:
    """The yellow can stands at the table's right end, out of the camera's view until the torso
    turns right."""
    from laoshan.scenarios.instruction import InstructionScenario, run_instruction

    report = run_instruction(InstructionScenario(instruction="pick up the yellow can"))
    assert report.plan is not None and [s["skill"] for s in report.plan.steps] == ["look_around", "pick"]
    assert report.steps[0][0].startswith("look around") and "yellow cylinder" in report.steps[0][1]
    assert [step.split(" ")[0] for step, _ in report.steps[1:]] == ["walk", "attempt"]
    assert report.success and not report.fell                      # held up 8 cm (ground truth)


def test_a_can_is_carried_over_and_set_down_on_its_station() -> None:
    from laoshan.scenarios.instruction import InstructionScenario, run_instruction

    report = run_instruction(InstructionScenario(instruction="put the blue can on station 3"))
    assert report.success and not report.fell                        # within 2 cm of station 3 (ground truth)
    assert [step.split(" ")[0] for step, _ in report.steps] == ["walk", "attempt", "carry", "set"]
    assert "table edge seen" in report.steps[2][1]                   # the odometry checked against the table


def test_a_place_taken_by_another_object_is_refused(world: WorldModel) -> None:
    world.objects[0].size_m = np.array([0.14, 0.28, 0.18])                 # the red box, at (0, 0)
    taken = Place("under the box", (), (0.0, 0.05))
    world.places = (*world.places, taken)
    with pytest.raises(PlanError, match="taken by the red box"):
        validate_plan({"steps": [{"skill": "pick", "object": "blue-1"}, {"skill": "place", "place": "under the box"}]},
                      world)
    validate_plan({"steps": [{"skill": "pick", "object": "red-1"}, {"skill": "place", "place": "under the box"}]},
                  world)                                                   # the box itself may go there


def test_the_world_model_knows_how_well_it_knows_each_object() -> None:
    """A sighting is good to about 3 mm; unseen for a minute, or after the robot walked, an object is
    known worse; seeing it again refreshes it (position, time and uncertainty)."""

    def sighting(x: float, t: float) -> Detection:
        return Detection("red", np.array([x, 0.0, 0.8]), np.array([0.14, 0.28, 0.18]), np.array([0.14, 0.28]),
                         0.7, 0.7, 500, t)

    world = WorldModel(STATIONS)
    world.update([sighting(0.42, 1.0)])
    box = world.objects[0]
    assert world.sigma_at(box, 1.0) == pytest.approx(0.003)
    assert world.sigma_at(box, 61.0) == pytest.approx(np.hypot(0.003, 0.06))      # may have been moved
    assert not world.needs_look(box, 2.0) and world.needs_look(box, 61.0)
    world.robot_moved(0.4)                                                         # odometry drift
    assert world.sigma_at(box, 1.0) == pytest.approx(np.hypot(0.003, 0.02))
    world.update([sighting(0.43, 70.0)])
    assert len(world.objects) == 1 and box.seen_s == 70.0 and box.sightings == 2
    assert box.p_world_m[0] == pytest.approx(0.43) and world.sigma_at(box, 70.0) == pytest.approx(0.003)
    with pytest.raises(ValueError):
        world.robot_moved(-1.0)


def test_an_object_seen_long_ago_is_looked_at_before_it_is_picked(world: WorldModel) -> None:
    fresh = plan_offline("put the red box on station 2", world, time_s=1.0)
    stale = plan_offline("把红色的盒子放到二号工位上", world, time_s=120.0)
    assert isinstance(fresh, Plan) and [s["skill"] for s in fresh.steps] == ["pick", "place"]
    assert isinstance(stale, Plan) and [s["skill"] for s in stale.steps] == ["look", "pick", "place"]
    with pytest.raises(PlanError, match="look first"):                # an LLM's plan that does not look
        validate_plan({"steps": [{"skill": "pick", "object": "red-1"}]}, world, time_s=120.0)


@pytest.fixture
def kitchen() -> WorldModel:
    from laoshan.scenarios.instruction import InstructionScenario

    scene = InstructionScenario(scene="kitchen")
    return WorldModel(fixtures=scene.fixtures(), switches=scene.switches())


@pytest.mark.parametrize(("instruction", "expected"), [
    ("打开抽屉", (("open", "drawer"),)),
    ("open the cabinet door", (("open", "door"),)),
    ("先打开抽屉，再关上", (("open", "drawer"), ("close", "drawer"))),
    ("open the drawer, then close it", (("open", "drawer"), ("close", "drawer"))),
    ("先打开抽屉，再打开柜门", (("open", "drawer"), ("open", "door"))),
])
def test_open_and_close_instructions_become_plans(kitchen: WorldModel, instruction: str, expected: tuple) -> None:
    plan = plan_offline(instruction, kitchen)
    assert isinstance(plan, Plan)
    assert tuple((s["skill"], s["fixture"]) for s in plan.steps) == expected


def test_open_and_close_have_preconditions(kitchen: WorldModel) -> None:
    """Closed things cannot be closed, open ones not opened again, doors not closed (no skill yet),
    nothing opened with full hands; unknown fixtures and mixed steps are refused."""
    for instruction, reason in [("close the drawer", "already closed"), ("关上柜门", "not among my skills"),
                                ("打开冰箱", "do not know what to open"), ("open it", "do not know what to open"),
                                ("open the drawer and put the red box in it", "one thing at a time")]:
        answer = plan_offline(instruction, kitchen)
        assert isinstance(answer, Refusal) and reason in answer.reason, instruction
    with pytest.raises(PlanError, match="already open"):
        validate_plan({"steps": [{"skill": "open", "fixture": "drawer"}, {"skill": "open", "fixture": "抽屉"}]},
                      kitchen)
    kitchen.objects.append(WorldObject("red-1", "red", "box", np.zeros(3), np.zeros(3), 0.0))
    with pytest.raises(PlanError, match="hands are not free"):
        validate_plan({"steps": [{"skill": "pick", "object": "red-1"}, {"skill": "open", "fixture": "drawer"}]},
                      kitchen)


def test_a_handle_seen_tells_how_far_its_fixture_is_open(kitchen: WorldModel) -> None:
    """A sighting of a handle's colour on its way out is the handle, not a new object: it gives the
    fixture's opening (a drawer's along its rail, a door's about its hinge) and where it stands."""

    def yellow(p: np.ndarray) -> Detection:
        return Detection("yellow", p, np.array([0.02, 0.15, 0.07]), np.array([0.02, 0.15]), 0.7, 0.66, 300, 1.0)

    drawer, door = kitchen.fixture("抽屉"), kitchen.fixture("door")
    assert drawer is not None and door is not None and not drawer.is_open
    kitchen.update([yellow(drawer.handle_at(0.12) + [0.01, 0.0, -0.03]),     # seen 1 cm off, low on the bar
                    yellow(door.handle_at(np.radians(40.0))),
                    yellow(np.array([0.2, -0.6, 0.7]))])                     # something else yellow
    assert drawer.opening == pytest.approx(0.11) and drawer.is_open and drawer.describe_state() == "open 11 cm"
    assert drawer.p_handle_m is not None and drawer.p_handle_m[2] == pytest.approx(drawer.handle_xyz_m[2])
    assert np.allclose(drawer.map_offset(), [0.0, 0.0, 0.0], atol=1e-9)   # along the rail: taken as opening
    assert np.degrees(door.opening) == pytest.approx(40.0) and door.is_open
    assert [o.colour for o in kitchen.objects] == ["yellow"]


@pytest.mark.parametrize(("instruction", "expected"), [
    ("按一下按钮", (("press", "button"),)),
    ("press the red button", (("press", "button"),)),
    ("先打开抽屉，再按启动按钮", (("open", "drawer"), ("press", "button"))),
])
def test_press_instructions_become_plans(kitchen: WorldModel, instruction: str, expected: tuple) -> None:
    plan = plan_offline(instruction, kitchen)
    assert isinstance(plan, Plan)
    assert tuple((s["skill"], s.get("fixture") or s.get("button")) for s in plan.steps) == expected


def test_press_needs_a_known_button_and_a_free_hand(kitchen: WorldModel) -> None:
    for instruction, reason in [("按一下电梯", "do not know what to press"),
                                ("press the box", "only buttons"),
                                ("把按钮按下去拿起盒子", "one thing at a time")]:
        answer = plan_offline(instruction, kitchen)
        assert isinstance(answer, Refusal) and reason in answer.reason, instruction
    sequence = plan_offline("press the button and open the drawer", kitchen)    # "and" before a verb: then
    assert isinstance(sequence, Plan) and [s.skill for s in sequence.steps] == ["press", "open"]
    with pytest.raises(PlanError, match="no button 'bell'"):
        validate_plan({"steps": [{"skill": "press", "button": "bell"}]}, kitchen)
    kitchen.objects.append(WorldObject("red-1", "red", "box", np.zeros(3), np.zeros(3), 0.0))
    with pytest.raises(PlanError, match="a hand is not free"):
        validate_plan({"steps": [{"skill": "pick", "object": "red-1"}, {"skill": "press", "button": "按钮"}]},
                      kitchen)


def test_a_switch_seen_tells_whether_its_lamp_is_lit(kitchen: WorldModel) -> None:
    """A sighting of the cap's colour at the cap is the cap (its face: the nearest of its points), not
    an object; its lamp's colour above it in the same frame says it is lit, its absence not."""

    def blob(colour: str, centre: np.ndarray, time_s: float) -> Detection:
        points = centre + np.random.default_rng(0).uniform(-0.01, 0.01, (200, 3)) * [0.0, 1.0, 1.0]
        points[::2, 0] += 0.01                                   # the cap's rim, seen behind its face
        return Detection(colour, centre, np.zeros(3), np.zeros(2), 0.0, 0.0, 200, time_s, points)

    switch = kitchen.switch("启动按钮")
    assert switch is not None and switch.lit is None
    face = np.array(switch.cap_xyz_m) + [0.005, 0.01, 0.0]       # the panel stands a little off the map
    kitchen.update([blob("red", face, 1.0)])
    assert switch.lit is False and switch.seen_s == 1.0 and not kitchen.objects
    assert np.allclose(switch.cap_at(), face, atol=2e-3)
    kitchen.update([blob("red", face, 2.0), blob("green", face + [0.0, 0.0, switch.lamp_above_m], 2.0)])
    assert switch.lit is True and switch.describe_state() == "lit" and not kitchen.objects


def _blob(colour: str, bottom: np.ndarray, height_m: float, time_s: float = 1.0) -> Detection:
    """A seen blob: points on a 6 cm wide patch from ``bottom`` (world) up ``height_m``."""
    u = np.random.default_rng(1).uniform(0.0, 1.0, (300, 3))
    points = bottom + (u - [0.5, 0.5, 0.0]) * [0.0, 0.06, height_m]
    top = points[:, 2].max()
    return Detection(colour, np.array([*bottom[:2], (top + bottom[2]) / 2]), np.array([0.02, 0.06, height_m]),
                     np.array([0.02, 0.06]), float(bottom[2]), float(bottom[2]), 300, time_s, points)


def test_people_are_what_is_too_tall_to_be_an_object_and_a_glove_near_one_is_their_hand() -> None:
    """Legs (a tall blob from the floor) make a person; a shirt of the same colour above them is the
    same person, an orange patch beside them their open hand; a box held up is still an object."""
    world = WorldModel()
    world.update([_blob("purple", np.array([0.75, 0.30, 0.05]), 0.6),             # legs
                  _blob("purple", np.array([0.70, 0.20, 0.95]), 0.05),            # the shirt, cut off by an arm
                  _blob("orange", np.array([0.40, 0.10, 0.84]), 0.01),            # the palm held out
                  _blob("red", np.array([0.40, -0.20, 0.80]), 0.18)])              # a box lifted off the table
    assert [p.id for p in world.people] == ["person-1"] and [o.id for o in world.objects] == ["red-1"]
    person = world.people[0]
    assert person.hand_m is not None and np.allclose(person.hand_m, [0.40, 0.10, 0.85], atol=2e-3)
    assert np.linalg.norm(person.p_world_m[:2] - [0.725, 0.25]) < 0.01
    world.update([_blob("purple", np.array([0.76, 0.31, 0.05]), 0.6, time_s=2.0)])   # seen again: the same one
    assert len(world.people) == 1 and world.people[0].seen_s == 2.0


@pytest.fixture
def hall() -> WorldModel:
    world = WorldModel(objects=[WorldObject("blue-1", "blue", "cylinder", np.zeros(3), np.zeros(3), 0.0)])
    world.update([_blob("purple", np.array([0.75, 0.30, 0.05]), 0.6),
                  _blob("orange", np.array([0.4, 0.1, 0.84]), 0.01)])
    return world


@pytest.mark.parametrize("instruction", ["把蓝色的杯子递给我", "hand me the blue can", "bring me the can",
                                         "先拿起蓝色的杯子，再递给我", "pick up the can, then hand it to me"])
def test_hand_over_instructions_become_plans(hall: WorldModel, instruction: str) -> None:
    plan = plan_offline(instruction, hall)
    assert isinstance(plan, Plan), instruction
    assert [(s["skill"], s.get("object") or s.get("person")) for s in plan.steps] == [("pick", "blue-1"),
                                                                                      ("hand_over", "person-1")]


def test_hand_over_needs_someone_holding_out_a_hand_and_something_in_hand(hall: WorldModel) -> None:
    hall.looked_around_s = 0.0
    for instruction, reason in [("give it to me", "do not know what to hand over"),
                                ("把红色的盒子递给我", "I see no red box")]:
        answer = plan_offline(instruction, hall)
        assert isinstance(answer, Refusal) and reason in answer.reason, instruction
    nobody = WorldModel(objects=list(hall.objects))
    answer = plan_offline("hand me the blue can", nobody)               # someone may stand out of view
    assert isinstance(answer, Plan) and answer.replan and answer.steps == ({"skill": "look_around"},)
    nobody.looked_around_s = 3.0
    answer = plan_offline("hand me the blue can", nobody)
    assert isinstance(answer, Refusal) and "nobody" in answer.reason
    with pytest.raises(PlanError, match="nothing in hand"):
        validate_plan({"steps": [{"skill": "hand_over", "person": "person-1"}]}, hall)
    hall.people[0].hand_m = None
    with pytest.raises(PlanError, match="not holding out a hand"):
        validate_plan({"steps": [{"skill": "pick", "object": "blue-1"}, {"skill": "hand_over", "person": "person-1"}]},
                      hall)
    hall.update([_blob("green", np.array([-1.0, 0.5, 0.05]), 0.6)])                  # someone else comes in
    answer = plan_offline("hand me the blue can", hall)
    assert isinstance(answer, Question) and answer.options == ("person-1", "person-2")


def test_a_drawer_is_opened_then_closed_from_a_chinese_instruction_in_physics() -> None:
    """The camera finds the drawer's handle, the right hand hooks it and pulls the drawer out, then
    pushes it shut; each time the camera checks how far it is open (ground truth scores it)."""
    from laoshan.scenarios.instruction import InstructionScenario, run_instruction

    report = run_instruction(InstructionScenario(instruction="先打开抽屉，再关上", scene="kitchen", seed=1))
    assert "drawer closed" in report.seen
    assert [outcome.split(":")[0] for _, outcome in report.steps] == ["done", "done"]
    assert "open" in report.steps[0][0] and "close" in report.steps[1][0]
    assert report.success and not report.fell
    assert report.opened[0][:2] == ("drawer", "drawer") and report.opened[0][2] <= 0.02


def test_a_button_is_pressed_and_its_lamp_seen_lit_in_physics() -> None:
    """The camera finds the button left of the robot; the left index fingertip pushes the cap in (by
    contact alone) and the camera then sees the lamp lit (ground truth: it is)."""
    from laoshan.scenarios.instruction import InstructionScenario, run_instruction

    report = run_instruction(InstructionScenario(instruction="按一下按钮", scene="kitchen", seed=3))
    assert "button not lit" in report.seen
    assert report.steps == (("attempt 1: press the button", "done: the button's lamp is seen lit"),)
    assert report.success and not report.fell and report.pressed == (("button", True),)


def test_a_can_is_handed_to_a_customer_in_physics() -> None:
    """In the service hall the camera finds the can on the counter and the customer holding out a
    hand beside it; the right hand picks the can and sets it on the customer's palm, where the
    camera sees it (ground truth: it stands on the palm, held there by friction alone)."""
    from laoshan.scenarios.instruction import InstructionScenario, run_instruction

    report = run_instruction(InstructionScenario(instruction="把蓝色的杯子递给我", scene="hall", seed=0))
    assert "person-1 holding out a hand" in report.seen
    assert report.plan is not None and [s["skill"] for s in report.plan.steps] == ["pick", "hand_over"]
    assert report.steps[-1][0] == "set it down on person-1's hand" and report.steps[-1][1].startswith("done")
    assert report.success and not report.fell and report.error_m is not None and report.error_m < 0.03


def test_a_door_out_of_reach_is_walked_to_and_opened() -> None:
    from laoshan.scenarios.instruction import InstructionScenario, run_instruction

    report = run_instruction(InstructionScenario(instruction="打开柜门", scene="kitchen", seed=0))
    assert report.steps[0][0] == "walk to the door" and report.steps[0][1].startswith("arrived")
    assert report.steps[-1][1].startswith("done")                    # the camera saw it open
    assert report.success and not report.fell and np.degrees(report.opened[0][2]) >= 30.0
