//! Replays every input of `corpus/<target>/` (the seeds, and whatever a fuzzing run chose to
//! keep) and `regressions/<target>/` (inputs that once failed) through its target.
//!
//! `FUZZ_WRITE_SEEDS=1 cargo test -p axon-fuzz` rewrites the seed files from
//! [`axon_fuzz::seeds`].

use std::path::Path;

/// A fuzz target: its name (its directory) and its function.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 4] = [
    ("headers", axon_fuzz::headers),
    ("body", axon_fuzz::body),
    ("pystr", axon_fuzz::pystr),
    ("request", axon_fuzz::request),
];

fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn the_seeds_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let write = std::env::var_os("FUZZ_WRITE_SEEDS").is_some();
    for (target, name, bytes) in axon_fuzz::seeds() {
        let path = root.join(target).join(format!("seed-{name}"));
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        let on_disk = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (FUZZ_WRITE_SEEDS=1 writes it)", path.display()));
        assert!(
            on_disk == bytes,
            "{} is stale: FUZZ_WRITE_SEEDS=1 rewrites it",
            path.display()
        );
    }
}

#[test]
fn every_kept_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut replayed = 0;
    for (target, run) in TARGETS {
        let kept = inputs(&root.join("corpus").join(target));
        assert!(!kept.is_empty(), "no seeds for {target}");
        for (path, bytes) in kept
            .into_iter()
            .chain(inputs(&root.join("regressions").join(target)))
        {
            if let Err(panic) = std::panic::catch_unwind(|| run(&bytes)) {
                std::panic::resume_unwind(Box::new(format!("{path}: {panic:?}")));
            }
            replayed += 1;
        }
    }
    assert!(replayed >= 10);
}

#[test]
fn unrepr_reads_what_python_repr_writes() {
    // Python 3: repr("it's") == '"it\'s"', repr('a"b\'c') == '\'a"b\\\'c\'', repr("\x07é\U0001f980") == "'\\x07é🦀'"
    assert_eq!(axon_fuzz::unrepr(r#""it's""#).as_deref(), Some("it's"));
    assert_eq!(axon_fuzz::unrepr(r#"'a"b\'c'"#).as_deref(), Some("a\"b'c"));
    assert_eq!(axon_fuzz::unrepr(r"'\x07é🦀'").as_deref(), Some("\u{7}é🦀"));
    assert_eq!(
        axon_fuzz::unrepr(r"'\u2028\U000e0001'").as_deref(),
        Some("\u{2028}\u{e0001}")
    );
    assert_eq!(axon_fuzz::unrepr("'a'b'"), None);
    assert_eq!(axon_fuzz::unrepr(r"'\q'"), None);
    assert_eq!(axon_fuzz::unrepr("abc"), None);
}

#[test]
fn the_request_seeds_reach_the_forward() {
    let seed = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus/request")
            .join(name);
        axon_fuzz::statuses(&std::fs::read(path).unwrap())
    };
    assert_eq!(seed("seed-fuzzed"), [200]);
    assert_eq!(seed("seed-chunked"), [200]);
    assert_eq!(seed("seed-pipelined"), [200, 200]);
    // The built-in Synapse has the default verify: the seed's signature is made up.
    assert_eq!(seed("seed-ping"), [401]);
    assert_eq!(axon_fuzz::statuses(b"GET /Nope HTTP/1.1\r\n\r\n"), [404]);
}
