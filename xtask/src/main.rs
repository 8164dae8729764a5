//! `cargo xtask`: the course runner.
//!
//! One subcommand per task, one handler per subcommand. The handlers are thin:
//! they find the chapter, call the modules that do the work, and print. Each
//! module has one concern:
//!
//! | module      | concern                                                      |
//! |-------------|--------------------------------------------------------------|
//! | `workspace` | where the repository, target dir and state file are          |
//! | `chapter`   | finding chapters and reading their cards (`exercise.toml`)   |
//! | `process`   | running a command, echoing it, with an optional timeout      |
//! | `cargo`     | building tests and benches, reading cargo's JSON messages    |
//! | `libtest`   | listing and running one test, reading libtest's output       |
//! | `checks`    | running a chapter's checks and collecting verdicts           |
//! | `bench`     | the quick criterion run and the gate's ratio                 |
//! | `variant`   | scratch crates for the solution and each decoy               |
//! | `decoy`     | reading decoys and applying their edits                      |
//! | `progress`  | the learner's state file, status and hints                   |
//! | `watch`     | checking again on every save                                 |
//! | `pristine`  | the chapters as given: edited checks, originals for reset    |
//! | `blob`      | git blob ids (SHA-1), so the above needs no git              |
//! | `reset`     | restoring a chapter after backing up the learner's files     |
//! | `solution`  | the reference solution beside the learner's code             |
//! | `diff`      | a line diff (Myers) in unified format                        |
//! | `ui`        | everything printed: verdict lines, colour, wrapping          |
//! | `book`      | building and serving the book                                |
//! | `verify`    | the maintainers' proof that every chapter holds              |
//! | `mutants`   | cargo-mutants over a solution, survivors against a list      |
//! | `soak`      | a chapter's verdicts repeated, on busy cores: do they flip?  |

mod bench;
mod blob;
mod book;
mod cargo;
mod chapter;
mod checks;
mod decoy;
mod diff;
mod libtest;
mod mutants;
mod pristine;
mod process;
mod progress;
mod reset;
mod soak;
mod solution;
mod ui;
mod variant;
mod verify;
mod watch;
mod workspace;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::chapter::Chapter;
use crate::workspace::Workspace;

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
    /// Build the book; with --open, serve it on 127.0.0.1 and print the address.
    Book {
        /// Serve the built book and print its address.
        #[arg(long)]
        open: bool,
        /// The port to serve on (with --open).
        #[arg(long, default_value_t = 3000)]
        port: u16,
    },
    /// Maintainers and CI: prove every chapter holds (starters fail, solutions
    /// pass, decoys are caught, gates hold) and the project is clean.
    Verify {
        /// Only these chapters (default: all).
        chapters: Vec<String>,
        /// Also the slower proofs: cargo-mutants over every solution and a
        /// soak of every chapter's verdicts with every core busy.
        #[arg(long)]
        full: bool,
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
    /// Maintainers: record chapters' starters and checks in xtask/pristine.txt
    /// after changing them on purpose.
    Pristine {
        /// Only these chapters (default: all).
        chapters: Vec<String>,
    },
}

fn main() -> ExitCode {
    restore_default_sigpipe();
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
    pristine::remember(&ws);
    let find = |query: &str, command: &str| Chapter::find(&ws, query, command);
    match cli.command {
        None | Some(Command::List) => progress::show_status(&ws),
        Some(Command::Check { chapter }) => {
            checks::check_command(&ws, &find(&chapter, "check")?)
        }
        Some(Command::Hint { chapter }) => {
            progress::hint_command(&ws, &find(&chapter, "hint")?)
        }
        Some(Command::Watch { chapter, manual }) => {
            watch::watch_command(&ws, &find(&chapter, "watch")?, manual)
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
        Some(Command::Book { open, port }) => book::book_command(&ws, open, port),
        Some(Command::Verify { chapters, full }) => {
            verify::verify_command(&ws, &chapters, full)
        }
        Some(Command::Mutants { chapter, jobs, re }) => mutants::mutants_command(
            &ws,
            &find(&chapter, "mutants")?,
            jobs,
            re.as_deref(),
        ),
        Some(Command::Soak {
            chapter,
            runs,
            busy,
        }) => soak::soak_command(&ws, &find(&chapter, "soak")?, runs, busy),
        Some(Command::Pristine { chapters }) => {
            let chapters = if chapters.is_empty() {
                Chapter::all(&ws)?
            } else {
                chapters
                    .iter()
                    .map(|q| find(q, "pristine"))
                    .collect::<Result<_>>()?
            };
            pristine::pristine_command(&ws, &chapters)
        }
    }
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
