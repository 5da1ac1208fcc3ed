"""Choosing drills: the [routines] keys, the filters and the rotation."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scaffold import DEFAULT_ROTATION

from ergobreak.config import ConfigError, load_file
from ergobreak.config.kinds import ValueProblem
from ergobreak.config.schema import (
    KEY_BY_NAME,
    ROUTINE_KEYS,
    defaults,
    to_filters,
)
from ergobreak.content import (
    Filters,
    Library,
    SelectionError,
    builtin_library,
    default_content,
    select,
    selection,
)
from ergobreak.content.rotation import rotation
from ergobreak.core.content import CATEGORIES, EQUIPMENT_TAGS, TAGS, Cue, Drill, Step
from ergobreak.sim.testing import events, fields, run

BUILTIN = builtin_library()


def values(**changes: Any) -> dict[str, Any]:
    """Parsed routines values: ``values(floor=True, exclude_tags=["kneeling"])``."""
    out = {name: value for name, value in defaults().items() if name in ROUTINE_KEYS}
    for short, raw in changes.items():
        key = KEY_BY_NAME[f"routines.{short}"]
        out[key.name] = key.parse(raw)
    return out


def filters(**changes: Any) -> Filters:
    """``values(...)`` as the content's filters."""
    return to_filters(values(**changes))


def ids(drills: Sequence[Drill]) -> list[str]:
    return [d.id for d in drills]


# ---------------------------------------------------------------- config


def test_routines_keys_have_documented_defaults() -> None:
    assert set(ROUTINE_KEYS) <= set(KEY_BY_NAME)
    parsed = defaults()
    assert parsed["routines.categories"] == ("hip_flexor", "hinge", "mobility", "glutes")
    assert parsed["routines.only"] == ()
    assert parsed["routines.equipment"] == ("wall",)
    assert parsed["routines.floor"] is False
    assert parsed["routines.prefer_seated"] is False
    assert parsed["routines.exclude_tags"] == ()
    assert all(KEY_BY_NAME[name].doc for name in ROUTINE_KEYS)


def test_the_routines_defaults_are_the_contents_own() -> None:
    assert [f"routines.{f.name}" for f in dataclasses.fields(Filters)] == list(ROUTINE_KEYS)
    assert to_filters(defaults()) == Filters()


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        (
            "routines.categories",
            ["hips"],
            'unknown category "hips"; expected one of hip_flexor, hinge, mobility, glutes, seated',
        ),
        (
            "routines.categories",
            ["hinge", "hinge"],
            '"hinge" is listed twice',
        ),
        (
            "routines.categories",
            [],
            "expected at least one category, got an empty array"
            " (to choose drills one by one, use routines.only)",
        ),
        (
            "routines.equipment",
            ["bands"],
            'unknown equipment "bands" (did you mean "band"?); expected one of band, stick, wall',
        ),
        (
            "routines.exclude_tags",
            ["kneel"],
            f'unknown tag "kneel" (did you mean "kneeling"?); expected one of {", ".join(TAGS)}',
        ),
        (
            "routines.only",
            ["Hinge Wall"],
            'expected routine ids like "hinge_wall" (lowercase letters, digits and underscores),'
            ' got "Hinge Wall"',
        ),
        (
            "routines.only",
            5,
            'expected routine ids like ["hipflexor_standing", "hinge_wall"], got integer 5',
        ),
        ("routines.floor", "yes", 'expected true or false, got "yes"'),
    ],
)
def test_routines_values_are_checked(key: str, raw: object, message: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        KEY_BY_NAME[key].parse(raw)
    assert str(caught.value) == message


def test_a_lone_string_is_a_one_item_list() -> None:
    assert KEY_BY_NAME["routines.categories"].parse("glutes") == ("glutes",)


def test_config_errors_point_at_the_routines_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[routines]\nexclude_tags = ["kneel"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    (diag,) = caught.value.diagnostics
    assert diag.headline() == (
        f"{path}:2:16: error: routines.exclude_tags:"
        f' unknown tag "kneel" (did you mean "kneeling"?); expected one of {", ".join(TAGS)}'
    )


# ------------------------------------------------------------- selection


def test_default_rotation_alternates_the_four_standing_categories() -> None:
    content = default_content()
    assert ids(content.drills) == DEFAULT_ROTATION
    assert [d.category for d in content.drills] == ["hip_flexor", "hinge", "mobility", "glutes"] * 2
    # everything stays startable by id
    assert content.drill("glute_bridge") is not None
    assert content.cues == BUILTIN.cues


def test_floor_and_equipment_widen_the_rotation() -> None:
    chosen = select(BUILTIN, filters(floor=True, equipment=["wall", "stick", "band"]))
    assert sorted(ids(chosen.drills)) == sorted(
        d.id for d in BUILTIN.drills if d.category != "seated"
    )


def test_prefer_seated_keeps_only_seated_drills() -> None:
    chosen = select(BUILTIN, filters(prefer_seated=True))
    assert ids(chosen.drills) == ["figure4_seated", "seated_reset"]


def test_after_hip_surgery_seated_still_leaves_the_seated_fallback() -> None:
    after_surgery = ["crossing-legs", "deep-hip-flexion", "kneeling", "hip-adduction"]
    chosen = select(BUILTIN, filters(prefer_seated=True, exclude_tags=after_surgery))
    assert ids(chosen.drills) == ["seated_reset"]


def test_pregnancy_filter_removes_lying_on_back() -> None:
    chosen = select(BUILTIN, filters(floor=True, exclude_tags=["lying-on-back"]))
    assert "glute_bridge" not in ids(chosen.drills)
    assert "clamshell" in ids(chosen.drills)


def test_only_replaces_categories_in_the_given_order() -> None:
    chosen = selection(BUILTIN, filters(only=["seated_reset", "hinge_wall", "hipflexor_standing"]))
    assert ids(chosen.drills) == ["seated_reset", "hinge_wall", "hipflexor_standing"]
    assert chosen.left_out["good_morning_bw"] == "not in routines.only"
    assert chosen.diagnostics == ()


def test_filters_apply_to_only_too() -> None:
    chosen = selection(BUILTIN, filters(only=["glute_bridge", "hinge_wall"]))
    assert ids(chosen.drills) == ["hinge_wall"]
    assert chosen.left_out["glute_bridge"] == "floor work (routines.floor = false)"


def test_left_out_says_why() -> None:
    chosen = selection(BUILTIN, filters(exclude_tags=["balance"]))
    assert chosen.left_out == {
        "hipflexor_standing": "tagged balance (routines.exclude_tags)",
        "hipflexor_half_kneel": "floor work (routines.floor = false);"
        " tagged balance (routines.exclude_tags)",
        "hinge_dowel": "needs stick (routines.equipment)",
        "leg_swings": "tagged balance (routines.exclude_tags)",
        "glute_squeeze_backlift": "tagged balance (routines.exclude_tags)",
        "hip_abduction_standing": "tagged balance (routines.exclude_tags)",
        "glute_bridge": "floor work (routines.floor = false)",
        "clamshell": "floor work (routines.floor = false)",
        "lateral_band_walk": "needs band (routines.equipment); tagged balance"
        " (routines.exclude_tags)",
        "seated_reset": "category seated is not in routines.categories",
    }


def test_unknown_ids_in_only_are_warnings_with_did_you_mean() -> None:
    text = '[routines]\nonly = ["hinge_wal", "seated_reset"]\n'
    chosen = selection(
        BUILTIN, filters(only=["hinge_wal", "seated_reset"]), path="config.toml", text=text
    )
    assert ids(chosen.drills) == ["seated_reset"]
    (diag,) = chosen.diagnostics
    assert diag.format() == (
        'config.toml:2:9: warning: routines.only: unknown routine "hinge_wal" (ignored)\n'
        '   2 | only = ["hinge_wal", "seated_reset"]\n'
        "               ^\n"
        "     = did you mean hinge_wall?"
    )


def test_an_empty_set_is_an_error_naming_the_filters() -> None:
    text = '[routines]\ncategories = ["glutes"]\nexclude_tags = ["balance"]\nequipment = []\n'
    with pytest.raises(SelectionError) as caught:
        select(
            BUILTIN,
            filters(categories=["glutes"], exclude_tags=["balance"], equipment=[]),
            path="config.toml",
            text=text,
        )
    (diag,) = caught.value.diagnostics
    assert diag.headline() == (
        "config.toml:1:1: error: routines: no drill is eligible:"
        ' routines.categories = ["glutes"] selects 5 drills;'
        " routines.floor = false removes glute_bridge, clamshell;"
        " routines.equipment = [] removes lateral_band_walk;"
        ' routines.exclude_tags = ["balance"] removes glute_squeeze_backlift,'
        " hip_abduction_standing, lateral_band_walk"
    )
    assert diag.hint == (
        "to widen the choice: set routines.floor = true, or add equipment you have to"
        " routines.equipment, or exclude fewer tags, or choose more categories"
    )
    assert isinstance(caught.value, ConfigError)


def test_only_unknown_ids_is_an_error() -> None:
    with pytest.raises(SelectionError) as caught:
        select(BUILTIN, filters(only=["nope_nope"]))
    warning, error = caught.value.diagnostics
    assert warning.severity == "warning"
    assert error.headline() == (
        'config: error: routines: no drill is eligible: routines.only = ["nope_nope"]'
        " selects 0 drills"
    )


def test_selection_reads_values_from_a_loaded_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[routines]\nfloor = true\ncategories = ["glutes"]\n', encoding="utf-8")
    loaded = load_file(path)
    chosen = select(BUILTIN, to_filters(loaded.values))
    assert ids(chosen.drills) == [
        "glute_squeeze_backlift",
        "hip_abduction_standing",
        "glute_bridge",
        "clamshell",
    ]


def test_the_core_cycles_the_rotation_in_the_same_order_twice() -> None:
    content = default_content()
    records = run(";".join(["30m,active", "3m,idle"] * 16), sampling="deadline", content=content)
    started = [fields(r)["routine"] for r in events(records, "drill_start")]
    assert started == DEFAULT_ROTATION * 2


# ------------------------------------------------------------ properties

CAT_LIST = list(CATEGORIES)


@st.composite
def libraries(draw: st.DrawFn) -> Library:
    count = draw(st.integers(min_value=1, max_value=14))
    drills = tuple(
        Drill(
            id=f"d{n}",
            title=f"Drill {n}",
            category=draw(st.sampled_from(CATEGORIES)),
            steps=(Step(seconds=120, text="Move."),),
            safety="Gently.",
            tags=draw(st.frozensets(st.sampled_from(TAGS), max_size=4)),
        )
        for n in range(count)
    )
    return Library(cues=(Cue(id="c", text="Sit tall."),), drills=drills)


@st.composite
def routines(draw: st.DrawFn, library: Library) -> dict[str, Any]:
    known = [d.id for d in library.drills]
    only = draw(
        st.one_of(
            st.just([]),
            st.lists(st.sampled_from([*known, "zz_unknown"]), unique=True, max_size=6),
        )
    )
    return values(
        categories=draw(st.lists(st.sampled_from(CAT_LIST), min_size=1, unique=True)),
        only=only,
        equipment=draw(st.lists(st.sampled_from(EQUIPMENT_TAGS), unique=True)),
        floor=draw(st.booleans()),
        prefer_seated=draw(st.booleans()),
        exclude_tags=draw(st.lists(st.sampled_from(TAGS), unique=True, max_size=3)),
    )


def candidates_and_filters(
    library: Library, v: dict[str, Any]
) -> tuple[list[Drill], dict[str, set[str]]]:
    """The candidates and what each filter removes, as the docs state them."""
    if v["routines.only"]:
        by_id = {d.id: d for d in library.drills}
        candidates = [by_id[i] for i in v["routines.only"] if i in by_id]
    else:
        cats = set(v["routines.categories"])
        if v["routines.prefer_seated"]:
            cats.add("seated")
        candidates = [d for d in library.drills if d.category in cats]
    tests: dict[str, Callable[[Drill], bool]] = {
        "routines.prefer_seated = true": lambda d: (
            v["routines.prefer_seated"] and "seated" not in d.tags
        ),
        "routines.floor = false": lambda d: not v["routines.floor"] and "floor" in d.tags,
        "routines.equipment": lambda d: (
            not (d.tags & set(EQUIPMENT_TAGS) <= set(v["routines.equipment"]))
        ),
        "routines.exclude_tags": lambda d: bool(d.tags & set(v["routines.exclude_tags"])),
    }
    removed = {name: {d.id for d in candidates if test(d)} for name, test in tests.items()}
    return candidates, removed


def expected_eligible(library: Library, v: dict[str, Any]) -> list[Drill]:
    candidates, removed = candidates_and_filters(library, v)
    gone = set().union(*removed.values())
    return [d for d in candidates if d.id not in gone]


def same_category_pairs(drills: Sequence[Drill], *, ring: bool) -> int:
    cats = [d.category for d in drills]
    pairs = list(itertools.pairwise(cats))
    if ring and len(cats) > 1:
        pairs.append((cats[-1], cats[0]))
    return sum(a == b for a, b in pairs)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_filters_and_rotation_behave_as_documented(data: st.DataObject) -> None:
    library = data.draw(libraries())
    v = data.draw(routines(library))
    expected = expected_eligible(library, v)
    if not expected:
        with pytest.raises(SelectionError) as caught:
            select(library, to_filters(v))
        error = caught.value.diagnostics[-1]
        assert error.severity == "error"
        assert error.key == "routines"
        assert error.message.startswith("no drill is eligible: ")
        _, removed = candidates_and_filters(library, v)
        for name, gone in removed.items():
            # a filter is named exactly when it removed something
            assert (f"{name}" in error.message and " removes " in error.message) == bool(gone)
            if gone:
                named = error.message.split(name, 1)[1].split(";")[0]
                assert all(ident in named.split(" removes ")[1].split(", ") for ident in gone)
        return
    chosen = select(library, to_filters(v)).drills
    # a permutation of the eligible set: nothing repeats before all had a turn
    assert sorted(ids(chosen)) == sorted(ids(expected))
    assert len(set(ids(chosen))) == len(chosen)
    for drill in chosen:
        assert not drill.tags & set(v["routines.exclude_tags"])
        assert drill.tags & set(EQUIPMENT_TAGS) <= set(v["routines.equipment"])
        assert v["routines.floor"] or "floor" not in drill.tags
        assert not v["routines.prefer_seated"] or "seated" in drill.tags
    if v["routines.only"]:
        assert ids(chosen) == ids(expected)  # in the given order
    else:
        assert {d.category for d in chosen} <= {*v["routines.categories"], "seated"}
    # deterministic: cycling the rotation twice repeats the same order
    assert select(library, to_filters(v)).drills == chosen


@settings(max_examples=300, deadline=None)
@given(
    cats=st.lists(st.sampled_from(CAT_LIST), min_size=1, max_size=16),
    order=st.permutations(CAT_LIST),
)
def test_rotation_alternates_categories_as_much_as_possible(
    cats: list[str], order: list[str]
) -> None:
    drills = [
        Drill(
            id=f"d{n}",
            title="D",
            category=cat,  # type: ignore[arg-type]
            steps=(Step(seconds=120, text="x"),),
            safety="s",
        )
        for n, cat in enumerate(cats)
    ]
    out = rotation(drills, order)
    n = len(out)
    most = max(Counter(cats).values())
    assert sorted(ids(out)) == sorted(ids(drills))
    # the fewest back-to-back pairs possible, as a ring and within one pass
    if n > 1:
        assert same_category_pairs(out, ring=True) == max(0, 2 * most - n)
    assert same_category_pairs(out, ring=False) == max(0, 2 * most - n - 1)
    if len(set(cats)) > 1 and most * 2 <= n:
        assert same_category_pairs(out, ring=True) == 0
    # drills keep their order within a category
    for cat in set(cats):
        assert [d.id for d in out if d.category == cat] == [
            d.id for d in drills if d.category == cat
        ]
    # balanced categories come round in the configured order
    present = [c for c in order if c in cats]
    if len(set(Counter(cats).values())) == 1:
        assert [d.category for d in out] == present * most


@pytest.mark.parametrize("n", range(1, 8))
def test_the_minimum_pair_counts_are_right(n: int) -> None:
    """Brute force: the bounds used above are the true minima for small rings."""
    for combo in itertools.combinations_with_replacement("abc", n):
        most = max(Counter(combo).values())
        best_ring = min(
            sum(a == b for a, b in zip(p, p[1:] + p[:1], strict=True))
            for p in set(itertools.permutations(combo))
        )
        best_row = min(
            sum(a == b for a, b in itertools.pairwise(p))
            for p in set(itertools.permutations(combo))
        )
        assert best_ring == (max(0, 2 * most - n) if n > 1 else 1)
        assert best_row == max(0, 2 * most - n - 1)
