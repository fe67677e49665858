//! One minimum supported Rust version: the README names it, and every crate of the
//! workspace declares it as its `rust-version` (as `cargo metadata` resolves it), except the
//! benchmark suite, whose own higher version the README names too.

use std::path::Path;
use std::process::Command;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The first version after `marker` in `text`: `1.85` in `Rust 1.85 (edition 2024)`.
fn version_after<'a>(text: &'a str, marker: &str) -> &'a str {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("the README says `{marker}`"))
        + marker.len();
    let rest = &text[start..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(rest.len());
    rest[..end].trim_end_matches('.')
}

/// The README's versions: the MSRV and the benchmark suite's.
fn readme_versions() -> (String, String) {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    let section = readme
        .split("## Minimum supported Rust version")
        .nth(1)
        .expect("the README has a section on the minimum supported Rust version");
    let section = section.split("\n## ").next().unwrap_or(section);
    let msrv = version_after(section, "Rust ");
    let bench = version_after(section, "needs Rust ");
    (msrv.to_owned(), bench.to_owned())
}

#[test]
fn the_manifests_declare_the_rust_version_the_readme_names() {
    let (msrv, bench) = readme_versions();
    assert_eq!(msrv.split('.').count(), 2, "a minor version: {msrv}");
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .current_dir(ROOT)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("its JSON");
    let packages = meta["packages"].as_array().expect("a package list");
    let mut names: Vec<&str> = Vec::new();
    for package in packages {
        let name = package["name"].as_str().expect("a name");
        let expected = if name == "beam-bench" { &bench } else { &msrv };
        assert_eq!(
            package["rust_version"].as_str(),
            Some(expected.as_str()),
            "the `rust-version` of {name}"
        );
        names.push(name);
    }
    names.sort_unstable();
    assert_eq!(
        names,
        ["beam-bench", "beam-macros", "beam-runtime", "beam-ui-tests"]
    );
}
