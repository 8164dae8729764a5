//! Git blob ids, computed by the runner itself.
//!
//! A blob id is the SHA-1 of `blob <length>\0` followed by a file's bytes: the
//! name git gives that exact content. The runner records the blob id of every
//! starter and check file (`xtask/pristine.txt`) and so can, without git, tell
//! whether a file is still as committed, and, with git, fetch the committed
//! text by its id (`git cat-file blob <id>`) whatever the learner committed or
//! checked out since. SHA-1 is written out here (forty lines, checked against
//! `git hash-object` in the tests) rather than pulled in as a dependency.

/// The git blob id of `bytes`, as 40 lowercase hex digits.
pub fn id(bytes: &[u8]) -> String {
    let mut data = format!("blob {}\0", bytes.len()).into_bytes();
    data.extend_from_slice(bytes);
    sha1(&data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `bytes` are the blob `want`, also when the file was checked out with
/// Windows line endings (git's `autocrlf` turns the committed `\n` into `\r\n`).
pub fn matches(bytes: &[u8], want: &str) -> bool {
    if id(bytes) == want {
        return true;
    }
    bytes.contains(&b'\r') && id(&crlf_to_lf(bytes)) == want
}

fn crlf_to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if !(b == b'\r' && bytes.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

/// SHA-1 (FIPS 180-4). Used to name content, not to protect it.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&(data.len() as u64).wrapping_mul(8).to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, &word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(word);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, t);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_the_ones_git_gives() {
        // `printf '' | git hash-object --stdin` and `echo hello | git hash-object --stdin`
        assert_eq!(id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
        assert_eq!(id(b"hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
    }

    #[test]
    fn sha1_passes_the_standard_test_vectors() {
        let hex =
            |d: [u8; 20]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        // Two blocks: the padding spills into a second 64-byte block.
        assert_eq!(
            hex(sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn a_file_checked_out_with_windows_line_endings_still_matches() {
        let committed = id(b"fn main() {}\n");
        assert!(matches(b"fn main() {}\r\n", &committed));
        assert!(!matches(b"fn main() { loop {} }\r\n", &committed));
    }
}
