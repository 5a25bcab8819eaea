"""Reading lockfiles: what each format pins, which packages are direct, the dependency edges,
the lines they came from, and a file that does not parse reported with its line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pavedroad.security.sbom import Inventory, LockedPackage, find_lockfiles, read_inventory

FIXTURES = Path(__file__).parent / "sbom_fixtures"
SKELETON_LOCK = (
    Path(__file__).resolve().parents[2]
    / "src/pavedroad/scaffolder/golden/python-service/skeleton/requirements.lock"
)


def by_purl(inventory: Inventory) -> dict[str, LockedPackage]:
    return {package.purl: package for package in inventory.packages}


def copy_fixture(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


class TestPythonRequirements:
    def test_pip_compile_output_gives_pins_direct_packages_and_the_graph(self) -> None:
        inventory = read_inventory(FIXTURES / "pip-compile")

        packages = by_purl(inventory)
        assert inventory.ok and inventory.unpinned == []
        assert len(packages) == 8
        django = packages["pkg:pypi/django@2.2.0"]
        assert (django.file, django.line, django.direct) == ("requirements.txt", 14, True)
        assert set(django.dependencies) == {"pkg:pypi/pytz@2023.3", "pkg:pypi/sqlparse@0.4.4"}
        assert packages["pkg:pypi/urllib3@2.0.4"].direct is False  # marker and hashes accepted

    def test_an_unpinned_requirement_is_reported_with_its_line_and_left_out(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "requirements.txt").write_text(
            "Django==2.2.0\nrequests>=2.20\nflask\n-e ./libs/internal\nnumpy==1.*\n"
        )

        inventory = read_inventory(tmp_path)

        assert [p.purl for p in inventory.packages] == ["pkg:pypi/django@2.2.0"]
        assert [(u.name, u.line) for u in inventory.unpinned] == [
            ("requests", 2),
            ("flask", 3),
            ("./libs/internal", 4),
            ("numpy", 5),
        ]
        assert "no exact version" in str(inventory.unpinned[0])
        assert inventory.problems == []

    def test_includes_are_followed_and_extras_markers_and_options_tolerated(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "requirements").mkdir()
        (tmp_path / "requirements" / "base.txt").write_text(
            "--index-url https://pypi.example.com/simple\n"
            'requests[socks]==2.19.0 ; python_version >= "3.8"  # the HTTP client\n'
        )
        (tmp_path / "requirements-dev.txt").write_text("-r requirements/base.txt\npytest===7.4.0\n")

        inventory = read_inventory(tmp_path / "requirements-dev.txt")

        assert {(p.purl, p.file, p.line) for p in inventory.packages} == {
            ("pkg:pypi/requests@2.19.0", "requirements/base.txt", 2),
            ("pkg:pypi/pytest@7.4.0", "requirements-dev.txt", 2),
        }

    def test_a_line_that_is_not_a_requirement_fails_the_file_with_its_line(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "requirements.txt").write_text("django==2.2.0\nthis is not ! a requirement\n")

        inventory = read_inventory(tmp_path)

        assert not inventory.ok
        [problem] = inventory.problems
        assert (problem.file, problem.line) == ("requirements.txt", 2)
        assert "is not a requirement" in problem.message
        assert inventory.packages == []  # never "no dependencies" for a broken file

    def test_a_missing_include_is_a_problem(self, tmp_path: Path) -> None:
        (tmp_path / "requirements.txt").write_text("-r base.txt\n")

        [problem] = read_inventory(tmp_path).problems

        assert (problem.line, problem.message) == (1, "the included file base.txt does not exist")

    def test_the_python_service_templates_lock_reads_whole(self) -> None:
        inventory = read_inventory(SKELETON_LOCK)

        assert inventory.ok and inventory.unpinned == []
        assert "pkg:pypi/fastapi@0.165.0" in by_purl(inventory)
        assert len(inventory.packages) == len(
            [line for line in SKELETON_LOCK.read_text().splitlines() if "==" in line]
        )


class TestPythonLockfiles:
    def test_poetry_lock_with_its_pyproject_gives_direct_packages_and_edges(self) -> None:
        inventory = read_inventory(FIXTURES / "poetry")

        packages = by_purl(inventory)
        assert inventory.ok
        assert inventory.unpinned == []  # Flask = "^2.2" is a range, but poetry.lock pins it
        flask = packages["pkg:pypi/flask@2.2.1"]
        assert flask.direct is True and flask.line == 25
        assert "pkg:pypi/jinja2@3.1.2" in flask.dependencies  # "Jinja2" normalised
        assert packages["pkg:pypi/markupsafe@2.1.3"].direct is False
        assert packages["pkg:pypi/pyyaml@5.3"].direct is True

    def test_uv_lock_takes_direct_dependencies_from_the_editable_project(self) -> None:
        inventory = read_inventory(FIXTURES / "uv")

        packages = by_purl(inventory)
        assert set(packages) == {
            "pkg:pypi/anyio@4.0.0",
            "pkg:pypi/idna@3.4",
            "pkg:pypi/pytest@7.4.0",
            "pkg:pypi/sniffio@1.3.0",
        }  # the project itself is not one of its dependencies
        assert packages["pkg:pypi/anyio@4.0.0"].direct is True
        assert packages["pkg:pypi/sniffio@1.3.0"].direct is False
        assert packages["pkg:pypi/anyio@4.0.0"].dependencies == (
            "pkg:pypi/idna@3.4",
            "pkg:pypi/sniffio@1.3.0",
        )

    def test_pipfile_lock_pins_both_sections_and_reports_path_sources(self) -> None:
        inventory = read_inventory(FIXTURES / "pipenv")

        packages = by_purl(inventory)
        assert set(packages) == {
            "pkg:pypi/jinja2@2.10",
            "pkg:pypi/markupsafe@2.1.3",
            "pkg:pypi/pytest@7.4.0",
        }
        assert packages["pkg:pypi/pytest@7.4.0"].scope == "dev"
        assert [u.name for u in inventory.unpinned] == ["internal-lib"]

    def test_pyproject_exact_pins_are_packages_and_ranges_unpinned(self, tmp_path: Path) -> None:
        (tmp_path / "pyproject.toml").write_text(
            '[project]\nname = "svc"\nversion = "1.0"\n'
            'dependencies = [\n  "Django==2.2.0",\n  "requests>=2",\n]\n'
            '[project.optional-dependencies]\ntest = ["pytest==7.4.0"]\n'
            '[tool.poetry.dependencies]\npython = "^3.11"\nPyYAML = "5.3"\n'
            'httpx = {version = "^0.24"}\n'
        )

        inventory = read_inventory(tmp_path)

        assert {p.purl: p.line for p in inventory.packages} == {
            "pkg:pypi/django@2.2.0": 5,
            "pkg:pypi/pytest@7.4.0": 9,
            "pkg:pypi/pyyaml@5.3": 12,
        }
        assert [(u.name, u.line) for u in inventory.unpinned] == [("requests", 6), ("httpx", 13)]

    @pytest.mark.parametrize(
        ("name", "text", "line"),
        [
            ("poetry.lock", '[[package]]\nname = "django"\nversion = 2.2.0\n', 3),
            ("uv.lock", 'version = 1\n[[package]\nname = "x"\n', 2),
            ("Pipfile.lock", '{\n  "default": {\n    "django": {"version": "==2.2"},\n  }\n}\n', 4),
            ("pyproject.toml", '[project]\ndependencies = ["django =="]\n', 2),
        ],
    )
    def test_a_python_lockfile_that_does_not_parse_is_reported_with_its_line(
        self, tmp_path: Path, name: str, text: str, line: int
    ) -> None:
        (tmp_path / name).write_text(text)

        [problem] = read_inventory(tmp_path).problems

        assert (problem.file, problem.line) == (name, line)


class TestJavaScript:
    def test_package_lock_resolves_nested_node_modules_and_marks_direct_and_dev(self) -> None:
        inventory = read_inventory(FIXTURES / "npm")

        packages = by_purl(inventory)
        assert len(packages) == 8
        assert packages["pkg:npm/express@4.17.1"].direct is True
        # debug requires ms 2.0.0 from its own node_modules, not the hoisted 2.1.2
        assert packages["pkg:npm/debug@2.6.9"].dependencies == ("pkg:npm/ms@2.0.0",)
        assert packages["pkg:npm/debug@2.6.9"].direct is False
        assert packages["pkg:npm/jest-mock@29.6.2"].scope == "dev"
        assert packages["pkg:npm/%40types/node@20.4.5"].name == "@types/node"
        assert packages["pkg:npm/express@4.17.1"].line == 32

    def test_a_version_1_package_lock_is_refused_with_how_to_upgrade_it(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "package-lock.json").write_text(
            '{\n  "name": "old",\n  "lockfileVersion": 1,\n  "dependencies": {}\n}\n'
        )

        [problem] = read_inventory(tmp_path).problems

        assert problem.line == 3
        assert "npm install --lockfile-version 3" in problem.message

    def test_a_package_lock_that_is_not_json_names_the_line(self, tmp_path: Path) -> None:
        (tmp_path / "package-lock.json").write_text('{\n  "lockfileVersion": 3,\n  "packages": {\n')

        [problem] = read_inventory(tmp_path).problems

        assert problem.line == 4 and "not valid JSON" in problem.message

    def test_yarn_v1_resolves_descriptors_and_takes_direct_from_package_json(self) -> None:
        inventory = read_inventory(FIXTURES / "yarn-v1")

        packages = by_purl(inventory)
        frame = packages["pkg:npm/%40babel/code-frame@7.12.13"]
        assert frame.direct is True and frame.line == 5
        assert frame.dependencies == ("pkg:npm/%40babel/highlight@7.14.0",)
        assert packages["pkg:npm/chalk@2.4.2"].direct is False

    def test_yarn_berry_takes_direct_from_the_workspace_entry(self) -> None:
        inventory = read_inventory(FIXTURES / "yarn-berry")

        assert {p.purl: p.direct for p in inventory.packages} == {
            "pkg:npm/lodash@4.17.20": True,
            "pkg:npm/minimist@1.2.5": True,
        }

    def test_a_yarn_v1_lockfile_with_a_broken_line_names_it(self, tmp_path: Path) -> None:
        (tmp_path / "yarn.lock").write_text(
            '# yarn lockfile v1\n\nchalk@^2.0.0:\n  version "2.4.2"\nbroken line without colon\n'
        )

        [problem] = read_inventory(tmp_path).problems

        assert problem.line == 5

    def test_pnpm_v6_keys_and_root_dependencies(self) -> None:
        inventory = read_inventory(FIXTURES / "pnpm-v6")

        packages = by_purl(inventory)
        assert packages["pkg:npm/axios@0.21.0"].direct is True
        assert packages["pkg:npm/axios@0.21.0"].dependencies == ("pkg:npm/follow-redirects@1.13.0",)
        assert packages["pkg:npm/%40types/node@20.4.5"].scope == "dev"
        assert packages["pkg:npm/follow-redirects@1.13.0"].direct is False

    def test_pnpm_v9_snapshots_with_peer_suffixes(self) -> None:
        inventory = read_inventory(FIXTURES / "pnpm-v9")

        packages = by_purl(inventory)
        assert len(packages) == 5
        react_dom = packages["pkg:npm/react-dom@18.2.0"]
        assert react_dom.direct is True
        assert "pkg:npm/react@18.2.0" in react_dom.dependencies
        assert packages["pkg:npm/scheduler@0.23.0"].direct is False

    def test_a_pnpm_lock_that_is_not_yaml_names_the_line(self, tmp_path: Path) -> None:
        (tmp_path / "pnpm-lock.yaml").write_text("lockfileVersion: '9.0'\npackages:\n  a: [b\n")

        [problem] = read_inventory(tmp_path).problems

        assert "not valid YAML" in problem.message and problem.line is not None


class TestJava:
    def test_pom_versions_come_from_properties_the_parent_and_dependency_management(
        self,
    ) -> None:
        inventory = read_inventory(FIXTURES / "maven")

        packages = by_purl(inventory)
        assert packages["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"].line == 16
        assert "pkg:maven/com.google.guava/guava@31.1-jre" in packages
        assert "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.8" in packages
        assert "pkg:maven/com.example.payments/payments-api@3.2.0" in packages  # project.*
        assert packages["pkg:maven/junit/junit@4.13.2"].scope == "test"
        assert all(package.direct for package in packages.values())

    def test_unresolvable_pom_versions_are_reported_with_why(self) -> None:
        inventory = read_inventory(FIXTURES / "maven")

        reasons = {u.name: (u.line, u.reason) for u in inventory.unpinned}
        assert reasons["org.slf4j:slf4j-api"] == (45, "slf4j.version is not defined in this POM")
        assert "imported BOM" in reasons["org.springframework.boot:spring-boot-starter-web"][1]

    def test_a_pom_that_is_not_well_formed_names_the_line(self, tmp_path: Path) -> None:
        (tmp_path / "pom.xml").write_text(
            "<project>\n  <dependencies>\n    <dependency>\n  </dependencies>\n</project>\n"
        )

        [problem] = read_inventory(tmp_path).problems

        assert problem.line == 4 and "not well-formed XML" in problem.message

    def test_a_pom_declaring_entities_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "pom.xml").write_text(
            '<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY a "aaaa">]>\n<project>&a;</project>\n'
        )

        [problem] = read_inventory(tmp_path).problems

        assert "entity" in problem.message

    def test_gradle_lockfile_lines(self) -> None:
        inventory = read_inventory(FIXTURES / "gradle")

        packages = by_purl(inventory)
        assert packages["pkg:maven/org.apache.logging.log4j/log4j-core@2.16.0"].line == 7
        assert packages["pkg:maven/junit/junit@4.13.2"].scope == "test"
        assert len(packages) == 4

    def test_a_broken_gradle_lockfile_line_is_named(self, tmp_path: Path) -> None:
        (tmp_path / "gradle.lockfile").write_text("# locked\ncom.google.guava:guava=compile\n")

        [problem] = read_inventory(tmp_path).problems

        assert problem.line == 2


class TestGo:
    def test_go_mod_requires_indirect_and_replacements(self) -> None:
        inventory = read_inventory(FIXTURES / "go")

        packages = by_purl(inventory)
        assert packages["pkg:golang/github.com/gin-gonic/gin@v1.9.1"].direct is True
        assert packages["pkg:golang/golang.org/x/text@v0.3.7"].direct is False
        # replace github.com/pkg/errors => github.com/pkg/errors v0.8.1
        assert "pkg:golang/github.com/pkg/errors@v0.8.1" in packages
        assert [u.name for u in inventory.unpinned] == ["github.com/example/shared"]

    def test_go_sum_is_consulted_for_checksums(self) -> None:
        inventory = read_inventory(FIXTURES / "go")

        [warning] = inventory.warnings
        assert "golang.org/x/text v0.3.7" in warning.message and warning.line == 9

    def test_a_go_mod_with_an_unknown_directive_names_the_line(self, tmp_path: Path) -> None:
        (tmp_path / "go.mod").write_text("module example.com/x\n\ngo 1.21\nrequires foo v1\n")

        [problem] = read_inventory(tmp_path).problems

        assert (problem.line, problem.message) == (4, "unknown go.mod directive 'requires'")

    def test_a_broken_go_sum_is_reported_against_go_sum(self, tmp_path: Path) -> None:
        target = copy_fixture("go", tmp_path)
        (target / "go.sum").write_text("github.com/gin-gonic/gin v1.9.1\n")

        [problem] = read_inventory(target).problems

        assert (problem.file, problem.line) == ("go.sum", 1)


class TestDiscovery:
    def test_installed_and_built_folders_are_skipped(self, tmp_path: Path) -> None:
        (tmp_path / "requirements.txt").write_text("django==2.2.0\n")
        for folder in ("node_modules/left-pad", ".venv", "build", ".git", "env"):
            (tmp_path / folder).mkdir(parents=True)
            (tmp_path / folder / "package-lock.json").write_text("{}")
        (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
        (tmp_path / "services" / "api").mkdir(parents=True)
        (tmp_path / "services" / "api" / "go.mod").write_text("module example.com/api\n")

        found = find_lockfiles(tmp_path)

        assert [p.relative_to(tmp_path).as_posix() for p in found] == [
            "requirements.txt",
            "services/api/go.mod",
        ]

    def test_excluded_paths_are_not_read(self, tmp_path: Path) -> None:
        (tmp_path / "templates").mkdir()
        (tmp_path / "templates" / "pyproject.toml").write_text("name = ${{ values.name }}\n")

        inventory = read_inventory(tmp_path, exclude=["templates/*"])

        assert inventory.ok and inventory.files == []

    def test_the_same_package_in_two_files_is_one_package(self, tmp_path: Path) -> None:
        (tmp_path / "requirements.txt").write_text("django==2.2.0\n")
        (tmp_path / "requirements-dev.txt").write_text("Django==2.2.0\npytest==7.4.0\n")

        inventory = read_inventory(tmp_path)

        assert sorted(p.purl for p in inventory.packages) == [
            "pkg:pypi/django@2.2.0",
            "pkg:pypi/pytest@7.4.0",
        ]


def test_a_package_json_without_a_lockfile_is_reported_as_unpinned(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(
        '{\n  "name": "web",\n  "dependencies": {\n    "express": "^4.17.1"\n  }\n}\n'
    )

    inventory = read_inventory(tmp_path)

    assert inventory.packages == []
    [unpinned] = inventory.unpinned
    assert (unpinned.name, unpinned.line) == ("express", 4)
    assert "no lockfile pins it" in unpinned.reason
