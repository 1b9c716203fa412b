//! dist/kubernetes/ddnsd.yaml: parsed with PyYAML (Debian's python3-yaml), its DaemonSet held
//! to what the README promises (host network, read-only root, no capabilities, non-root,
//! config from the ConfigMap at the default path, secrets as files only ddnsd can read, the
//! node name from the downward API), and the config in its ConfigMap checked by `ddnsd check`
//! with the Secret's file where the pod would have it.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::harness::{ddnsd, output, write};

const MANIFEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/dist/kubernetes/ddnsd.yaml");

/// Every document of the manifest, as JSON.
fn documents() -> Vec<Value> {
    let (code, out, err) = output({
        let mut c = Command::new("/usr/bin/python3");
        c.args([
            "-c",
            "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
            MANIFEST,
        ]);
        c
    });
    assert_eq!((code, err.as_str()), (0, ""), "PyYAML (python3-yaml)");
    serde_json::from_str::<Vec<Value>>(&out).unwrap()
}

fn kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|d| d["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} in the manifest");
    found[0]
}

fn named<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no {name:?} in {list}"))
}

#[test]
fn daemonset_runs_unprivileged_on_the_host_network() {
    let docs = documents();
    let ds = kind(&docs, "DaemonSet");
    let config_map = kind(&docs, "ConfigMap");
    assert_eq!(
        ds["metadata"]["namespace"],
        config_map["metadata"]["namespace"]
    );
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(
        ds["spec"]["selector"]["matchLabels"],
        ds["spec"]["template"]["metadata"]["labels"]
    );
    assert_eq!(pod["hostNetwork"], true);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_ne!(pod["securityContext"]["runAsUser"], 0);
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(
        c["securityContext"]["capabilities"],
        serde_json::json!({"drop": ["ALL"]})
    );
    assert_eq!(c["securityContext"]["privileged"], Value::Null);

    let env = &c["env"];
    assert_eq!(
        named(env, "NODE_NAME")["valueFrom"]["fieldRef"]["fieldPath"],
        "spec.nodeName"
    );
    // The config is found at the default path; DDNSD_CONFIG would only hide that.
    assert!(env
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["name"] != "DDNSD_CONFIG"));

    let mounts = &c["volumeMounts"];
    let volumes = &pod["volumes"];
    assert_eq!(named(mounts, "config")["mountPath"], "/etc/ddnsd");
    assert_eq!(
        named(volumes, "config")["configMap"]["name"],
        config_map["metadata"]["name"]
    );
    assert!(config_map["data"]["ddnsd.toml"].is_string());
    let secret = &named(volumes, "secrets")["secret"];
    assert_eq!(secret["secretName"], "ddnsd-secrets");
    let mode = secret["defaultMode"].as_u64().unwrap();
    assert_eq!(
        mode & 0o007,
        0,
        "secret files readable by every user: {mode:o}"
    );
    assert_eq!(named(mounts, "state")["mountPath"], "/var/lib/ddnsd");
    assert!(named(volumes, "state")["emptyDir"].is_object());
}

#[test]
fn configmap_config_checks_with_the_node_name_and_names_it_when_unset() {
    let docs = documents();
    let toml = kind(&docs, "ConfigMap")["data"]["ddnsd.toml"]
        .as_str()
        .unwrap()
        .to_owned();
    let ds = kind(&docs, "DaemonSet");
    let c = &ds["spec"]["template"]["spec"]["containers"][0];
    let secrets_at = named(&c["volumeMounts"], "secrets")["mountPath"]
        .as_str()
        .unwrap()
        .to_owned();
    let mode = named(&ds["spec"]["template"]["spec"]["volumes"], "secrets")["secret"]["defaultMode"]
        .as_u64()
        .unwrap() as u32;

    // The Secret's key tsig_secret, as the kubelet would project it (with its defaultMode),
    // under a temporary directory standing in for the mount path.
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    let secret = write(
        &secrets,
        "tsig_secret",
        "c2VjcmV0LWtleS1mb3ItZGRuc2QtazhzLXRlc3Q=\n",
    );
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    assert!(
        toml.contains(&format!("\"{secrets_at}/tsig_secret\"")),
        "the config's secret file is not the Secret's key under {secrets_at}:\n{toml}"
    );
    let path = Path::new(&write(
        dir.path(),
        "ddnsd.toml",
        &toml.replace(&secrets_at, &secrets.display().to_string()),
    ))
    .to_path_buf();

    let mut with_node = ddnsd();
    with_node
        .env("NODE_NAME", "node-1")
        .arg("check")
        .arg("-c")
        .arg(&path);
    assert_eq!(
        output(with_node),
        (
            0,
            format!(
                "{}: ok (2 sources, 1 providers, 1 records)\n",
                path.display()
            ),
            String::new()
        )
    );

    let line = toml
        .lines()
        .position(|l| l.starts_with("name = \"${NODE_NAME}"))
        .expect("a record named after ${NODE_NAME}")
        + 1;
    let mut without = ddnsd();
    without
        .env_remove("NODE_NAME")
        .arg("check")
        .arg("-c")
        .arg(&path);
    let (code, out, err) = output(without);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        format!(
            "{}:{line}:8: record name: environment variable \"NODE_NAME\" used in \
             \"${{NODE_NAME}}.nodes.example.com\" is not set\n  hint: set the variable in \
             ddnsd's environment (Environment= in a systemd unit, env: in a Kubernetes pod), \
             or write the name out\n",
            path.display()
        )
    );
}
