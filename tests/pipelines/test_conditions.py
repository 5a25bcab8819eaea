"""``if:`` conditions: what each expression means for a step that is due, and the errors of
expressions that cannot be parsed. Nothing is ``eval``-ed."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from pavedroad.pipelines.definition import ConditionError, ConditionFacts, evaluate_condition


def facts(
    branch: str = "main",
    *,
    tag: str | None = None,
    event: str = "push",
    changed: list[str] | None = None,
    results: Mapping[str, str] | None = None,
    needs: tuple[str, ...] = (),
) -> ConditionFacts:
    return ConditionFacts(
        branch=branch,
        default_branch="main",
        event=event,
        tag=tag,
        changed_paths=changed,
        results=results or {},
        needs=needs,
    )


def error_of(expression: str) -> ConditionError:
    with pytest.raises(ConditionError) as raised:
        evaluate_condition(expression, facts())
    return raised.value


class TestComparisons:
    def test_branch_against_the_default_branch(self) -> None:
        assert evaluate_condition("branch == default", facts("main"))
        assert not evaluate_condition("branch == default", facts("feature"))
        assert evaluate_condition("branch != default_branch", facts("feature"))

    def test_bare_words_and_quoted_strings_are_text(self) -> None:
        assert evaluate_condition("branch == main", facts("main"))
        assert evaluate_condition("branch == 'release/1.0'", facts("release/1.0"))
        assert evaluate_condition('branch == "a b"', facts("a b"))
        assert evaluate_condition("branch == release/1.0", facts("release/1.0"))

    def test_regular_expressions_search_the_value(self) -> None:
        assert evaluate_condition("tag =~ ^v[0-9]+", facts(tag="v12"))
        assert not evaluate_condition("tag =~ ^v", facts(tag="nightly"))
        assert evaluate_condition("branch =~ 'release/.*'", facts("release/2"))

    def test_without_a_tag_tag_comparisons_are_false_and_tag_alone_is_false(self) -> None:
        assert not evaluate_condition("tag =~ ^v", facts())
        assert not evaluate_condition("tag == v1", facts())
        assert not evaluate_condition("tag", facts())
        assert evaluate_condition("tag", facts(tag="v1"))

    def test_the_event(self) -> None:
        assert evaluate_condition("event == pull_request", facts(event="pull_request"))


class TestLogic:
    def test_and_binds_tighter_than_or_and_parentheses_group(self) -> None:
        assert evaluate_condition("branch == x or branch == main and event == push", facts())
        assert not evaluate_condition("(branch == x or branch == main) and event == tag", facts())

    def test_not(self) -> None:
        assert evaluate_condition("not branch == x", facts())
        assert not evaluate_condition("not (branch == main)", facts())


class TestChangedPaths:
    def test_globs_match_changed_paths_and_double_star_crosses_directories(self) -> None:
        changed = ["src/app/main.py", "README.md"]
        assert evaluate_condition("changed('src/**')", facts(changed=changed))
        assert evaluate_condition("changed('**/*.py')", facts(changed=changed))
        assert evaluate_condition("changed('*.md')", facts(changed=changed))
        assert not evaluate_condition("changed('src/*.py')", facts(changed=changed))
        assert not evaluate_condition("changed('docs/**', 'mkdocs.yml')", facts(changed=changed))
        assert evaluate_condition("changed('docs/**', 'README.md')", facts(changed=changed))

    def test_unknown_changed_paths_count_as_changed(self) -> None:
        assert evaluate_condition("changed('docs/**')", facts(changed=None))

    def test_nothing_changed_means_false(self) -> None:
        assert not evaluate_condition("changed('**')", facts(changed=[]))


class TestResultsOfEarlierSteps:
    def test_no_condition_means_every_need_succeeded_or_was_skipped(self) -> None:
        needs = ("a.x", "a.y")
        assert evaluate_condition(
            None, facts(results={"a.x": "succeeded", "a.y": "skipped"}, needs=needs)
        )
        assert not evaluate_condition(
            None, facts(results={"a.x": "failed", "a.y": "succeeded"}, needs=needs)
        )
        assert not evaluate_condition(None, facts(results={"a.x": "succeeded"}, needs=needs))

    def test_no_condition_is_false_when_anything_earlier_failed(self) -> None:
        results = {"a.x": "succeeded", "b.other": "failed"}
        assert not evaluate_condition(None, facts(results=results, needs=("a.x",)))

    def test_a_condition_without_status_functions_also_needs_success(self) -> None:
        results = {"a.x": "failed"}
        assert not evaluate_condition("branch == main", facts(results=results, needs=("a.x",)))

    def test_failure_and_always(self) -> None:
        failed = facts(results={"a.x": "failed"}, needs=("a.x",))
        assert evaluate_condition("failure()", failed)
        assert not evaluate_condition("success()", failed)
        assert evaluate_condition("always()", failed)
        assert not evaluate_condition("failure()", facts(results={"a.x": "succeeded"}))

    def test_result_returns_a_steps_status(self) -> None:
        results = {"test.unit": "failed"}
        assert evaluate_condition("result('test.unit') == failed", facts(results=results))
        assert evaluate_condition("result('test.later') == pending", facts(results=results))

    def test_success_combines_with_other_conditions(self) -> None:
        ok = facts(changed=["src/a.py"], results={"a.x": "succeeded"}, needs=("a.x",))
        assert evaluate_condition("changed('src/**') and success()", ok)


class TestSyntaxErrors:
    def test_a_dangling_operator_names_the_column(self) -> None:
        error = error_of("branch == main and")
        assert error.column == 19
        assert "column 19" in error.message

    def test_an_unknown_function_lists_the_functions(self) -> None:
        error = error_of("deployed()")
        assert "unknown function deployed()" in error.message
        assert "changed()" in error.hint

    def test_an_unterminated_string(self) -> None:
        assert "unterminated string" in error_of("branch == 'main").message

    def test_a_value_alone_is_not_a_condition(self) -> None:
        error = error_of("main")
        assert "not a condition" in error.message
        assert "branch == main" in error.hint

    def test_comparing_conditions_is_refused(self) -> None:
        assert "compares values" in error_of("success() == true").message

    def test_an_invalid_regular_expression(self) -> None:
        assert "invalid regular expression" in error_of("tag =~ '(['").message

    def test_unbalanced_parentheses_and_empty_expressions(self) -> None:
        assert "expected ')'" in error_of("(branch == main").message
        assert "found ')'" in error_of("branch == main)").message

    def test_function_arguments(self) -> None:
        assert "at least one glob" in error_of("changed()").message
        assert "one step id" in error_of("result()").message
        assert "no arguments" in error_of("success('x')").message

    def test_python_is_not_evaluated(self) -> None:
        error = error_of("__import__('os').system('true')")
        assert "unknown function" in error.message
