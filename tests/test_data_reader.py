"""read_document: bounded, strict input (duplicate keys, depth, aliases, size, numbers)."""

import pytest

from storylab._data import MAX_ALIAS_NODES, MAX_DEPTH, DataError, read_document


def _problem(label: str, text: str) -> str:
    with pytest.raises(DataError) as info:
        read_document(label, text=text)
    (problem,) = info.value.problems
    assert problem.file == label
    return str(problem)


def test_duplicate_keys_are_refused_with_their_line():
    assert "line 3, column 1" in _problem("w.yaml", "a: 1\nb: 2\na: 3\n")
    assert "duplicate key 'a'" in _problem("w.json", '{"a": 1, "a": 2}')


def test_merge_keys_may_be_overridden():
    data = read_document("m.yaml", text="base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 5\n")
    assert data["d"] == {"x": 5, "y": 2}


@pytest.mark.parametrize("label", ["deep.yaml", "deep.json"])
def test_nesting_is_bounded(label):
    assert f"at most {MAX_DEPTH} levels" in _problem(label, "[" * 5000 + "]" * 5000)


def test_nesting_at_the_bound_is_accepted():
    depth = MAX_DEPTH
    assert read_document("ok.yaml", text="[" * depth + "]" * depth) is not None


def test_alias_bomb_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    assert f"{MAX_ALIAS_NODES:,}" in _problem("bomb.yaml", "\n".join(lines))


def test_few_aliases_are_fine():
    data = read_document("a.yaml", text="a: &a [1, 2]\nb: [*a, *a]\n")
    assert data["b"] == [[1, 2], [1, 2]]


def test_recursive_alias_is_refused():
    assert "recursive alias" in _problem("r.yaml", "a: &a [*a]\n")


@pytest.mark.parametrize("label", ["n.yaml", "n.json"])
def test_huge_integers_are_refused(label):
    text = "9" * 5000 if label.endswith("json") else "a: " + "9" * 5000
    assert "digits" in _problem(label, text)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_refuses_non_finite_numbers(constant):
    assert "not JSON" in _problem("c.json", f'{{"a": {constant}}}')


def test_a_directory_is_not_a_file(tmp_path):
    with pytest.raises(DataError, match="directory"):
        read_document(tmp_path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_document(tmp_path / "nope.yaml")
