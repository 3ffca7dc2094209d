//! The Rust code of the README and of the guide (`docs/`) compiles as written: their
//! ```` ```rust ```` blocks, in order, are `examples/docs.rs` (the README's in a module
//! `readme`, the guide's chapters together in a module `guide`; items at the module's top
//! level, statements in its async `main`), which `cargo test` builds with everything else.
//! This test fails when the documents and that file differ;
//! `DOCS_EXAMPLE=overwrite cargo test --test docs` regenerates the file.

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

/// One module of the example: the items of `markdown`'s blocks, and their statements in an
/// async `main`.
fn module(name: &str, markdown: &str) -> String {
    let mut items = String::new();
    let mut statements = String::new();
    for block in rust_blocks(markdown) {
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
        "#[rustfmt::skip]\n\
         mod {name} {{\n\
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

/// The guide's chapters, in its order (`docs/README.md`).
const CHAPTERS: [&str; 9] = [
    "synapses.md",
    "handlers.md",
    "serving.md",
    "operations.md",
    "several-processes.md",
    "chain.md",
    "signed-http.md",
    "benchmark.md",
    "testing.md",
];

/// The example the README's and the guide's blocks make.
fn example(readme: &str, guide: &str) -> String {
    format!(
        "//! Generated from README.md and docs/ by `tests/docs.rs`; do not edit (regenerate with\n\
         //! `DOCS_EXAMPLE=overwrite cargo test --test docs`). Their Rust blocks as one program,\n\
         //! built by `cargo test` so that the documents compile as written (in modules rustfmt\n\
         //! leaves alone, so the code stays the documents').\n\
         \n\
         fn main() -> Result<(), Box<dyn std::error::Error>> {{\n    readme::main()?;\n    guide::main()\n}}\n\
         \n\
         {}\n\
         {}",
        module("readme", readme),
        module("guide", guide)
    )
}

#[test]
fn the_docs_example_is_the_documents_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: &Path| {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let readme = read(&root.join("README.md"));
    let guide: String = CHAPTERS
        .iter()
        .map(|chapter| read(&root.join("docs").join(chapter)))
        .collect();
    // Every chapter with Rust in it is compiled: none is missing from the list.
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let text = read(&root.join("docs").join(&name));
        assert!(
            CHAPTERS.contains(&name.as_str()) || rust_blocks(&text).is_empty(),
            "docs/{name} has Rust blocks but is not in CHAPTERS"
        );
    }
    let expected = example(&readme, &guide);
    let path = root.join("examples/docs.rs");
    if std::env::var_os("DOCS_EXAMPLE").is_some_and(|v| v == "overwrite") {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "examples/docs.rs is not the documents' code: run `DOCS_EXAMPLE=overwrite cargo test --test docs`"
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
