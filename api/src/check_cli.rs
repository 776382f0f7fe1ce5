//! `verity check`: runs a check on local files or stored dataset versions, with a progress
//! bar on standard error, and prints the report.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context as _, bail};
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use serde_json::{Value, json};
use verity_monitor::check::{CheckOutcome, CheckSpec, NoProgress, Progress, Status, run_check};
use verity_monitor::source::{Limits, Session, Source};
use verity_store::DataFormat;

use crate::checks::{self, Inputs, Origin};
use crate::config::CheckArgs;

/// Runs the command; returns the check's status.
pub async fn check_command(args: CheckArgs) -> anyhow::Result<Status> {
    let mut config = match &args.config {
        Some(text) => parse_config(text)?,
        None => json!({}),
    };
    let Some(object) = config.as_object_mut() else {
        bail!("--config must be a JSON object");
    };
    object.insert("kind".into(), Value::String(args.kind.clone()));
    let spec = CheckSpec::from_json("--config", &config)?;
    if spec.needs_reference() != args.reference.is_some() {
        bail!(
            "a {} check {} --reference",
            spec.kind(),
            if spec.needs_reference() {
                "needs"
            } else {
                "takes no"
            }
        );
    }
    let bar = ProgressBar::new(!args.quiet && std::io::stderr().is_terminal());
    let progress: &dyn Progress = if args.quiet { &NoProgress } else { &bar };
    let started = Instant::now();
    let (outcome, report_id) = match &args.project {
        Some(project) => run_stored(&args, project, &spec, progress).await?,
        None => (run_files(&args, &spec, progress).await?, None),
    };
    bar.finish();
    let status = outcome.status();
    if args.json {
        let mut out = serde_json::to_value(&outcome)?;
        if let (Some(id), Some(map)) = (report_id, out.as_object_mut()) {
            map.insert("report_id".into(), json!(id));
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{}: {}", status, outcome.summary());
        if let Some(id) = report_id {
            println!("stored as report {id}");
        }
        eprintln!("took {:.2} s", started.elapsed().as_secs_f64());
    }
    Ok(status)
}

/// `--config`: inline JSON or `@path`.
pub(crate) fn parse_config(text: &str) -> anyhow::Result<Value> {
    let text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => text.to_owned(),
    };
    serde_json::from_str(&text).context("--config is not valid JSON")
}

/// A local file as a source read through a file-system store rooted at `/`.
fn file_source(path: &str) -> anyhow::Result<Source> {
    let absolute = std::fs::canonicalize(path).with_context(|| format!("cannot open {path}"))?;
    if !absolute.is_file() {
        bail!("{path} is not a file");
    }
    let format = match DataFormat::from_file_name(path) {
        Some(format) => format,
        None => sniff(&absolute)?,
    };
    let key = absolute
        .to_str()
        .with_context(|| format!("{path}: the path is not UTF-8"))?
        .trim_start_matches('/')
        .to_owned();
    Ok(Source { key, format })
}

/// Parquet files start with `PAR1`; anything else is read as CSV.
fn sniff(path: &std::path::Path) -> anyhow::Result<DataFormat> {
    let mut head = [0u8; 4];
    let mut file = std::fs::File::open(path)?;
    let read = std::io::Read::read(&mut file, &mut head)?;
    Ok(if read == 4 && &head == b"PAR1" {
        DataFormat::Parquet
    } else {
        DataFormat::Csv
    })
}

async fn run_files(
    args: &CheckArgs,
    spec: &CheckSpec,
    progress: &dyn Progress,
) -> anyhow::Result<CheckOutcome> {
    let root: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new());
    let session = Session::new(root)?;
    let current = file_source(&args.current)?;
    let reference = args.reference.as_deref().map(file_source).transpose()?;
    Ok(run_check(&session, spec, &current, reference.as_ref(), progress).await?)
}

/// `NAME` or `NAME@VERSION`.
pub(crate) fn dataset_ref(text: &str) -> anyhow::Result<(&str, Option<i64>)> {
    match text.rsplit_once('@') {
        Some((name, version)) => {
            let version = version
                .parse::<i64>()
                .with_context(|| format!("'{text}': the version after @ must be a number"))?;
            Ok((name, Some(version)))
        }
        None => Ok((text, None)),
    }
}

async fn run_stored(
    args: &CheckArgs,
    project: &str,
    spec: &CheckSpec,
    progress: &dyn Progress,
) -> anyhow::Result<(CheckOutcome, Option<i64>)> {
    let store = crate::open_migrated(&args.storage).await?;
    let version = |text: String| {
        let store = store.clone();
        async move {
            let (name, version) = dataset_ref(&text)?;
            anyhow::Ok(checks::version(&store, project, name, version).await?)
        }
    };
    let current = version(args.current.clone()).await?;
    let reference = match &args.reference {
        Some(text) => Some(version(text.clone()).await?),
        None => None,
    };
    let inputs = Inputs { current, reference };
    let (outcome, duration_ms) =
        checks::run(&store, spec, &inputs, Limits::default(), progress).await?;
    let report_id = if args.record {
        let new = checks::report_of(spec, &inputs, &Origin::manual(), &outcome, duration_ms);
        Some(store.add_report(&new, &crate::admin::cli_actor()).await?.id)
    } else {
        None
    };
    store.close().await;
    Ok((outcome, report_id))
}

/// A one-line progress bar on standard error: phase, bar, percentage and elapsed time.
pub(crate) struct ProgressBar {
    enabled: bool,
    state: Mutex<BarState>,
}

struct BarState {
    phase: String,
    total: u64,
    done: u64,
    started: Instant,
    last_draw: Option<Instant>,
}

impl ProgressBar {
    pub(crate) fn new(enabled: bool) -> Self {
        Self {
            enabled,
            state: Mutex::new(BarState {
                phase: String::new(),
                total: 0,
                done: 0,
                started: Instant::now(),
                last_draw: None,
            }),
        }
    }

    fn draw(state: &BarState) {
        const WIDTH: usize = 30;
        let fraction = if state.total == 0 {
            0.0
        } else {
            (state.done as f64 / state.total as f64).min(1.0)
        };
        let filled = (fraction * WIDTH as f64).round() as usize;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{:<10} [{}{}] {:>5.1}% {:>6.1}s",
            state.phase,
            "#".repeat(filled),
            "-".repeat(WIDTH - filled),
            fraction * 100.0,
            state.started.elapsed().as_secs_f64()
        );
        let _ = err.flush();
    }

    pub(crate) fn finish(&self) {
        if self.enabled {
            eprintln!();
        }
    }
}

impl Progress for ProgressBar {
    fn start(&self, phase: &str, total: u64) {
        if !self.enabled {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.phase = phase.to_owned();
        state.total = total;
        state.done = 0;
        Self::draw(&state);
        state.last_draw = Some(Instant::now());
    }

    fn advance(&self, units: u64) {
        if !self.enabled {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.done = state.done.saturating_add(units);
        // Redraw at most ten times a second, and at the end of a phase.
        let due = state
            .last_draw
            .is_none_or(|at| at.elapsed().as_millis() >= 100);
        if due || state.done >= state.total {
            Self::draw(&state);
            state.last_draw = Some(Instant::now());
        }
    }
}
