//! `cargo xtask`: the course runner.
//!
//! One subcommand per task, one handler per subcommand. The modules stand in
//! three layers, and imports only point down (`layers.rs` checks it):
//!
//! - `commands`: one module per command (check, hint, watch, reset, solution,
//!   bench, book, verify, mutants, soak, trial for `try`, list, pristine,
//!   and for workshops report, doctor, debrief, bundle);
//! - `engine`: what commands share (chapter, subject, cargo, libtest, checks,
//!   bench, variant, decoy, progress, pristine, book, mutants, soak, bundle);
//! - `ground`: what knows nothing of chapters (workspace, process, ui, blob,
//!   files, archive).
//!
//! A command finds the chapter, asks the engine for the work, and prints its
//! verdict through `ui`. `main` only parses the command line and wires the
//! commands together. ARCHITECTURE.md has each module's concern and the data
//! flow of each command.

mod commands;
mod engine;
#[cfg(test)]
mod fixture;
mod ground;
#[cfg(test)]
mod layers;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::commands::{
    bench, book, bundle, check, debrief, doctor, figures, hint, list, mutants, panel,
    pristine, report, reset, soak, solution, trial, verify, watch,
};
use crate::engine::chapter::Chapter;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "The course runner: check your exercises, read the book, verify the course.",
    after_help = "Start with `cargo xtask` (no arguments): it shows where you are."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Every chapter with its state, and the command to run next.
    List,
    /// Build a chapter, run its checks, then (all passing) its quick bench.
    Check {
        /// The chapter: 2, 02, ch02 or ch02-measure.
        chapter: String,
    },
    /// The next hint for a chapter, one more each time.
    Hint {
        /// The chapter: 2, 02, ch02 or ch02-measure.
        chapter: String,
    },
    /// Check a chapter again every time you save (Enter checks now, q quits).
    Watch {
        /// The chapter: 2, 02, ch02 or ch02-measure.
        chapter: String,
        /// Check only when you press Enter (where saves go unnoticed).
        #[arg(long)]
        manual: bool,
    },
    /// Put a chapter back as the course gave it; your files are backed up first.
    Reset {
        /// The chapter: 2, 02, ch02 or ch02-measure.
        chapter: String,
        /// Do not ask before resetting.
        #[arg(long, short)]
        yes: bool,
        /// Only the checks (tests/, benches/, exercise.toml); keep src/ as it is.
        #[arg(long)]
        checks: bool,
    },
    /// The reference solution beside your code, once the chapter passes.
    Solution {
        /// The chapter: 2, 02, ch02 or ch02-measure.
        chapter: String,
        /// Show it even though the chapter has not passed yet.
        #[arg(long)]
        force: bool,
    },
    /// The full criterion run of a chapter's benches, with the HTML report.
    Bench {
        /// The chapter: 2, 02, ch02 or ch02-measure.
        chapter: String,
    },
    /// Build the book; with --open, serve it on 127.0.0.1 and open your
    /// browser (pages reload when a book source changes).
    Book {
        /// Serve the built book and open it in your browser.
        #[arg(long, conflicts_with = "serve")]
        open: bool,
        /// Serve the built book and print its address, opening no browser.
        #[arg(long)]
        serve: bool,
        /// The first port to try (with --open or --serve); 0 takes any free one.
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Build only, printing nothing unless it fails (the server's rebuild).
        #[arg(long, hide = true, conflicts_with_all = ["open", "serve"])]
        rebuild: bool,
    },
    /// The book's live panel: your progress as JSON (run by the book's server).
    #[command(hide = true)]
    Panel,
    /// Maintainers and CI: prove every chapter holds (starters fail, solutions
    /// pass, decoys are caught, gates hold) and the project is clean. Named
    /// chapters get only their own proofs; with none, everything is proved.
    Verify {
        /// Only these chapters' proofs (default: all chapters and the project).
        chapters: Vec<String>,
        /// Also the slower proofs: cargo-mutants over every solution and a
        /// soak of every chapter's verdicts with every core busy.
        #[arg(long)]
        full: bool,
        /// Only the chapters' proofs: leave out the runner's tests,
        /// formatting, lints, the book and the originality check (the
        /// default when chapters are named).
        #[arg(long)]
        chapters_only: bool,
        /// Also the bundle test: `cargo xtask bundle` unpacked into a fresh
        /// folder with an empty cargo home and cargo's offline mode, where
        /// `cargo xtask`, `check 1`, `check 2` and `book` must work (cold
        /// builds from the vendored crates: minutes). A whole `--full`
        /// includes it.
        #[arg(long)]
        bundle: bool,
    },
    /// Maintainers: cargo-mutants over a chapter's solution with its checks as
    /// the tests; every survivor must be listed with a reason.
    Mutants {
        /// The chapter: 2, 02, ch02 or ch02-measure.
        chapter: String,
        /// Mutants built and tested at once (each needs a core).
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Only mutants whose name matches this regex (listed survivors that
        /// were not tested are then not judged).
        #[arg(long)]
        re: Option<String>,
    },
    /// Maintainers: run a chapter's checks and gate many times on the solution
    /// and the starter, and show any verdict that changed.
    Soak {
        /// The chapter: 2, 02, ch02 or ch02-measure.
        chapter: String,
        /// How many times to run each.
        #[arg(long, default_value_t = 30)]
        runs: usize,
        /// Keep every core busy with a spinning thread meanwhile.
        #[arg(long)]
        busy: bool,
    },
    /// Reviewers: run a chapter's checks against wrong solutions (folders
    /// holding a src/ laid over the starter, or decoy files) and say which
    /// checks rejected each.
    Try {
        /// The chapter: 2, 02, ch02 or ch02-measure.
        chapter: String,
        /// The wrong solutions: folders with a src/, or decoy .toml files.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
    },
    /// Workshops: is this machine ready? Toolchain, disk, every chapter and
    /// the book built, and all of it again with cargo's offline mode.
    Doctor,
    /// Workshops: one archive with the course, every crate vendored and the
    /// built book, for a room with no network.
    Bundle {
        /// Where to write it (default: target/bundle/scaling-rust.tar.gz).
        #[arg(long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
        /// Then unpack it into a fresh folder with an empty cargo home and
        /// cargo's offline mode, and run `cargo xtask`, `check 1`, `check 2`
        /// and `book` there (cold builds: many minutes).
        #[arg(long = "try")]
        try_it: bool,
    },
    /// Workshops: a chapter's plausible wrong solutions, each mistake in one
    /// sentence with the check that catches it, for the debrief.
    Debrief {
        /// The chapter: 2, 02, ch02 or ch02-measure.
        chapter: String,
        /// Show it even though the chapter has not passed yet (an
        /// instructor preparing a session).
        #[arg(long)]
        force: bool,
    },
    /// Your progress over every chapter, for the workshop's instructor: state,
    /// checks passing, hints seen, the latest bench ratio.
    Report {
        /// One line to paste into the room's shared sheet
        /// (`ch01 ✓ ch02 9/9 ch05 7/10 …`).
        #[arg(long)]
        short: bool,
        /// Also write the report as a Markdown table to this file.
        #[arg(long, value_name = "FILE")]
        markdown: Option<std::path::PathBuf>,
    },
    /// Maintainers: measure the book's figures against the reference
    /// solutions and draw them into book/src/<chapter>/figures/ (SVG).
    Figures {
        /// Only these chapters (default: every chapter with figures).
        chapters: Vec<String>,
        /// Write nothing; fail where the book's figures differ from a fresh
        /// measurement (as `verify` does).
        #[arg(long)]
        check: bool,
    },
    /// Maintainers: record chapters' starters and checks in xtask/pristine.txt
    /// after changing them on purpose.
    Pristine {
        /// Only these chapters (default: all).
        chapters: Vec<String>,
    },
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    ui::init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            ui::error(&err);
            ExitCode::FAILURE
        }
    }
}

/// Runs one command; `Ok(false)` means it ran and its verdict is a failure.
fn run(cli: Cli) -> Result<bool> {
    let ws = Workspace::locate()?;
    // Keep a copy of every starter and check file still as given, so that
    // `reset` works even without git (see pristine.rs).
    engine::pristine::remember(&ws);
    let find = |query: &str, command: &str| Chapter::find(&ws, query, command);
    match cli.command {
        None | Some(Command::List) => list::list_command(&ws),
        Some(Command::Check { chapter }) => {
            check::check_command(&ws, &find(&chapter, "check")?)
        }
        Some(Command::Hint { chapter }) => {
            hint::hint_command(&ws, &find(&chapter, "hint")?)
        }
        Some(Command::Watch { chapter, manual }) => {
            let chapter = find(&chapter, "watch")?;
            let check = || check::check_command(&ws, &chapter);
            watch::watch_command(&ws, &chapter, manual, check)
        }
        Some(Command::Reset {
            chapter,
            yes,
            checks,
        }) => reset::reset_command(&ws, &find(&chapter, "reset")?, yes, checks),
        Some(Command::Solution { chapter, force }) => {
            solution::solution_command(&ws, &find(&chapter, "solution")?, force)
        }
        Some(Command::Bench { chapter }) => {
            bench::bench_command(&ws, &find(&chapter, "bench")?)
        }
        Some(Command::Book {
            open,
            serve,
            port,
            rebuild,
        }) => {
            let mode = match (open, serve, rebuild) {
                (true, _, _) => book::Mode::Open,
                (_, true, _) => book::Mode::Serve,
                (_, _, true) => book::Mode::Rebuild,
                _ => book::Mode::Build,
            };
            book::book_command(&ws, mode, port)
        }
        Some(Command::Panel) => panel::panel_command(&ws),
        Some(Command::Verify {
            chapters,
            full,
            chapters_only,
            bundle,
        }) => {
            let project = !chapters_only && chapters.is_empty();
            let scope = verify::Scope {
                project,
                slow: full,
                bundle: bundle || (full && project),
            };
            verify::verify_command(&ws, &chapters, scope)
        }
        Some(Command::Mutants { chapter, jobs, re }) => mutants::mutants_command(
            &ws,
            &find(&chapter, "mutants")?,
            jobs,
            re.as_deref(),
        ),
        Some(Command::Try { chapter, paths }) => {
            // Absolute, as the scratch crates are written elsewhere.
            let paths: Vec<_> = paths
                .iter()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                .collect();
            trial::try_command(&ws, &find(&chapter, "try")?, &paths)
        }
        Some(Command::Soak {
            chapter,
            runs,
            busy,
        }) => soak::soak_command(&ws, &find(&chapter, "soak")?, runs, busy),
        Some(Command::Doctor) => doctor::doctor_command(&ws),
        Some(Command::Bundle { output, try_it }) => {
            let output = output.map(|p| std::path::absolute(&p).unwrap_or(p));
            bundle::bundle_command(&ws, output.as_deref(), try_it)
        }
        Some(Command::Debrief { chapter, force }) => {
            debrief::debrief_command(&ws, &find(&chapter, "debrief")?, force)
        }
        Some(Command::Report { short, markdown }) => {
            report::report_command(&ws, short, markdown.as_deref())
        }
        Some(Command::Pristine { chapters }) => {
            pristine::pristine_command(&ws, &chapters_named(&ws, &chapters)?)
        }
        Some(Command::Figures { chapters, check }) => {
            figures::figures_command(&ws, &chapters_named(&ws, &chapters)?, check)
        }
    }
}

/// The chapters named on the command line; every chapter when none is.
fn chapters_named(ws: &Workspace, queries: &[String]) -> Result<Vec<Chapter>> {
    if queries.is_empty() {
        return Chapter::all(ws);
    }
    queries
        .iter()
        .map(|q| Chapter::find(ws, q, "pristine"))
        .collect()
}

/// `cargo xtask | head` should end quietly, as any command-line tool does. Rust
/// ignores SIGPIPE, so printing to a closed pipe would panic instead; putting
/// the default action back makes the process end when the reader goes away.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    {
        const SIGPIPE: i32 = 13;
        const SIG_DFL: usize = 0;
        unsafe extern "C" {
            fn signal(signum: i32, handler: usize) -> usize;
        }
        // SAFETY: setting a signal's disposition to SIG_DFL at the start of
        // main, before any thread exists, has no memory-safety implications.
        unsafe {
            signal(SIGPIPE, SIG_DFL);
        }
    }
}
