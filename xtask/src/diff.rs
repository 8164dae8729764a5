//! A line diff, for `solution`: the learner's file beside the reference.
//!
//! Myers' algorithm ("An O(ND) Difference Algorithm", 1986) finds a shortest
//! edit script: the fewest lines deleted and inserted to turn one text into the
//! other, which is also what reads best. It keeps one array of furthest-reaching
//! paths per edit distance D, so time and memory grow with the size of the
//! texts times D; for files of a few hundred lines that is nothing. Lines the
//! two texts share at the start and end are set aside first. The output is the
//! familiar unified format (`@@ -a,b +c,d @@`, three lines of context).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Same,
    /// Only in the old text (the learner's).
    Removed,
    /// Only in the new text (the reference).
    Added,
}

/// The lines of `old` and `new` as one edit script.
pub fn lines<'a>(old: &'a str, new: &'a str) -> Vec<(Op, &'a str)> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let mut script: Vec<(Op, &str)> =
        a[..prefix].iter().map(|l| (Op::Same, *l)).collect();
    script.extend(myers(
        &a[prefix..a.len() - suffix],
        &b[prefix..b.len() - suffix],
    ));
    script.extend(a[a.len() - suffix..].iter().map(|l| (Op::Same, *l)));
    script
}

fn myers<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(Op, &'a str)> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = n + m;
    let offset = max + 1;
    let at = |k: isize| (k + offset) as usize;
    // v[k]: the furthest x reached on diagonal k (y = x - k).
    let mut v = vec![0isize; (2 * max + 3) as usize];
    let mut trace: Vec<Vec<isize>> = Vec::new();
    'search: for d in 0..=max {
        trace.push(v.clone());
        for k in (-d..=d).step_by(2) {
            let mut x = if k == -d || (k != d && v[at(k - 1)] < v[at(k + 1)]) {
                v[at(k + 1)] // step down: insert b[y]
            } else {
                v[at(k - 1)] + 1 // step right: delete a[x]
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[at(k)] = x;
            if x >= n && y >= m {
                break 'search;
            }
        }
    }
    // Walk back from (n, m) through the saved arrays, one edit per step.
    let mut script = Vec::new();
    let (mut x, mut y) = (n, m);
    for (d, v) in trace.iter().enumerate().rev() {
        let d = d as isize;
        let k = x - y;
        let prev_k = if k == -d || (k != d && v[at(k - 1)] < v[at(k + 1)]) {
            k + 1
        } else {
            k - 1
        };
        let prev_x = v[at(prev_k)];
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            script.push((Op::Same, a[(x - 1) as usize]));
            x -= 1;
            y -= 1;
        }
        if d > 0 {
            if x == prev_x {
                script.push((Op::Added, b[(y - 1) as usize]));
            } else {
                script.push((Op::Removed, a[(x - 1) as usize]));
            }
        }
        (x, y) = (prev_x, prev_y);
    }
    script.reverse();
    script
}

/// One `@@ … @@` block: a run of changes with up to `context` lines around.
#[derive(Debug, PartialEq, Eq)]
pub struct Hunk<'a> {
    pub old_start: usize,
    pub old_len: usize,
    pub new_start: usize,
    pub new_len: usize,
    pub lines: Vec<(Op, &'a str)>,
}

impl Hunk<'_> {
    pub fn header(&self) -> String {
        format!(
            "@@ -{},{} +{},{} @@",
            self.old_start, self.old_len, self.new_start, self.new_len
        )
    }
}

/// The hunks of a unified diff; empty when the texts have the same lines.
pub fn unified<'a>(old: &'a str, new: &'a str, context: usize) -> Vec<Hunk<'a>> {
    let script = lines(old, new);
    let changes: Vec<usize> = (0..script.len())
        .filter(|&i| script[i].0 != Op::Same)
        .collect();
    let mut hunks = Vec::new();
    let mut i = 0;
    while i < changes.len() {
        let start = changes[i].saturating_sub(context);
        let mut end = (changes[i] + context).min(script.len() - 1);
        i += 1;
        // Merge the next change when the context windows touch.
        while i < changes.len() && changes[i].saturating_sub(context) <= end + 1 {
            end = (changes[i] + context).min(script.len() - 1);
            i += 1;
        }
        let before = &script[..start];
        let old_before = before.iter().filter(|(op, _)| *op != Op::Added).count();
        let new_before = before.iter().filter(|(op, _)| *op != Op::Removed).count();
        let body = script[start..=end].to_vec();
        let old_len = body.iter().filter(|(op, _)| *op != Op::Added).count();
        let new_len = body.iter().filter(|(op, _)| *op != Op::Removed).count();
        hunks.push(Hunk {
            // Unified diffs number an empty side by the line before it.
            old_start: old_before + usize::from(old_len > 0),
            old_len,
            new_start: new_before + usize::from(new_len > 0),
            new_len,
            lines: body,
        });
    }
    hunks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applying the script to the old text must give the new one.
    fn check_script(old: &str, new: &str) {
        let script = lines(old, new);
        let rebuilt_old: Vec<&str> = script
            .iter()
            .filter(|(op, _)| *op != Op::Added)
            .map(|(_, l)| *l)
            .collect();
        let rebuilt_new: Vec<&str> = script
            .iter()
            .filter(|(op, _)| *op != Op::Removed)
            .map(|(_, l)| *l)
            .collect();
        assert_eq!(rebuilt_old, old.lines().collect::<Vec<_>>());
        assert_eq!(rebuilt_new, new.lines().collect::<Vec<_>>());
    }

    #[test]
    fn the_edit_script_rebuilds_both_texts() {
        let cases = [
            ("", ""),
            ("a\nb\nc\n", "a\nb\nc\n"),
            ("", "a\nb\n"),
            ("a\nb\n", ""),
            ("a\nb\nc\nd\n", "a\nx\nc\ny\nd\n"),
            ("x\na\nb\n", "a\nb\nx\n"),
            ("a\nb\nc\na\nb\nb\na\n", "c\nb\na\nb\na\nc\n"),
        ];
        for (old, new) in cases {
            check_script(old, new);
        }
    }

    #[test]
    fn the_script_is_a_shortest_one() {
        // The classic example from Myers' paper: ABCABBA → CBABAC takes 5 edits.
        let old = "A\nB\nC\nA\nB\nB\nA\n";
        let new = "C\nB\nA\nB\nA\nC\n";
        let edits = lines(old, new)
            .iter()
            .filter(|(op, _)| *op != Op::Same)
            .count();
        assert_eq!(edits, 5);
    }

    #[test]
    fn hunks_carry_three_lines_of_context_and_unified_line_numbers() {
        let old: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let new = old.replace("line 10\n", "ten\n");
        let hunks = unified(&old, &new, 3);
        assert_eq!(hunks.len(), 1);
        assert_eq!(hunks[0].header(), "@@ -7,7 +7,7 @@");
        assert_eq!(hunks[0].lines[3], (Op::Removed, "line 10"));
        assert_eq!(hunks[0].lines[4], (Op::Added, "ten"));
    }

    #[test]
    fn changes_far_apart_make_separate_hunks_and_near_ones_merge() {
        let old: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let far = old
            .replace("line 5\n", "five\n")
            .replace("line 25\n", "x\n");
        assert_eq!(unified(&old, &far, 3).len(), 2);
        let near = old
            .replace("line 5\n", "five\n")
            .replace("line 11\n", "x\n");
        assert_eq!(unified(&old, &near, 3).len(), 1);
        assert!(unified(&old, &old, 3).is_empty());
    }

    #[test]
    fn a_new_file_is_numbered_from_zero_on_the_empty_side() {
        let hunks = unified("", "a\nb\n", 3);
        assert_eq!(hunks[0].header(), "@@ -0,0 +1,2 @@");
    }
}
