//! The README's Rust code compiles as written: its ```` ```rust ```` blocks, in order, are
//! `examples/readme.rs` (items at the top level, statements in an async `main`), which
//! `cargo test` builds with everything else. This test fails when the README and that file
//! differ; `README_EXAMPLE=overwrite cargo test --test readme` regenerates the file.

use std::path::Path;

/// The Rust blocks of a Markdown text.
fn rust_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```rust") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Whether a top-level line starts a statement (`let ..`, `axon.start()..`, `println!(..)`)
/// rather than an item.
fn starts_statement(line: &str) -> bool {
    if line.starts_with("let ") {
        return true;
    }
    let word: String = line
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
        .collect();
    let keyword = [
        "fn", "pub", "use", "impl", "struct", "enum", "async", "mod", "const", "static", "type",
        "trait",
    ]
    .contains(&word.as_str());
    !word.is_empty()
        && !keyword
        && matches!(
            line[word.len()..].chars().next(),
            Some('.' | '(' | '!' | ':')
        )
}

/// The code of a line without its trailing `// comment`.
fn code_of(line: &str) -> &str {
    line.split(" //").next().unwrap_or(line).trim_end()
}

/// A block's items and its statements.
fn split(block: &str) -> (String, String) {
    let (mut items, mut statements) = (String::new(), String::new());
    let mut depth = 0i32;
    let mut in_statement = false;
    for line in block.lines() {
        if depth == 0 && !in_statement {
            in_statement = starts_statement(line);
        }
        let out = if in_statement {
            &mut statements
        } else {
            &mut items
        };
        out.push_str(line);
        out.push('\n');
        let code = code_of(line);
        depth += code.matches('{').count() as i32 - code.matches('}').count() as i32;
        if in_statement && depth == 0 && code.ends_with(';') {
            in_statement = false;
        }
    }
    (items, statements)
}

/// The example the README's blocks make.
fn example(readme: &str) -> String {
    let mut items = String::new();
    let mut statements = String::new();
    for block in rust_blocks(readme) {
        let (i, s) = split(&block);
        items.push_str(&i);
        items.push('\n');
        for line in s.lines() {
            statements.push_str(if line.is_empty() { "" } else { "    " });
            statements.push_str(line);
            statements.push('\n');
        }
    }
    format!(
        "//! Generated from README.md by `tests/readme.rs`; do not edit (regenerate with\n\
         //! `README_EXAMPLE=overwrite cargo test --test readme`). The README's Rust blocks as one\n\
         //! program, built by `cargo test` so that the README compiles as written (in a module\n\
         //! rustfmt leaves alone, so the code stays the README's).\n\
         \n\
         fn main() -> Result<(), Box<dyn std::error::Error>> {{\n    readme::main()\n}}\n\
         \n\
         #[rustfmt::skip]\n\
         mod readme {{\n\
         #![allow(dead_code, unused_variables)]\n\
         \n\
         {items}\
         #[tokio::main]\n\
         pub async fn main() -> Result<(), Box<dyn std::error::Error>> {{\n\
         {statements}    Ok(())\n\
         }}\n\
         }}\n"
    )
}

#[test]
fn the_readme_example_is_the_readmes_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let expected = example(&readme);
    let path = root.join("examples/readme.rs");
    if std::env::var_os("README_EXAMPLE").is_some_and(|v| v == "overwrite") {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "examples/readme.rs is not the README's code: run `README_EXAMPLE=overwrite cargo test --test readme`"
    );
}

#[test]
fn statements_and_items_are_told_apart() {
    let (items, statements) = split(
        "#[axon::forward]\nfn f(s: E) -> E {\n    let x = 1;\n    s\n}\n\
         let a = Axon::new()\n    .port(1);   // comment;\naxon.start().await?;\n",
    );
    assert_eq!(
        items,
        "#[axon::forward]\nfn f(s: E) -> E {\n    let x = 1;\n    s\n}\n"
    );
    assert_eq!(
        statements,
        "let a = Axon::new()\n    .port(1);   // comment;\naxon.start().await?;\n"
    );
}
