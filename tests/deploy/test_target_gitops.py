"""The gitops target against real git repositories (bare ones behind file:// URLs): the deploy
commit and its message, a kustomization and a Helm values file edited in place, the rollback as
a pushed revert, refusals, and someone else pushing first."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pavedroad.core.git import git
from pavedroad.deploy.hooks import DeploymentTarget, TargetError
from pavedroad.deploy.targets.gitops import GitOpsTarget
from pavedroad.deploy.targets.gitops_files import set_version
from tests.deploy.target_support import context

IDENTITY = {
    "GIT_AUTHOR_NAME": "Someone Else",
    "GIT_AUTHOR_EMAIL": "someone@example.test",
    "GIT_COMMITTER_NAME": "Someone Else",
    "GIT_COMMITTER_EMAIL": "someone@example.test",
}
KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml  # the app itself
images:
  - name: registry.example/sidecar
    newTag: "0.9"
  - name: registry.example/myservice   # ours
    newTag: 1.0.0 # set by pavedroad
"""
VALUES = """\
# the chart's values for production
replicaCount: 3
image:
  repository: registry.example/myservice  # the image
  tag: "1.0.0"
  pullPolicy: IfNotPresent
"""


def run(args: list[str], cwd: Path) -> str:
    done = git(args, cwd=cwd, extra_env=IDENTITY)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def make_repository(root: Path, files: dict[str, str]) -> Path:
    """A bare repository (what Argo CD watches) with ``files`` on main."""
    bare = root / "deploys.git"
    run(["init", "--quiet", "--bare", str(bare)], root)
    seed = root / "seed"
    run(["clone", "--quiet", str(bare), str(seed)], root)
    for name, text in files.items():
        (seed / name).parent.mkdir(parents=True, exist_ok=True)
        (seed / name).write_text(text)
    run(["add", "."], seed)
    run(["commit", "--quiet", "-m", "the apps"], seed)
    run(["push", "--quiet", "origin", "HEAD:main"], seed)
    return bare


def file_on_main(bare: Path, path: str) -> str:
    done = git(["show", f"main:{path}"], cwd=bare)
    assert done.returncode == 0, done.stderr
    return done.stdout


def messages(bare: Path) -> list[str]:
    return run(["log", "--format=%B%x00", "main"], bare).split("\x00")


def kustomize_config(bare: Path, **extra: str) -> dict[str, object]:
    return {
        "gitops": {
            "repository": f"file://{bare}",
            "path": "apps/myservice/kustomization.yaml",
            "image": "registry.example/myservice",
            **extra,
        }
    }


@pytest.fixture
def target() -> GitOpsTarget:
    return GitOpsTarget()


@pytest.fixture
def kustomize_repo(tmp_path: Path) -> Path:
    return make_repository(tmp_path, {"apps/myservice/kustomization.yaml": KUSTOMIZATION})


class TestDeploy:
    def test_the_image_tag_is_committed_with_a_message_linking_the_deploy_and_pushed(
        self, target, kustomize_repo, tmp_path
    ):
        result = target.deploy(
            context(
                tmp_path,
                deployment_id="dep-1",
                version="1.1.0",
                workspace=None,
                config=kustomize_config(kustomize_repo),
                environment="production",
                component_ref="component:default/myservice",
            )
        )
        text = file_on_main(kustomize_repo, "apps/myservice/kustomization.yaml")
        assert text == KUSTOMIZATION.replace(
            "newTag: 1.0.0 # set by pavedroad", 'newTag: "1.1.0" # set by pavedroad'
        )
        assert result.state["commit"] == run(["rev-parse", "main"], kustomize_repo)
        assert messages(kustomize_repo)[0].startswith(
            "Deploy component:default/myservice 1.1.0 to production "
            "(pavedroad deployment dep-1)\n\nPrevious version: 1.0.0"
        )
        assert result.state["previous_version"] == "1.0.0"
        assert target.status(result.state)
        assert not list((tmp_path / "gitops").iterdir())  # its clone is removed

    def test_a_helm_values_key_is_set(self, target, tmp_path):
        bare = make_repository(tmp_path, {"charts/myservice/values-prod.yaml": VALUES})
        result = target.deploy(
            context(
                tmp_path,
                deployment_id="dep-1",
                version="1.10",
                workspace=None,
                config={
                    "gitops": {
                        "repository": str(bare),
                        "path": "charts/myservice/values-prod.yaml",
                        "values_key": "image.tag",
                    }
                },
            )
        )
        text = file_on_main(bare, "charts/myservice/values-prod.yaml")
        assert text == VALUES.replace('tag: "1.0.0"', 'tag: "1.10"')  # a string, not 1.1
        assert target.status(result.state)

    def test_a_missing_file_is_refused_and_nothing_is_pushed(
        self, target, kustomize_repo, tmp_path
    ):
        before = run(["rev-parse", "main"], kustomize_repo)
        config = kustomize_config(kustomize_repo, path="apps/other/kustomization.yaml")
        with pytest.raises(TargetError, match=r"apps/other/kustomization.yaml is not in"):
            target.deploy(
                context(tmp_path, deployment_id="d", version="2", workspace=None, config=config)
            )
        assert run(["rev-parse", "main"], kustomize_repo) == before

    def test_an_image_the_kustomization_does_not_list_is_refused(
        self, target, kustomize_repo, tmp_path
    ):
        config = kustomize_config(kustomize_repo, image="registry.example/unknown")
        with pytest.raises(TargetError, match=r"no `images:` entry named registry.example/unknown"):
            target.deploy(
                context(tmp_path, deployment_id="d", version="2", workspace=None, config=config)
            )

    def test_a_missing_values_key_is_refused(self, target, tmp_path):
        bare = make_repository(tmp_path, {"values.yaml": VALUES})
        config = {"gitops": {"repository": str(bare), "values_key": "image.digest"}}
        with pytest.raises(TargetError, match=r"values.yaml has no key `image.digest`"):
            target.deploy(
                context(tmp_path, deployment_id="d", version="2", workspace=None, config=config)
            )

    def test_an_unreachable_repository_is_a_clear_error(self, target, tmp_path):
        config = {"gitops": {"repository": f"file://{tmp_path}/nowhere.git", "image": "x"}}
        with pytest.raises(TargetError, match=r"cannot clone file://"):
            target.deploy(
                context(tmp_path, deployment_id="d", version="2", workspace=None, config=config)
            )
        assert not list((tmp_path / "gitops").iterdir())

    def test_without_settings_it_says_what_to_write(self, target, tmp_path):
        with pytest.raises(TargetError, match=r"needs `gitops.repository`"):
            target.deploy(
                context(tmp_path, deployment_id="d", version="2", workspace=None, config={})
            )


class TestSomeoneElsePushedFirst:
    """A pre-receive hook plays the colleague: on the first push it moves main to their
    commit (prepared on a side branch) and refuses ours, as a push that lost the race is."""

    def _race(self, bare: Path, tmp_path: Path, their_change: dict[str, str], always: bool):
        theirs = tmp_path / "theirs"
        run(["clone", "--quiet", str(bare), str(theirs)], tmp_path)
        for name, text in their_change.items():
            (theirs / name).parent.mkdir(parents=True, exist_ok=True)
            (theirs / name).write_text(text)
        run(["add", "."], theirs)
        run(["commit", "--quiet", "-m", "their change"], theirs)
        run(["push", "--quiet", "origin", "HEAD:refs/heads/competitor"], theirs)
        hook = bare / "hooks" / "pre-receive"
        once = "" if always else '[ -f "$GIT_DIR/raced" ] && exit 0\n'
        hook.write_text(
            "#!/bin/sh\n"
            f"{once}"
            'touch "$GIT_DIR/raced"\n'
            "unset GIT_QUARANTINE_PATH\n"
            "git update-ref refs/heads/main refs/heads/competitor\n"
            "echo 'main moved on' >&2\n"
            "exit 1\n"
        )
        hook.chmod(0o755)

    def test_the_deploy_is_rebased_once_on_their_commit_and_pushed(
        self, target, kustomize_repo, tmp_path
    ):
        self._race(kustomize_repo, tmp_path, {"README.md": "ours too\n"}, always=False)
        lines: list[str] = []
        result = target.deploy(
            context(
                tmp_path,
                deployment_id="dep-1",
                version="1.1.0",
                workspace=None,
                config=kustomize_config(kustomize_repo),
                lines=lines,
            )
        )
        log = run(["log", "--format=%s", "main"], kustomize_repo).splitlines()
        assert log[:2] == [
            "Deploy component:default/tiny 1.1.0 to dev (pavedroad deployment dep-1)",
            "their change",
        ]
        assert file_on_main(kustomize_repo, "README.md") == "ours too\n"
        assert result.state["commit"] == run(["rev-parse", "main"], kustomize_repo)
        assert any("rebasing" in line for line in lines)

    def test_their_change_to_the_same_line_is_a_clear_error(self, target, kustomize_repo, tmp_path):
        path = "apps/myservice/kustomization.yaml"
        theirs = KUSTOMIZATION.replace("newTag: 1.0.0", 'newTag: "1.0.1"')
        self._race(kustomize_repo, tmp_path, {path: theirs}, always=False)
        with pytest.raises(TargetError, match=r"someone else changed .* nothing was pushed"):
            target.deploy(
                context(
                    tmp_path,
                    deployment_id="dep-1",
                    version="1.1.0",
                    workspace=None,
                    config=kustomize_config(kustomize_repo),
                )
            )
        assert file_on_main(kustomize_repo, path) == theirs

    def test_a_second_refusal_is_a_clear_error(self, target, kustomize_repo, tmp_path):
        self._race(kustomize_repo, tmp_path, {"README.md": "x\n"}, always=True)
        with pytest.raises(TargetError, match=r"refused twice: .*nothing was pushed"):
            target.deploy(
                context(
                    tmp_path,
                    deployment_id="dep-1",
                    version="1.1.0",
                    workspace=None,
                    config=kustomize_config(kustomize_repo),
                )
            )


class TestRollback:
    def _deploy(self, target, bare, tmp_path, deployment_id, version, previous=None):
        return target.deploy(
            context(
                tmp_path,
                deployment_id=deployment_id,
                version=version,
                workspace=None,
                config=kustomize_config(bare),
                previous=previous,
            )
        )

    def test_rollback_is_a_pushed_revert_of_the_bad_deploys_commit(
        self, target, kustomize_repo, tmp_path
    ):
        good = self._deploy(target, kustomize_repo, tmp_path, "d1", "1.1.0")
        bad = self._deploy(target, kustomize_repo, tmp_path, "d2", "1.2.0", good.state)
        back = target.rollback(
            context(
                tmp_path,
                deployment_id="r1",
                version="1.1.0",
                workspace=None,
                config=kustomize_config(kustomize_repo),
                previous=bad.state,
            ),
            to=good.state,
        )
        text = file_on_main(kustomize_repo, "apps/myservice/kustomization.yaml")
        assert 'newTag: "1.1.0" # set by pavedroad' in text
        message = messages(kustomize_repo)[0]
        assert message.startswith(
            'Revert "Deploy component:default/tiny 1.2.0 to dev (pavedroad deployment d2)"'
        )
        assert f"This reverts commit {bad.state['commit']}." in message
        assert "(pavedroad deployment r1)" in message
        assert back.state["reverts"] == bad.state["commit"]
        assert back.state["commit"] == run(["rev-parse", "main"], kustomize_repo)
        assert target.status(back.state)
        assert not target.status(bad.state)  # auto-sync now applies 1.1.0, not 1.2.0

    def test_rollback_past_several_versions_sets_the_older_one(
        self, target, kustomize_repo, tmp_path
    ):
        v1 = self._deploy(target, kustomize_repo, tmp_path, "d1", "1.1.0")
        v2 = self._deploy(target, kustomize_repo, tmp_path, "d2", "1.2.0", v1.state)
        v3 = self._deploy(target, kustomize_repo, tmp_path, "d3", "1.3.0", v2.state)
        back = target.rollback(
            context(
                tmp_path,
                deployment_id="r1",
                version="1.1.0",
                workspace=None,
                config=kustomize_config(kustomize_repo),
                previous=v3.state,
            ),
            to=v1.state,
        )
        assert back.state["reverts"] is None
        assert messages(kustomize_repo)[0].startswith(
            "Roll back component:default/tiny to 1.1.0 in dev (pavedroad deployment r1)"
        )
        assert target.status(back.state)


def test_the_gitops_target_is_a_deployment_target():
    assert isinstance(GitOpsTarget(), DeploymentTarget)
    assert GitOpsTarget().name == "gitops"


class TestTheFileEdit:
    def test_a_missing_new_tag_is_added_after_the_image_name(self):
        text = "images:\n- name: registry.example/myservice\n  newName: mirror/myservice\n"
        edited = set_version(
            text, "2.0.0", where="k", image="registry.example/myservice", values_key=None
        )
        assert edited.text == (
            'images:\n- name: registry.example/myservice\n  newTag: "2.0.0"\n'
            "  newName: mirror/myservice\n"
        )
        assert edited.previous is None and edited.kept_comments

    def test_a_flow_style_file_is_rewritten_whole_and_says_so(self):
        edited = set_version(
            "image: {repository: x, tag: '1'}  # flow\n",
            "2",
            where="v",
            image=None,
            values_key="image.tag",
        )
        assert not edited.kept_comments
        assert yaml.safe_load(edited.text) == {"image": {"repository": "x", "tag": "2"}}

    def test_a_key_that_is_a_mapping_is_refused(self):
        with pytest.raises(TargetError, match="`image` in v is not a single value"):
            set_version(VALUES, "2", where="v", image=None, values_key="image")
