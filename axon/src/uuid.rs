//! Random (version 4) UUIDs: the axon's instance id and the ids of internal errors.

/// A random UUID in the canonical `8-4-4-4-12` lowercase hex form.
pub(crate) fn uuid4() -> String {
    let mut b = [0u8; 16];
    // The OS random source failing is not recoverable for a server that signs.
    getrandom::getrandom(&mut b).expect("the operating system's random source failed");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuids_are_canonical_version_4_and_distinct() {
        let a = super::uuid4();
        let b = super::uuid4();
        assert_ne!(a, b);
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert!(a
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
