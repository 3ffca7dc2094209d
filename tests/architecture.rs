//! The one-way rule of ARCHITECTURE.md, checked on the sources: `axon/src/lib.rs` declares
//! its modules from the bottom up, and every module imports only from itself and the
//! modules declared before it. A `use crate::x` (or a `crate::x::..` path) that points up
//! fails this test with the file and line. Test modules are exempt: a test may build its
//! fixtures with anything.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The crate's modules in `lib.rs` order (bottom first), and the root re-exports
/// (`pub use table::{Handlers, Route}`) by name.
struct Layers {
    order: Vec<String>,
    reexports: HashMap<String, String>,
}

impl Layers {
    fn read(lib: &str) -> Layers {
        let code = code_lines(lib);
        let mut order = Vec::new();
        let mut reexports = HashMap::new();
        for (_, line) in &code {
            let line = line.trim();
            let decl = line.strip_prefix("pub ").unwrap_or(line);
            if let Some(name) = decl.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
                order.push(name.to_owned());
            }
        }
        // `pub use module::{A, B};` and `pub use module::A;`, possibly over several lines.
        let text: String = code.iter().map(|(_, l)| format!("{l}\n")).collect();
        for statement in text.split(';') {
            let Some(rest) = statement.trim().strip_prefix("pub use ") else {
                continue;
            };
            let Some((module, names)) = rest.split_once("::") else {
                continue;
            };
            if !order.iter().any(|m| m == module) {
                continue;
            }
            // Every name, functions and modules too (`pub use server::shutdown_signal`).
            for name in names.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if !name.is_empty() && name != "self" {
                    reexports.insert(name.to_owned(), module.to_owned());
                }
            }
        }
        Layers { order, reexports }
    }

    fn rank(&self, module: &str) -> Option<usize> {
        self.order.iter().position(|m| m == module)
    }

    /// The module a `crate::name` path reaches.
    fn target(&self, name: &str) -> Option<&str> {
        match self.rank(name) {
            Some(i) => Some(&self.order[i]),
            None => self.reexports.get(name).map(String::as_str),
        }
    }

    /// Every import of `source` (the text of a file of `module`, `depth` modules below the
    /// crate root: 1 for `server/mod.rs`, 2 for `server/start.rs`) that points above
    /// `module`, through `crate::` or through a `super::super::..` that climbs out of it.
    fn violations(&self, module: &str, depth: usize, source: &str) -> Vec<String> {
        let own = self.rank(module).expect("a declared module");
        let mut found = Vec::new();
        let code = code(without_tests(source));
        let mut paths = crate_paths(&code);
        paths.extend(climbing_paths(&code, depth));
        for (number, name) in paths {
            let Some(target) = self.target(&name) else {
                continue;
            };
            if self.rank(target).is_some_and(|rank| rank > own) {
                found.push(format!(
                    "line {number}: `{module}` imports `{target}` (via crate::{name}), which lib.rs declares after it"
                ));
            }
        }
        found
    }
}

/// The lines that are code: comments and doc comments dropped, with their 1-based numbers.
fn code_lines(source: &str) -> Vec<(usize, String)> {
    source
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect()
}

/// The source before its `#[cfg(test)] mod tests`.
fn without_tests(source: &str) -> &str {
    let mut at = 0;
    while let Some(found) = source[at..].find("#[cfg(test)]") {
        let start = at + found;
        let after = source[start + "#[cfg(test)]".len()..].trim_start();
        if after.starts_with("mod tests") {
            return &source[..start];
        }
        at = start + 1;
    }
    source
}

/// The source with comment lines blanked (line numbers kept).
fn code(source: &str) -> String {
    source
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// For each `crate::name` in `code`, its line and `name`; a group `crate::{a::x, b}` (over
/// several lines too) gives each of its names.
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut names = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        // `$crate::` and `::axon::` paths are not this crate's imports.
        if code[..i].ends_with('$') || code[..i].ends_with("::") {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let mut depth = 0;
                let end = group
                    .find(|c| {
                        match c {
                            '{' => depth += 1,
                            '}' if depth == 0 => return true,
                            '}' => depth -= 1,
                            _ => {}
                        }
                        false
                    })
                    .unwrap_or(group.len());
                let mut depth = 0;
                let mut start = true;
                for (j, c) in group[..end].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => start = true,
                        c if start && (c.is_alphanumeric() || c == '_') => {
                            start = false;
                            let at = i + "crate::{".len() + j;
                            names.push((line_of(at), segment(&group[j..])));
                        }
                        _ => {}
                    }
                }
            }
            None => names.push((line_of(i), segment(rest))),
        }
    }
    names.retain(|(_, n)| !n.is_empty());
    names
}

/// For each `super::` chain in `code` that climbs to the crate root from a file `depth`
/// modules below it, its line and the name it reaches there (`super::super::pipeline` in
/// `server/start.rs` reaches `pipeline`).
fn climbing_paths(code: &str, depth: usize) -> Vec<(usize, String)> {
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut names = Vec::new();
    let mut at = 0;
    while let Some(found) = code[at..].find("super::") {
        let start = at + found;
        let mut rest = &code[start..];
        let mut climbs = 0;
        while let Some(after) = rest.strip_prefix("super::") {
            climbs += 1;
            rest = after;
        }
        at = code.len() - rest.len();
        let preceded =
            code[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
        if !preceded && climbs >= depth {
            names.push((line_of(start), segment(rest)));
        }
    }
    names.retain(|(_, n)| !n.is_empty());
    names
}

/// How many modules below the crate root the file at `path` (relative to `src`) is.
fn depth_of(relative: &Path) -> usize {
    let parts = relative.components().count();
    match relative.file_name().and_then(|n| n.to_str()) {
        Some("mod.rs") => parts - 1,
        _ => parts,
    }
}

fn segment(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The files of `module`: `module.rs`, or everything under `module/`.
fn files_of(src: &Path, module: &str) -> Vec<PathBuf> {
    let single = src.join(format!("{module}.rs"));
    if single.exists() {
        return vec![single];
    }
    let mut files = Vec::new();
    let mut dirs = vec![src.join(module)];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn every_module_imports_only_from_modules_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("axon/src");
    let layers = Layers::read(&fs::read_to_string(src.join("lib.rs")).unwrap());
    for expected in ["wire", "verify", "table", "pipeline", "registry", "server"] {
        assert!(
            layers.rank(expected).is_some(),
            "lib.rs declares no `{expected}`: {:?}",
            layers.order
        );
    }
    let mut violations = Vec::new();
    let mut imports = 0;
    for module in &layers.order {
        for file in files_of(&src, module) {
            let source = fs::read_to_string(&file).unwrap();
            imports += crate_paths(&code(without_tests(&source))).len();
            let depth = depth_of(file.strip_prefix(&src).unwrap());
            for v in layers.violations(module, depth, &source) {
                violations.push(format!("{}: {v}", file.display()));
            }
        }
    }
    assert!(
        imports > 50,
        "only {imports} crate imports found: the scan is broken"
    );
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn an_import_from_above_is_reported() {
    let layers = Layers::read(
        "pub mod wire;\nmod pipeline;\nmod server;\npub use server::{Axon, Limits};\n",
    );
    let source = "use crate::wire::Headers;\nuse crate::{pipeline::Shared, Axon};\n\
                  // use crate::server::x; (a comment)\n\
                  #[cfg(test)]\nmod tests {\n    use crate::server::Axon;\n}\n";
    let found = layers.violations("pipeline", 1, source);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("line 2: `pipeline` imports `server` (via crate::Axon)"),
        "{}",
        found[0]
    );
    assert!(layers.violations("server", 1, source).is_empty());
}

#[test]
fn a_lowercase_reexport_and_a_climbing_super_path_are_reported() {
    let layers = Layers::read(
        "pub mod wire;\nmod pipeline;\nmod server;\npub use server::{shutdown_signal, Axon};\n",
    );
    // `pipeline/stage/mod.rs` is two modules down: `super::super::server` reaches the root.
    let source = "use crate::shutdown_signal;\nuse super::super::server::Axon;\n\
                  use super::super::wire::Headers;\nuse super::sibling::X;\n";
    let found = layers.violations("pipeline", 2, source);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].starts_with("line 1: `pipeline` imports `server` (via crate::shutdown_signal)")
    );
    assert!(found[1].starts_with("line 2: `pipeline` imports `server` (via crate::server)"));
    // Within its own module, `super::super` is fine.
    assert!(layers.violations("pipeline", 3, source).len() == 1);
    assert_eq!(
        depth_of(Path::new("pipeline/stage/mod.rs")),
        2,
        "a mod.rs is its directory's module"
    );
}
