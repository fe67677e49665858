//! The README is the crate's documentation and its front page: what renders there must
//! read right in both places.

const README: &str = include_str!("../README.md");

/// The Rust code blocks of the README, as (first line number, lines), fences excluded;
/// rustdoc takes a block without a language for Rust too.
fn rust_blocks() -> Vec<(usize, Vec<&'static str>)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, bool, Vec<&'static str>)> = None;
    for (n, line) in README.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (fence, open.take()) {
            (Some(_), Some((start, rust, lines))) => {
                if rust {
                    blocks.push((start, lines));
                }
            }
            (Some(info), None) => {
                let lang = info.split(',').next().unwrap_or("").trim();
                open = Some((n + 2, lang.is_empty() || lang == "rust", Vec::new()));
            }
            (None, Some((start, rust, mut lines))) => {
                lines.push(line);
                open = Some((start, rust, lines));
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "an unclosed code block");
    blocks
}

#[test]
fn readme_rust_blocks_have_no_hidden_lines() {
    let blocks = rust_blocks();
    assert!(blocks.len() >= 4, "found {} Rust blocks", blocks.len());
    for (start, lines) in blocks {
        for (i, line) in lines.iter().enumerate() {
            let code = line.trim_start();
            assert!(
                code != "#" && !code.starts_with("# "),
                "README.md:{}: a hidden doctest line shows as a literal `#` on GitHub: {line}",
                start + i
            );
        }
    }
}

#[test]
fn readme_dependency_line_works_before_publication() {
    assert!(
        README.contains("beam-runtime = { path = \"../beam/beam-runtime\" }"),
        "the quick start depends on a checkout by path"
    );
    assert!(
        !README.contains("\nbeam-runtime = \"0.1\"\n"),
        "`beam-runtime = \"0.1\"` does not resolve until the crate is published"
    );
}
