//! The committed JSON Schemas accept the example declarations and refuse typos, so
//! editor completion and checking match what `validate` says.

use std::path::Path;

use crate::util::example_repo;

fn json_of(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let node = workergen::yaml::parse(&text, workergen::source::FileId(0), workergen::yaml::Limits::default()).unwrap();
    serde_json::to_value(&node).unwrap()
}

fn validator(name: &str) -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(example_repo().join("schemas").join(name)).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn errors(validator: &jsonschema::Validator, instance: &serde_json::Value) -> Vec<String> {
    validator.iter_errors(instance).map(|error| error.to_string()).collect()
}

#[test]
fn example_declarations_match_their_schemas() {
    let root = example_repo();
    let repo = validator("workergen.schema.json");
    assert_eq!(
        errors(&repo, &json_of(&root.join("workergen.yaml"))),
        Vec::<String>::new()
    );
    let environment = validator("environment.schema.json");
    let cluster = validator("cluster.schema.json");
    let mut checked = 0;
    for folder in std::fs::read_dir(root.join("environments")).unwrap() {
        for file in std::fs::read_dir(folder.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let validator = if path.ends_with("environment.yaml") {
                &environment
            } else {
                &cluster
            };
            assert_eq!(
                errors(validator, &json_of(&path)),
                Vec::<String>::new(),
                "{}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 6);
}

#[test]
fn schemas_refuse_unknown_keys_and_wrong_types() {
    let cluster = validator("cluster.schema.json");
    let typo = serde_json::json!({
        "cluster": {"destination": {"server": "https://k8s.example.com"}},
        "workers": {"build": {"workerPool": ["a"]}}
    });
    assert!(!errors(&cluster, &typo).is_empty());
    let wrong_type = serde_json::json!({
        "cluster": {"destination": {"server": "https://k8s.example.com"}},
        "workers": {"build": {"workerPools": "a", "scriptPods": {"tolerations": [{"efect": "NoSchedule"}]}}}
    });
    assert!(!errors(&cluster, &wrong_type).is_empty());
    let good = serde_json::json!({
        "cluster": {"destination": {"name": "eu"}},
        "workers": {"build": {"workerPools": ["a"], "scriptPods": {"image": "octopusdeploy/worker-tools:6.5.0"}}, "empty": null}
    });
    assert_eq!(errors(&cluster, &good), Vec::<String>::new());
}

/// Issue 9: a layer may write `null` wherever it removes an inherited value, at every
/// depth, and the schemas say so; `null` in a list stays refused.
#[test]
fn schemas_allow_null_wherever_a_layer_removes_a_value() {
    let cluster = validator("cluster.schema.json");
    let removals = serde_json::json!({
        "cluster": {"destination": {"server": "https://k8s.example.com"}},
        "defaults": {"agent": {"nodeSelector": {"pool": null}, "affinity": null}},
        "workers": {"build": {
            "workerPools": ["a"],
            "scriptPods": {
                "resources": {"requests": {"cpu": null}, "limits": {"memory": null}},
                "serviceAccount": {"annotations": {"k": null}},
                "securityContext": {"runAsUser": null, "seccompProfile": {"type": null}}
            },
            "agent": {"serviceAccount": {"annotations": {"k": null}}, "resources": {"claims": null}},
            "values": {"scriptPods": {"disruptionBudgetEnabled": null}}
        }}
    });
    assert_eq!(errors(&cluster, &removals), Vec::<String>::new());
    let repo = validator("workergen.schema.json");
    let repo_removals = serde_json::json!({
        "acceptEula": true,
        "defaults": {"scriptPods": {"resources": {"requests": {"cpu": null}}}, "machinePolicy": null}
    });
    assert_eq!(errors(&repo, &repo_removals), Vec::<String>::new());
    for worker in [
        serde_json::json!({"workerPools": [null]}),
        serde_json::json!({"agent": {"tolerations": [null]}}),
    ] {
        let null_in_a_list = serde_json::json!({
            "cluster": {"destination": {"server": "https://k8s.example.com"}},
            "workers": {"build": worker}
        });
        assert!(!errors(&cluster, &null_in_a_list).is_empty(), "{worker}");
    }
}

/// `schema NAME --write DIR` writes that one file, as `schema --write DIR` writes all three,
/// and what it writes is what `schema NAME` prints.
#[test]
fn schema_of_one_file_is_written_into_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = crate::util::workergen(dir.path(), &["schema", "cluster", "--write", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(written, ["cluster.schema.json"]);
    let printed = crate::util::workergen(dir.path(), &["schema", "cluster"]);
    assert_eq!(
        std::fs::read_to_string(out.join("cluster.schema.json")).unwrap(),
        printed.stdout
    );
}
