"""The content format: the shipped curriculum is valid; broken files are named with their line."""

from pathlib import Path

import pytest

from lms.config import ROOT
from lms.curriculum.content import load_curriculum, word_count
from tests.content_fixture import module, translation


def _problems(root: Path) -> list[str]:
    return [str(problem) for problem in load_curriculum(root).problems]


def test_the_shipped_curriculum_is_valid_and_complete() -> None:
    curriculum = load_curriculum(ROOT / "content")
    assert [str(problem) for problem in curriculum.problems] == []
    assert len(curriculum.tracks) >= 4
    assert len(curriculum.modules) >= 16
    for item in curriculum.modules.values():
        assert 600 <= word_count(item.original.body) <= 2000, item.slug
        assert len(item.questions) >= 5, item.slug
        assert "!!! example" in item.original.body, f"{item.slug} has no scenario"
        assert item.sources, item.slug


def test_check_command_passes_on_the_shipped_content(runner, app) -> None:
    app.config["CONTENT_DIR"] = ROOT / "content"
    result = runner.invoke(args=["lms", "content", "check"])
    assert result.exit_code == 0, result.output
    assert "Content OK" in result.output


def test_check_command_names_file_and_line_and_fails(runner, content_dir) -> None:
    path = content_dir / "basics" / "second-module.md"
    path.write_text(path.read_text().replace("estimated_minutes: 20", "estimated_minutes: [20"))
    result = runner.invoke(args=["lms", "content", "check"])
    assert result.exit_code != 0
    assert "basics/second-module.md:" in result.output
    assert "YAML does not parse" in result.output


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("version: 1", "version: 1\ncolour: red"), "second-module.md:10: unknown key 'colour'"),
        (('summary: "A module for tests."\n', ""), "second-module.md:1: missing key 'summary'"),
        (("audience: [all]", "audience: [generals]"), "second-module.md:6: 'audience' must be a list of"),
        (('title: "Second Module"', "title: yes"), "second-module.md:3: 'title' must be text; put it in quotes"),
        (
            ('{id: a, text: "Option a of q2", correct: true}', '{id: a, text: "Option a of q2"}'),
            "question 'q2' has no correct answer",
        ),
        (("    - id: q3\n", "    - id: q2\n"), "question id 'q2' is used twice"),
        (
            ('url: "https://undocs.org/S/RES/1325(2000)"', 'url: "javascript:alert(1)"'),
            "a source's url must start with https://",
        ),
        (
            ("Introduction to the module.", "See [this](module:no-such-module)."),
            "second-module.md:104: broken link: no module 'no-such-module'",
        ),
        (
            ('explanation: "Because a is right for q2."', 'explanation: "Option a is right, as the text says."'),
            "question 'q2': the explanation names an option by its letter",
        ),
        (
            ('{id: d, text: "Option d of q5"}', '{id: d, text: "Option d of q5", correct: true}'),
            "question 'q5' has several right answers but only 1 wrong option",
        ),
        (("draw: 5", "draw: 8"), "the pool (10) must be at least 3 larger than 'draw' (8)"),
        (("draw: 5", "draw: 11"), "'draw' must be a whole number from 1 to 10"),
    ],
)
def test_each_kind_of_problem_is_reported_with_its_line(content_dir, change, expected) -> None:
    path = content_dir / "basics" / "second-module.md"
    old, new = change
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    problems = _problems(content_dir)
    assert any(expected in problem for problem in problems), problems


def test_too_few_questions_and_wrong_length(content_dir) -> None:
    path = content_dir / "basics" / "second-module.md"
    text = path.read_text()
    start = text.index("    - id: q2")
    end = text.index("---", start)
    short = text[:start] + text[end:]
    short = short[: short.index("## First section")] + "## Too short\n\nOnly a few words here.\n"
    path.write_text(short)
    problems = " ".join(_problems(content_dir))
    assert "'draw' must be a whole number from 1 to 1" in problems  # a pool of one question
    assert "the text has" in problems and "a module has 600 to 2000 words" in problems


def test_duplicate_slugs_and_track_listing(content_dir) -> None:
    (content_dir / "advanced" / "first-module.md").write_text(module("first-module", "advanced"))
    (content_dir / "advanced" / "unlisted-module.md").write_text(module("unlisted-module", "advanced"))
    problems = " ".join(_problems(content_dir))
    assert "duplicate slug 'first-module'" in problems
    assert "module 'unlisted-module' has a file but is not listed" in problems


def test_translation_needs_its_source_and_the_same_questions(content_dir) -> None:
    (content_dir / "basics" / "missing-module.hr.md").write_text(translation("missing-module", "hr"))
    bad_ids = translation("second-module", "mk").replace("id: q5", "id: q9")
    (content_dir / "basics" / "second-module.mk.md").write_text(bad_ids)
    (content_dir / "basics" / "second-module.xx.md").write_text(translation("second-module", "xx"))
    problems = " ".join(_problems(content_dir))
    assert "missing-module.hr.md:2: the original module 'missing-module.md' is missing" in problems
    assert "second-module.mk.md" in problems and "the questions differ from the original's" in problems
    assert "unknown language 'xx'" in problems


def test_a_broken_file_leaves_the_rest_valid(content_dir) -> None:
    (content_dir / "basics" / "second-module.md").write_text("no front matter at all")
    curriculum = load_curriculum(content_dir)
    assert "third-module" in curriculum.modules and "first-module" in curriculum.modules
    assert "second-module" not in curriculum.modules
    assert any("second-module.md:1: the file must start with a line '---'" in str(p) for p in curriculum.problems)


def test_right_answers_that_are_the_longest_option_are_reported(content_dir) -> None:
    """Two of eight single-answer items may have the longest right answer; three may not."""
    path = content_dir / "basics" / "second-module.md"
    text = path.read_text()
    for number in (1, 2):
        text = text.replace(
            f'text: "Option a of q{number}", correct', f'text: "Option a of q{number} at length", correct'
        )
    path.write_text(text)
    assert not any("longest option" in problem for problem in _problems(content_dir))
    path.write_text(text.replace('text: "Option a of q3", correct', 'text: "Option a of q3 at length", correct'))
    longest = [problem for problem in _problems(content_dir) if "longest option" in problem]
    assert len(longest) == 3 and all("as in 3 of the 8 single-answer questions" in problem for problem in longest)
    assert any(problem.startswith("basics/second-module.md:") and "'q3'" in problem for problem in longest)


def test_the_check_reports_the_banks_longest_answer_share(runner) -> None:
    result = runner.invoke(args=["lms", "content", "check"])
    assert "the right answer is the longest option in 0 of 24 single-answer questions (0%)" in result.output
