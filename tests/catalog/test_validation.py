"""Backstage's entity rules, one behaviour per test, through the same pipeline ingestion uses."""

from __future__ import annotations

from typing import Any

import pytest

from pavedroad.catalog.descriptors import DescriptorSyntaxError, Positions, parse_documents
from pavedroad.catalog.kinds import BUILTIN_PROCESSOR
from pavedroad.catalog.processing import EntityPipeline
from pavedroad.catalog.refs import RefError, parse_ref
from pavedroad.config import BUILTIN_KINDS
from tests.helpers import component, group

PIPELINE = EntityPipeline([BUILTIN_PROCESSOR], list(BUILTIN_KINDS))


def problems_of(entity: Any) -> list[tuple[str, str]]:
    outcome = PIPELINE.process(entity, 0, read_placeholder=None)
    return [(p.category, p.field_path) for p in outcome.problems]


def messages_of(entity: Any) -> list[str]:
    outcome = PIPELINE.process(entity, 0, read_placeholder=None)
    return [f"{p.message} — {p.hint}" for p in outcome.problems]


class TestNames:
    @pytest.mark.parametrize(
        "name", ["a", "payments", "Payments-API", "a.b_c-d", "x" * 63, "9lives"]
    )
    def test_valid_names_are_accepted(self, name: str) -> None:
        assert problems_of(component(name)) == []

    @pytest.mark.parametrize("name", ["my service", "-lead", "trail-", "x" * 64, "a/b", "ä", ""])
    def test_invalid_names_are_refused_on_metadata_name(self, name: str) -> None:
        categories = problems_of(component(name))
        assert categories and categories[0][1] == "metadata.name"

    def test_a_name_of_64_characters_says_how_long_it_is_and_how_to_shorten_it(self) -> None:
        [message] = messages_of(component("a" * 64))
        assert "64 characters" in message
        assert f'"{"a" * 63}"' in message

    def test_a_cyrillic_look_alike_is_named_with_its_unicode_name(self) -> None:
        [message] = messages_of(component("p\u0430yments"))  # Cyrillic a
        assert "CYRILLIC SMALL LETTER A" in message
        assert 'looks like "a"' in message
        assert '"payments"' in message  # the suggested fix

    def test_a_greek_omicron_is_caught_too(self) -> None:
        [message] = messages_of(component("l\u03bfgs"))
        assert "GREEK SMALL LETTER OMICRON" in message


class TestNamespacesTagsLinksAnnotations:
    def test_namespace_must_be_a_lower_case_dns_label(self) -> None:
        entity = component("svc")
        entity["metadata"]["namespace"] = "Team_A"
        assert problems_of(entity) == [("field-format:metadata.namespace", "metadata.namespace")]

    def test_tags_must_be_lower_case_words(self) -> None:
        entity = component("svc")
        entity["metadata"]["tags"] = ["java", "Spring Boot"]
        assert problems_of(entity) == [("field-format:tags", "metadata.tags[1]")]

    def test_links_need_an_absolute_url(self) -> None:
        entity = component("svc")
        entity["metadata"]["links"] = [{"url": "/docs", "title": "Docs"}]
        assert problems_of(entity) == [("field-format:links.url", "metadata.links[0].url")]

    def test_annotation_values_must_be_strings(self) -> None:
        entity = component("svc")
        entity["metadata"]["annotations"] = {"example.com/port": 8080}
        [(category, field)] = problems_of(entity)
        assert field == "metadata.annotations.example.com/port"
        assert "must be string" in category

    def test_annotation_keys_may_have_a_dns_prefix(self) -> None:
        entity = component("svc")
        entity["metadata"]["annotations"] = {"backstage.io/techdocs-ref": "dir:."}
        assert problems_of(entity) == []

    def test_unknown_top_level_fields_are_refused(self) -> None:
        entity = component("svc")
        entity["owner"] = "team-a"
        [(category, field)] = problems_of(entity)
        assert field == "owner" and "additional properties" in category


class TestKinds:
    def test_component_without_owner_names_the_field_and_gives_an_example(self) -> None:
        entity = component("svc")
        del entity["spec"]["owner"]
        assert messages_of(entity) == [
            'spec.owner is required for kind Component — e.g. "owner: team-payments"'
        ]

    def test_api_needs_a_definition(self) -> None:
        api = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "orders"},
            "spec": {"type": "openapi", "lifecycle": "production", "owner": "team-a"},
        }
        assert problems_of(api) == [
            ("schema:/spec must have required property 'definition'", "spec.definition")
        ]

    def test_group_children_is_required_but_may_be_empty(self) -> None:
        assert problems_of(group("team-a")) == []
        entity = group("team-b")
        del entity["spec"]["children"]
        assert problems_of(entity)[0][1] == "spec.children"

    def test_a_list_field_given_a_string_suggests_a_list(self) -> None:
        entity = component("svc", providesApis="orders-api")
        [message] = messages_of(entity)
        assert "providesApis: [orders-api]" in message

    def test_an_unknown_apiversion_for_a_known_kind_has_no_processor(self) -> None:
        entity = component("svc")
        entity["apiVersion"] = "example.com/v1"
        assert problems_of(entity) == [("no-processor-for-kind-or-apiVersion", "apiVersion")]

    def test_a_kind_outside_the_catalog_rules_is_refused_before_validation(self) -> None:
        entity = component("svc")
        entity["kind"] = "Service"
        outcome = PIPELINE.process(entity, 0, read_placeholder=None)
        assert [p.category for p in outcome.problems] == ["kind-not-allowed-by-catalog-rules"]
        assert outcome.problems[0].fatal

    def test_template_steps_need_an_action(self) -> None:
        template = {
            "apiVersion": "scaffolder.backstage.io/v1beta3",
            "kind": "Template",
            "metadata": {"name": "python-service"},
            "spec": {"type": "service", "owner": "team-a", "steps": [{"id": "fetch"}]},
        }
        assert problems_of(template) == [
            ("schema:/spec/steps/0 must have required property 'action'", "spec.steps[0].action")
        ]


class TestRelations:
    def test_short_refs_take_the_fields_default_kind_and_the_entitys_namespace(self) -> None:
        entity = component("svc", system="payments", providesApis=["orders"])
        entity["metadata"]["namespace"] = "shop"
        outcome = PIPELINE.process(entity, 0, read_placeholder=None)
        assert outcome.entity is not None
        pairs = {(r.source, r.type, r.target) for r in outcome.entity.relations}
        assert ("component:shop/svc", "ownedBy", "group:shop/team-a") in pairs
        assert ("group:shop/team-a", "ownerOf", "component:shop/svc") in pairs
        assert ("component:shop/svc", "partOf", "system:shop/payments") in pairs
        assert ("api:shop/orders", "apiProvidedBy", "component:shop/svc") in pairs

    def test_depends_on_has_no_default_kind(self) -> None:
        entity = component("svc", dependsOn=["orders-db"])
        [message] = messages_of(entity)
        assert "spec.dependsOn[0]" in message
        assert "resource:orders-db" in message
        assert problems_of(entity) == [("entity-ref", "spec.dependsOn[0]")]

    def test_owner_may_name_a_user_explicitly(self) -> None:
        outcome = PIPELINE.process(component("svc", owner="user:jane"), 0, read_placeholder=None)
        assert outcome.entity is not None
        assert ("ownedBy", "user:default/jane") in {
            (r.type, r.target) for r in outcome.entity.relations
        }


class TestEntityRefs:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("component:default/a", "component:default/a"),
            ("Component:Default/A", "component:default/a"),
            ("team-a", "group:default/team-a"),
            ("user:jane", "user:default/jane"),
            ("other/team-a", "group:other/team-a"),
        ],
    )
    def test_refs_parse_with_defaults_and_compare_lower_cased(
        self, text: str, expected: str
    ) -> None:
        assert str(parse_ref(text, default_kind="Group")) == expected

    @pytest.mark.parametrize("text", ["group:", ":foo", "default/", "a:b/"])
    def test_refs_with_empty_parts_are_invalid(self, text: str) -> None:
        with pytest.raises(RefError):
            parse_ref(text, default_kind="Group")


class TestYaml:
    def test_yaml_1_2_keeps_yes_no_and_dates_as_strings(self) -> None:
        [document] = parse_documents("a: yes\nb: no\nc: 2024-01-31\nd: on\n")
        assert document.data == {"a": "yes", "b": "no", "c": "2024-01-31", "d": "on"}

    def test_duplicate_keys_are_a_syntax_error_with_both_lines(self) -> None:
        with pytest.raises(DescriptorSyntaxError) as error:
            parse_documents("metadata:\n  name: a\n  name: b\n")
        assert error.value.line == 3
        assert "first defined at line 2" in error.value.message

    def test_malformed_yaml_names_line_and_column(self) -> None:
        with pytest.raises(DescriptorSyntaxError) as error:
            parse_documents("kind: Component\nmetadata:\n  name: a\n bad: indent\n")
        assert (error.value.line, error.value.column) == (4, 2)
        assert error.value.hint

    def test_empty_documents_are_skipped_but_counted(self) -> None:
        documents = parse_documents("---\n---\na: 1\n---\n")
        assert [(d.index, d.data) for d in documents] == [(1, {"a": 1})]

    def test_a_document_that_is_a_list_stays_a_list(self) -> None:
        assert [d.data for d in parse_documents("- a\n- b\n")] == [["a", "b"]]

    def test_positions_point_at_the_field_or_its_parent(self) -> None:
        positions = Positions("x: 1\n---\nkind: A\nspec:\n  owner: x\n  list: [a, b]\n")
        assert positions.locate(1, ["spec", "owner"]) == (5, 3)
        assert positions.locate(1, ["spec", "type"]) == (4, 1)
